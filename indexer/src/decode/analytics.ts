import { ROLE_EVENTS, type EventSpec } from './spec.ts';

export const ANALYTICS_EVENTS: Record<string, EventSpec> = {
  ...ROLE_EVENTS,
  progress_recorded: {
    topics: [
      { name: 'student', type: 'address' },
      { name: 'course_id', type: 'bytes16' },
    ],
    data: {
      map: [
        { name: 'percent', type: 'u32' },
        { name: 'previous', type: 'u32' },
        { name: 'recorder', type: 'address' },
      ],
    },
  },
  course_completed: {
    topics: [
      { name: 'student', type: 'address' },
      { name: 'course_id', type: 'bytes16' },
    ],
    data: { map: [{ name: 'recorder', type: 'address' }] },
  },
};

export interface ProgressRecorded {
  event: 'progress_recorded';
  student: string;
  course_id: string;
  percent: number;
  previous: number;
  recorder: string;
}

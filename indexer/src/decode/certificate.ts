import { ROLE_EVENTS, type EventSpec } from './spec.ts';

export const CERTIFICATE_EVENTS: Record<string, EventSpec> = {
  ...ROLE_EVENTS,
  certificate_issued: {
    topics: [
      { name: 'id', type: 'u64' },
      { name: 'student', type: 'address' },
    ],
    data: {
      map: [
        { name: 'course_id', type: 'bytes16' },
        { name: 'metadata_hash', type: 'bytes32' },
        { name: 'issuer', type: 'address' },
      ],
    },
  },
  certificate_revoked: {
    topics: [
      { name: 'id', type: 'u64' },
      { name: 'student', type: 'address' },
    ],
    data: {
      map: [
        { name: 'reason', type: 'string' },
        { name: 'issuer', type: 'address' },
      ],
    },
  },
};

import Type from 'typebox';
import { UuidSchema } from './common.ts';
import { CourseStatusSchema } from './courses.ts';

const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const EnrolmentStatusSchema = Type.Union([Type.Literal('active'), Type.Literal('unenrolled')]);

export const ResumeLessonSchema = Type.Object({
  id: UuidSchema,
  module_id: UuidSchema,
  title: Type.String(),
});

export const EnrolmentSchema = Type.Object({
  course: Type.Object({
    id: UuidSchema,
    slug: Type.String(),
    title: Type.String(),
    status: CourseStatusSchema,
    cover_url: Nullable(Type.String()),
  }),
  status: EnrolmentStatusSchema,
  enrolled_at: DateTime,
  unenrolled_at: Nullable(DateTime),
  percent: Type.Integer({
    minimum: 0,
    maximum: 100,
    description: 'Computed by the server from completed lessons',
  }),
  completed_lessons: Type.Integer(),
  total_lessons: Type.Integer(),
  completed_at: Nullable(DateTime),
  last_activity_at: DateTime,
  last_lesson_id: Nullable(UuidSchema),
  resume: Nullable(ResumeLessonSchema),
});

export const EnrolmentListQuerySchema = Type.Object(
  {
    status: Type.Optional(EnrolmentStatusSchema),
    cursor: Type.Optional(Type.String({ maxLength: 300 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  },
  { additionalProperties: false },
);

export const EnrolmentPageSchema = Type.Object({
  enrolments: Type.Array(EnrolmentSchema),
  next_cursor: Nullable(Type.String()),
});

export const LessonStateSchema = Type.Object({
  lesson_id: UuidSchema,
  module_id: UuidSchema,
  title: Type.String(),
  completed: Type.Boolean(),
  open: Type.Boolean(),
  locked_by: Nullable(
    Type.Union([
      Type.Object({ reason: Type.Literal('sequential'), lesson_id: UuidSchema }),
      Type.Object({ reason: Type.Literal('prerequisites'), module_ids: Type.Array(UuidSchema) }),
    ]),
  ),
});

export const EnrolmentDetailSchema = Type.Intersect([
  EnrolmentSchema,
  Type.Object({ lessons: Type.Array(LessonStateSchema) }),
]);

export const ResumeSchema = Type.Object({
  course_id: UuidSchema,
  completed: Type.Boolean({ description: 'Every lesson is done' }),
  lesson: Nullable(ResumeLessonSchema),
});

export const CourseIdParamsSchema = Type.Object({ courseId: UuidSchema }, { additionalProperties: false });

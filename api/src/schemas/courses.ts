import Type, { type Static } from 'typebox';
import { UuidSchema } from './common.ts';

const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const CourseStatusSchema = Type.Union([
  Type.Literal('draft'),
  Type.Literal('published'),
  Type.Literal('archived'),
]);
export const CourseLevelSchema = Type.Union([
  Type.Literal('beginner'),
  Type.Literal('intermediate'),
  Type.Literal('advanced'),
]);
export const SlugSchema = Type.String({ pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', minLength: 1, maxLength: 100 });
export const TagSchema = Type.String({ pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', minLength: 1, maxLength: 32 });
export const LanguageSchema = Type.String({ pattern: '^[a-z]{2}$', description: 'ISO 639-1 code' });
const TitleSchema = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const HttpsUrlSchema = Type.String({ format: 'uri', pattern: '^https://', maxLength: 2000 });

/** A course is addressed by its id or its slug. */
export const CourseRefParamsSchema = Type.Object(
  {
    id: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: '^[a-z0-9-]+$',
      description: 'The course id or slug',
    }),
  },
  { additionalProperties: false },
);
export const CourseIdParamsSchema = Type.Object({ id: UuidSchema }, { additionalProperties: false });

export const RatingSchema = Type.Object({
  average: Nullable(
    Type.Number({ description: 'Mean of the visible reviews, two decimals; null without reviews' }),
  ),
  count: Type.Integer(),
});

export const InstructorSchema = Type.Object({
  id: UuidSchema,
  display_name: Type.String(),
  bio: Type.String(),
});

export const SyllabusLessonSchema = Type.Object({
  id: UuidSchema,
  title: Type.String(),
  position: Type.Integer(),
  duration_seconds: Type.Integer(),
  has_video: Type.Boolean(),
});

export const SyllabusModuleSchema = Type.Object({
  id: UuidSchema,
  title: Type.String(),
  position: Type.Integer(),
  requires: Type.Array(UuidSchema, { description: 'Modules to finish before this one opens' }),
  lessons: Type.Array(SyllabusLessonSchema),
});

export const CourseSchema = Type.Object({
  id: UuidSchema,
  slug: Type.String(),
  title: Type.String(),
  summary: Type.String(),
  description: Type.String(),
  level: CourseLevelSchema,
  language: Type.String(),
  tags: Type.Array(Type.String()),
  status: CourseStatusSchema,
  sequential: Type.Boolean(),
  cover_url: Nullable(Type.String()),
  instructor: InstructorSchema,
  rating: RatingSchema,
  lesson_count: Type.Integer(),
  total_duration_seconds: Type.Integer(),
  syllabus: Type.Array(SyllabusModuleSchema),
  created_at: DateTime,
  updated_at: DateTime,
  published_at: Nullable(DateTime),
});
export type CourseView = Static<typeof CourseSchema>;

export const CreateCourseBodySchema = Type.Object(
  {
    slug: SlugSchema,
    title: TitleSchema,
    summary: Type.Optional(Type.String({ maxLength: 1000 })),
    description: Type.Optional(Type.String({ maxLength: 50000 })),
    level: Type.Optional(CourseLevelSchema),
    language: Type.Optional(LanguageSchema),
    tags: Type.Optional(Type.Array(TagSchema, { maxItems: 10, uniqueItems: true })),
    sequential: Type.Optional(Type.Boolean()),
    cover_url: Type.Optional(HttpsUrlSchema),
  },
  { additionalProperties: false },
);
export type CreateCourseBody = Static<typeof CreateCourseBodySchema>;

export const UpdateCourseBodySchema = Type.Object(
  {
    slug: Type.Optional(SlugSchema),
    title: Type.Optional(TitleSchema),
    summary: Type.Optional(Type.String({ maxLength: 1000 })),
    description: Type.Optional(Type.String({ maxLength: 50000 })),
    level: Type.Optional(CourseLevelSchema),
    language: Type.Optional(LanguageSchema),
    tags: Type.Optional(Type.Array(TagSchema, { maxItems: 10, uniqueItems: true })),
    sequential: Type.Optional(Type.Boolean()),
    cover_url: Type.Optional(Nullable(HttpsUrlSchema)),
    status: Type.Optional(CourseStatusSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateCourseBody = Static<typeof UpdateCourseBodySchema>;

export const ModuleSchema = Type.Object({
  id: UuidSchema,
  course_id: UuidSchema,
  title: Type.String(),
  position: Type.Integer(),
  requires: Type.Array(UuidSchema),
  created_at: DateTime,
});

export const ModuleBodySchema = Type.Object({ title: TitleSchema }, { additionalProperties: false });
export const PrerequisitesBodySchema = Type.Object(
  { module_ids: Type.Array(UuidSchema, { maxItems: 100, uniqueItems: true }) },
  { additionalProperties: false },
);
export const ModuleOrderBodySchema = Type.Object(
  {
    module_ids: Type.Array(UuidSchema, {
      minItems: 1,
      maxItems: 500,
      uniqueItems: true,
      description: 'Every module of the course, in the new order',
    }),
  },
  { additionalProperties: false },
);
export const LessonOrderBodySchema = Type.Object(
  {
    lesson_ids: Type.Array(UuidSchema, {
      minItems: 1,
      maxItems: 500,
      uniqueItems: true,
      description: 'Every lesson of the module, in the new order',
    }),
  },
  { additionalProperties: false },
);

export const LessonSchema = Type.Object({
  id: UuidSchema,
  course_id: UuidSchema,
  module_id: UuidSchema,
  title: Type.String(),
  position: Type.Integer(),
  body_md: Type.String(),
  body_html: Type.String({
    description: 'body_md rendered to HTML and sanitised (no scripts, styles or event handlers)',
  }),
  video_url: Nullable(Type.String()),
  duration_seconds: Type.Integer(),
  created_at: DateTime,
  updated_at: DateTime,
});

export const CreateLessonBodySchema = Type.Object(
  {
    title: TitleSchema,
    body_md: Type.Optional(Type.String({ maxLength: 200000 })),
    video_url: Type.Optional(HttpsUrlSchema),
    duration_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
  },
  { additionalProperties: false },
);
export type CreateLessonBody = Static<typeof CreateLessonBodySchema>;

export const UpdateLessonBodySchema = Type.Object(
  {
    title: Type.Optional(TitleSchema),
    body_md: Type.Optional(Type.String({ maxLength: 200000 })),
    video_url: Type.Optional(Nullable(HttpsUrlSchema)),
    duration_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateLessonBody = Static<typeof UpdateLessonBodySchema>;

export const CourseSummarySchema = Type.Object({
  id: UuidSchema,
  slug: Type.String(),
  title: Type.String(),
  summary: Type.String(),
  level: CourseLevelSchema,
  language: Type.String(),
  tags: Type.Array(Type.String()),
  status: CourseStatusSchema,
  cover_url: Nullable(Type.String()),
  instructor: Type.Object({ id: UuidSchema, display_name: Type.String() }),
  rating: RatingSchema,
  published_at: Nullable(DateTime),
});

export const CatalogQuerySchema = Type.Object(
  {
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'Full-text search over title and summary (web-search syntax)',
      }),
    ),
    level: Type.Optional(CourseLevelSchema),
    tag: Type.Optional(TagSchema),
    language: Type.Optional(LanguageSchema),
    instructor: Type.Optional(UuidSchema),
    cursor: Type.Optional(Type.String({ maxLength: 300 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  },
  { additionalProperties: false },
);
export type CatalogQuery = Static<typeof CatalogQuerySchema>;

export const CatalogPageSchema = Type.Object({
  courses: Type.Array(CourseSummarySchema),
  next_cursor: Nullable(Type.String()),
});

export const TeachingQuerySchema = Type.Object(
  {
    status: Type.Optional(CourseStatusSchema),
    cursor: Type.Optional(Type.String({ maxLength: 300 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  },
  { additionalProperties: false },
);

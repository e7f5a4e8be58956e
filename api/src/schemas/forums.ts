import Type from 'typebox';
import { UuidSchema } from './common.ts';

const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Author = Type.Object({
  id: UuidSchema,
  display_name: Type.String(),
  staff: Type.Boolean({ description: 'The course’s instructor or an admin' }),
});
const Title = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const Body = Type.String({ minLength: 1, maxLength: 20000, pattern: '\\S' });

export const ThreadSchema = Type.Object({
  id: UuidSchema,
  course_id: UuidSchema,
  lesson_id: Nullable(UuidSchema),
  author: Author,
  title: Type.String(),
  body: Type.String(),
  pinned: Type.Boolean(),
  answer_post_id: Nullable(UuidSchema),
  reply_count: Type.Integer(),
  created_at: DateTime,
  updated_at: DateTime,
});

export const PostSchema = Type.Object({
  id: UuidSchema,
  thread_id: UuidSchema,
  author: Author,
  body: Type.String(),
  is_answer: Type.Boolean(),
  created_at: DateTime,
  updated_at: DateTime,
});

export const CreateThreadBodySchema = Type.Object(
  { title: Title, body: Body, lesson_id: Type.Optional(UuidSchema) },
  { additionalProperties: false },
);
export const UpdateThreadBodySchema = Type.Object(
  { title: Type.Optional(Title), body: Type.Optional(Body) },
  { additionalProperties: false, minProperties: 1 },
);
export const PostBodySchema = Type.Object({ body: Body }, { additionalProperties: false });
export const PinBodySchema = Type.Object({ pinned: Type.Boolean() }, { additionalProperties: false });
export const AnswerBodySchema = Type.Object(
  { post_id: Nullable(UuidSchema) },
  { additionalProperties: false },
);

export const ThreadListQuerySchema = Type.Object(
  {
    lesson_id: Type.Optional(UuidSchema),
    cursor: Type.Optional(Type.String({ maxLength: 300 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  },
  { additionalProperties: false },
);

export const ThreadPageSchema = Type.Object({
  threads: Type.Array(ThreadSchema),
  next_cursor: Nullable(Type.String()),
});
export const PostPageSchema = Type.Object({
  posts: Type.Array(PostSchema),
  next_cursor: Nullable(Type.String()),
});

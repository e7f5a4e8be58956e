import Type from 'typebox';
import { UuidSchema } from './common.ts';
import { RatingSchema } from './courses.ts';

const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Stars = Type.Integer({ minimum: 1, maximum: 5, description: '1–5 stars' });

export const ReviewSchema = Type.Object({
  id: UuidSchema,
  course_id: UuidSchema,
  author: Type.Object({ id: UuidSchema, display_name: Type.String() }),
  rating: Stars,
  body: Type.String(),
  edited: Type.Boolean(),
  created_at: DateTime,
  updated_at: DateTime,
});

export const ModeratedReviewSchema = Type.Intersect([
  ReviewSchema,
  Type.Object({ hidden: Type.Boolean(), flag_count: Type.Integer() }),
]);

export const MyReviewSchema = Type.Object({
  review: Nullable(
    Type.Intersect([
      ReviewSchema,
      Type.Object({ hidden: Type.Boolean({ description: 'Hidden by a moderator' }) }),
    ]),
  ),
  can_review: Type.Boolean({ description: 'The caller may write a review of this course now' }),
  completed_lessons: Type.Integer(),
  lessons_needed: Type.Integer({ description: 'Lessons to complete before reviewing (half the course)' }),
});

export const CreateReviewBodySchema = Type.Object(
  { rating: Stars, body: Type.Optional(Type.String({ maxLength: 5000 })) },
  { additionalProperties: false },
);
export const UpdateReviewBodySchema = Type.Object(
  { rating: Type.Optional(Stars), body: Type.Optional(Type.String({ maxLength: 5000 })) },
  { additionalProperties: false, minProperties: 1 },
);
export const FlagBodySchema = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 500, pattern: '\\S' }) },
  { additionalProperties: false },
);
export const HideBodySchema = Type.Object({ hidden: Type.Boolean() }, { additionalProperties: false });

export const ReviewPageSchema = Type.Object({
  rating: RatingSchema,
  reviews: Type.Array(ReviewSchema),
  next_cursor: Nullable(Type.String()),
});

export const FlaggedQuerySchema = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 300 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  },
  { additionalProperties: false },
);
export const FlaggedPageSchema = Type.Object({
  reviews: Type.Array(ModeratedReviewSchema),
  next_cursor: Nullable(Type.String()),
});

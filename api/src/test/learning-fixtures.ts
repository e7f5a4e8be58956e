// Small builders for courses, lessons and enrolments, written straight to the database so the
// learning tests do not depend on the course-authoring routes.
import { randomBytes } from 'node:crypto';
import type { AppContext } from '../context.ts';

export interface CourseFixture {
  courseId: string;
  moduleId: string;
  lessonIds: string[];
}

export async function createCourse(
  ctx: AppContext,
  opts: {
    instructorId: string;
    lessons?: number;
    sequential?: boolean;
    status?: 'draft' | 'published' | 'archived';
    title?: string;
  },
): Promise<CourseFixture> {
  const slug = `course-${randomBytes(5).toString('hex')}`;
  const course = await ctx.db
    .insertInto('courses')
    .values({
      instructor_id: opts.instructorId,
      slug,
      title: opts.title ?? `Soroban basics ${slug}`,
      summary: 'Learn to write Soroban contracts',
      status: opts.status ?? 'published',
      sequential: opts.sequential ?? false,
      published_at: opts.status === 'draft' ? null : new Date(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const mod = await ctx.db
    .insertInto('course_modules')
    .values({ course_id: course.id, title: 'Module 1', position: 0 })
    .returning('id')
    .executeTakeFirstOrThrow();
  const lessonIds: string[] = [];
  for (let i = 0; i < (opts.lessons ?? 4); i += 1) {
    const l = await ctx.db
      .insertInto('lessons')
      .values({
        module_id: mod.id,
        course_id: course.id,
        title: `Lesson ${i + 1}`,
        body_md: '# Hello',
        position: i,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    lessonIds.push(l.id);
  }
  return { courseId: course.id, moduleId: mod.id, lessonIds };
}

export async function enrol(ctx: AppContext, userId: string, courseId: string): Promise<void> {
  await ctx.db.insertInto('enrolments').values({ user_id: userId, course_id: courseId }).execute();
}

export async function count(
  ctx: AppContext,
  table: 'intents' | 'certificates' | 'notifications' | 'lesson_completions' | 'audit_log',
  where: Record<string, string> = {},
): Promise<number> {
  let q = ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n'));
  for (const [k, v] of Object.entries(where)) q = q.where(k as never, '=', v as never);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

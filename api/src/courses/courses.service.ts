import type { Selectable } from 'kysely';
import type { Courses, UserRole } from '@starling/migrations';
import type { AppContext } from '../context.ts';
import type { Db } from '../audit/audit.repository.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import type { Principal } from '../auth/principal.ts';
import { badRequest, conflict, notFound, unprocessable } from '../errors.ts';
import type { CatalogCache } from '../catalog/catalog.cache.ts';
import type {
  CourseView,
  CreateCourseBody,
  CreateLessonBody,
  UpdateCourseBody,
  UpdateLessonBody,
} from '../schemas/courses.ts';
import { renderMarkdown } from './markdown.ts';
import {
  countCompletionsOf,
  countLessons,
  deleteLesson,
  deleteModule,
  findCourse,
  findCourseByRef,
  findInstructor,
  findLesson,
  findModule,
  insertCourse,
  insertLesson,
  insertModule,
  listCoursesOfInstructor,
  listLessonIdsOfModule,
  listLessonsOfCourse,
  listModuleIdsOfCourse,
  listModules,
  listPrerequisites,
  lockCourse,
  nextLessonPosition,
  nextModulePosition,
  renameModule,
  replacePrerequisites,
  setPositions,
  touchCourse,
  updateCourse,
  updateLesson,
} from './courses.repository.ts';
import { decodeCursor, encodeCursor } from '../catalog/cursor.ts';
import { countActiveEnrolments } from '../enrolments/enrolments.repository.ts';

type UserPrincipal = Extract<Principal, { kind: 'user' }>;
export type CourseRow = Selectable<Courses>;
/** Who is looking: a signed-in user, or nobody (anonymous or an API key reading public data). */
export type Viewer = { userId: string; role: UserRole } | null;

export function isStaff(viewer: Viewer, course: { instructor_id: string }): boolean {
  return !!viewer && (viewer.role === 'admin' || viewer.userId === course.instructor_id);
}

export function ratingOf(c: { rating_sum: number; rating_count: number }) {
  return {
    average: c.rating_count ? Math.round((c.rating_sum / c.rating_count) * 100) / 100 : null,
    count: c.rating_count,
  };
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === constraint;
}

/** Finds any cycle in module → required-module edges. */
function hasCycle(edges: ReadonlyMap<string, readonly string[]>): boolean {
  const state = new Map<string, 1 | 2>();
  const visit = (n: string): boolean => {
    const s = state.get(n);
    if (s === 1) return true;
    if (s === 2) return false;
    state.set(n, 1);
    for (const m of edges.get(n) ?? []) if (visit(m)) return true;
    state.set(n, 2);
    return false;
  };
  return [...edges.keys()].some(visit);
}

function toLesson(l: {
  id: string;
  course_id: string;
  module_id: string;
  title: string;
  position: number;
  body_md: string;
  video_url: string | null;
  duration_seconds: number;
  created_at: Date;
  updated_at: Date;
}) {
  return {
    id: l.id,
    course_id: l.course_id,
    module_id: l.module_id,
    title: l.title,
    position: l.position,
    body_md: l.body_md,
    body_html: renderMarkdown(l.body_md),
    video_url: l.video_url,
    duration_seconds: l.duration_seconds,
    created_at: l.created_at.toISOString(),
    updated_at: l.updated_at.toISOString(),
  };
}

export function createCoursesService(ctx: AppContext, cache: CatalogCache) {
  const { db } = ctx;

  async function view(d: Db, c: CourseRow): Promise<CourseView> {
    const [instructor, modules, lessons] = await Promise.all([
      findInstructor(d, c.instructor_id),
      listModules(d, c.id),
      listLessonsOfCourse(d, c.id),
    ]);
    const prereqs = await listPrerequisites(
      d,
      modules.map((m) => m.id),
    );
    return {
      id: c.id,
      slug: c.slug,
      title: c.title,
      summary: c.summary,
      description: c.description,
      level: c.level,
      language: c.language,
      tags: c.tags,
      status: c.status,
      sequential: c.sequential,
      cover_url: c.cover_url,
      instructor: {
        id: c.instructor_id,
        display_name: instructor?.display_name ?? '',
        bio: instructor?.bio ?? '',
      },
      rating: ratingOf(c),
      lesson_count: lessons.length,
      total_duration_seconds: lessons.reduce((s, l) => s + l.duration_seconds, 0),
      syllabus: modules.map((m) => ({
        id: m.id,
        title: m.title,
        position: m.position,
        requires: prereqs.filter((p) => p.module_id === m.id).map((p) => p.requires_module_id),
        lessons: lessons
          .filter((l) => l.module_id === m.id)
          .map((l) => ({
            id: l.id,
            title: l.title,
            position: l.position,
            duration_seconds: l.duration_seconds,
            has_video: !!l.video_url,
          })),
      })),
      created_at: c.created_at.toISOString(),
      updated_at: c.updated_at.toISOString(),
      published_at: iso(c.published_at),
    };
  }

  /** The course, locked, if the principal may edit it; 404 when they may not even see it. */
  async function editable(trx: Db, principal: UserPrincipal, courseId: string): Promise<CourseRow> {
    const c = await lockCourse(trx, courseId);
    if (!c || !isStaff(principal, c))
      throw notFound('course_not_found', 'No course with that id that you can edit.');
    return c;
  }

  async function moduleFor(trx: Db, principal: UserPrincipal, moduleId: string) {
    const m = await findModule(trx, moduleId);
    if (!m) throw notFound('module_not_found', 'No module with that id.');
    const c = await lockCourse(trx, m.course_id);
    if (!c || !isStaff(principal, c)) throw notFound('module_not_found', 'No module with that id.');
    return { module: m, course: c };
  }

  async function lessonFor(trx: Db, principal: UserPrincipal, lessonId: string) {
    const l = await findLesson(trx, lessonId);
    if (!l) throw notFound('lesson_not_found', 'No lesson with that id.');
    const c = await lockCourse(trx, l.course_id);
    if (!c || !isStaff(principal, c)) throw notFound('lesson_not_found', 'No lesson with that id.');
    return { lesson: l, course: c };
  }

  /** Runs a change in one transaction, then drops cached catalog pages once it has committed. */
  async function change<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
    const result = await db.transaction().execute(fn);
    await cache.invalidate();
    return result;
  }

  async function moduleView(
    d: Db,
    m: { id: string; course_id: string; title: string; position: number; created_at: Date },
  ) {
    const prereqs = await listPrerequisites(d, [m.id]);
    return {
      id: m.id,
      course_id: m.course_id,
      title: m.title,
      position: m.position,
      requires: prereqs.map((p) => p.requires_module_id),
      created_at: m.created_at.toISOString(),
    };
  }

  return {
    async create(principal: UserPrincipal, body: CreateCourseBody, requestId: string): Promise<CourseView> {
      return change(async (trx) => {
        let c: CourseRow;
        try {
          c = await insertCourse(trx, {
            instructor_id: principal.userId,
            slug: body.slug,
            title: body.title.trim(),
            summary: body.summary ?? '',
            description: body.description ?? '',
            level: body.level ?? 'beginner',
            language: body.language ?? 'en',
            tags: body.tags ?? [],
            sequential: body.sequential ?? false,
            cover_url: body.cover_url ?? null,
          });
        } catch (err) {
          if (isUniqueViolation(err, 'courses_slug_key'))
            throw conflict('slug_taken', 'Another course already uses that slug.', { field: 'slug' });
          throw err;
        }
        await recordAudit(trx, {
          actor: principal,
          action: 'course.created',
          targetType: 'course',
          targetId: c.id,
          requestId,
          data: { slug: c.slug },
        });
        return view(trx, c);
      });
    },

    /** The course page as UTF-8 JSON. Published courses come from the cache; drafts and archived ones only for their staff. */
    async pageJson(viewer: Viewer, ref: string): Promise<Buffer> {
      const published = await cache.readJson('course', ref, async () => {
        const c = await findCourseByRef(db, ref);
        return c && c.status === 'published' ? view(db, c) : null;
      });
      if (!(published.length === 4 && published.toString() === 'null')) return published;
      const c = viewer ? await findCourseByRef(db, ref) : undefined;
      if (!c || !isStaff(viewer, c)) throw notFound('course_not_found', 'No course with that id or slug.');
      return Buffer.from(JSON.stringify(await view(db, c)));
    },

    async update(
      principal: UserPrincipal,
      courseId: string,
      body: UpdateCourseBody,
      requestId: string,
    ): Promise<CourseView> {
      return change(async (trx) => {
        const before = await editable(trx, principal, courseId);
        const patch: Parameters<typeof updateCourse>[2] = {};
        if (body.slug !== undefined) patch.slug = body.slug;
        if (body.title !== undefined) patch.title = body.title.trim();
        if (body.summary !== undefined) patch.summary = body.summary;
        if (body.description !== undefined) patch.description = body.description;
        if (body.level !== undefined) patch.level = body.level;
        if (body.language !== undefined) patch.language = body.language;
        if (body.tags !== undefined) patch.tags = body.tags;
        if (body.sequential !== undefined) patch.sequential = body.sequential;
        if (body.cover_url !== undefined) patch.cover_url = body.cover_url;
        if (body.status !== undefined && body.status !== before.status) {
          if (body.status === 'published') {
            if ((await countLessons(trx, courseId)) === 0) {
              throw unprocessable('course_empty', 'Add at least one lesson before publishing.', 'status');
            }
            patch.published_at = before.published_at ?? new Date();
          }
          if (
            body.status === 'draft' &&
            before.status === 'published' &&
            (await countActiveEnrolments(trx, courseId)) > 0
          ) {
            throw conflict(
              'course_has_learners',
              'Learners are enrolled: archive the course instead of taking it back to draft.',
              { field: 'status' },
            );
          }
          patch.status = body.status;
        }
        let after: CourseRow;
        try {
          after = await updateCourse(trx, courseId, patch);
        } catch (err) {
          if (isUniqueViolation(err, 'courses_slug_key'))
            throw conflict('slug_taken', 'Another course already uses that slug.', { field: 'slug' });
          throw err;
        }
        await recordAudit(trx, {
          actor: principal,
          action: patch.status ? `course.${patch.status}` : 'course.updated',
          targetType: 'course',
          targetId: courseId,
          requestId,
          data: {
            fields: Object.keys(body),
            ...(patch.status ? { from: before.status, to: patch.status } : {}),
          },
        });
        return view(trx, after);
      });
    },

    /** Courses I teach (admins: every course), most recently changed first. */
    async teaching(
      principal: UserPrincipal,
      status: CourseRow['status'] | undefined,
      limit: number,
      cursor?: string,
    ) {
      const after = cursor ? decodeCursor(cursor, ['date', 'uuid']) : undefined;
      const rows = await listCoursesOfInstructor(
        db,
        principal.role === 'admin' ? null : principal.userId,
        status,
        limit,
        after ? { at: after[0], id: after[1] } : undefined,
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const names = new Map<string, string>();
      for (const id of new Set(page.map((c) => c.instructor_id)))
        names.set(id, (await findInstructor(db, id))?.display_name ?? '');
      return {
        courses: page.map((c) => ({
          id: c.id,
          slug: c.slug,
          title: c.title,
          summary: c.summary,
          level: c.level,
          language: c.language,
          tags: c.tags,
          status: c.status,
          cover_url: c.cover_url,
          instructor: { id: c.instructor_id, display_name: names.get(c.instructor_id) ?? '' },
          rating: ratingOf(c),
          published_at: iso(c.published_at),
        })),
        next_cursor: rows.length > limit && last ? encodeCursor([last.cursor_at, last.id]) : null,
      };
    },

    async addModule(principal: UserPrincipal, courseId: string, title: string, requestId: string) {
      return change(async (trx) => {
        await editable(trx, principal, courseId);
        const m = await insertModule(trx, {
          course_id: courseId,
          title: title.trim(),
          position: await nextModulePosition(trx, courseId),
        });
        await touchCourse(trx, courseId);
        await recordAudit(trx, {
          actor: principal,
          action: 'module.created',
          targetType: 'module',
          targetId: m.id,
          requestId,
          data: { course_id: courseId },
        });
        return moduleView(trx, m);
      });
    },

    async renameModule(principal: UserPrincipal, moduleId: string, title: string, requestId: string) {
      return change(async (trx) => {
        const { course } = await moduleFor(trx, principal, moduleId);
        const m = await renameModule(trx, moduleId, title.trim());
        await touchCourse(trx, course.id);
        await recordAudit(trx, {
          actor: principal,
          action: 'module.updated',
          targetType: 'module',
          targetId: moduleId,
          requestId,
          data: { course_id: course.id },
        });
        return moduleView(trx, m);
      });
    },

    async deleteModule(principal: UserPrincipal, moduleId: string, requestId: string): Promise<void> {
      await change(async (trx) => {
        const { course } = await moduleFor(trx, principal, moduleId);
        if ((await countCompletionsOf(trx, { moduleId })) > 0) {
          throw conflict(
            'module_has_completions',
            'Learners have completed lessons in this module; it cannot be deleted.',
          );
        }
        await deleteModule(trx, moduleId);
        await setPositions(trx, 'course_modules', await listModuleIdsOfCourse(trx, course.id));
        if (course.status === 'published' && (await countLessons(trx, course.id)) === 0) {
          throw conflict('course_would_be_empty', 'A published course keeps at least one lesson.');
        }
        await touchCourse(trx, course.id);
        await recordAudit(trx, {
          actor: principal,
          action: 'module.deleted',
          targetType: 'module',
          targetId: moduleId,
          requestId,
          data: { course_id: course.id },
        });
      });
    },

    async reorderModules(
      principal: UserPrincipal,
      courseId: string,
      ids: readonly string[],
      requestId: string,
    ) {
      return change(async (trx) => {
        const course = await editable(trx, principal, courseId);
        const current = await listModuleIdsOfCourse(trx, courseId);
        if (current.length !== ids.length || !ids.every((id) => current.includes(id))) {
          throw badRequest('order_mismatch', 'Send every module of the course exactly once.', 'module_ids');
        }
        await setPositions(trx, 'course_modules', ids);
        await touchCourse(trx, courseId);
        await recordAudit(trx, {
          actor: principal,
          action: 'module.reordered',
          targetType: 'course',
          targetId: courseId,
          requestId,
          data: { module_ids: ids },
        });
        return view(trx, course);
      });
    },

    async setPrerequisites(
      principal: UserPrincipal,
      moduleId: string,
      requires: readonly string[],
      requestId: string,
    ) {
      return change(async (trx) => {
        const { module, course } = await moduleFor(trx, principal, moduleId);
        const courseModules = await listModuleIdsOfCourse(trx, course.id);
        if (requires.includes(moduleId))
          throw badRequest('prerequisite_self', 'A module cannot require itself.', 'module_ids');
        if (!requires.every((r) => courseModules.includes(r))) {
          throw badRequest(
            'unknown_module',
            'Every prerequisite must be a module of the same course.',
            'module_ids',
          );
        }
        const edges = new Map<string, string[]>();
        for (const p of await listPrerequisites(trx, courseModules)) {
          if (p.module_id !== moduleId)
            edges.set(p.module_id, [...(edges.get(p.module_id) ?? []), p.requires_module_id]);
        }
        edges.set(moduleId, [...requires]);
        if (hasCycle(edges))
          throw unprocessable('prerequisite_cycle', 'These prerequisites would make a cycle.', 'module_ids');
        await replacePrerequisites(trx, moduleId, requires);
        await touchCourse(trx, course.id);
        await recordAudit(trx, {
          actor: principal,
          action: 'module.prerequisites_set',
          targetType: 'module',
          targetId: moduleId,
          requestId,
          data: { requires },
        });
        return moduleView(trx, module);
      });
    },

    async addLesson(principal: UserPrincipal, moduleId: string, body: CreateLessonBody, requestId: string) {
      return change(async (trx) => {
        const { course } = await moduleFor(trx, principal, moduleId);
        const l = await insertLesson(trx, {
          module_id: moduleId,
          course_id: course.id,
          title: body.title.trim(),
          body_md: body.body_md ?? '',
          video_url: body.video_url ?? null,
          duration_seconds: body.duration_seconds ?? 0,
          position: await nextLessonPosition(trx, moduleId),
        });
        await touchCourse(trx, course.id);
        await recordAudit(trx, {
          actor: principal,
          action: 'lesson.created',
          targetType: 'lesson',
          targetId: l.id,
          requestId,
          data: { course_id: course.id, module_id: moduleId },
        });
        return toLesson(l);
      });
    },

    /** A lesson of a published course, for anyone; of a draft or archived one, for its staff only. */
    async lesson(viewer: Viewer, lessonId: string) {
      const l = await findLesson(db, lessonId);
      const c = l ? await findCourse(db, l.course_id) : undefined;
      if (!l || !c || (c.status !== 'published' && !isStaff(viewer, c)))
        throw notFound('lesson_not_found', 'No lesson with that id.');
      return toLesson(l);
    },

    async updateLesson(
      principal: UserPrincipal,
      lessonId: string,
      body: UpdateLessonBody,
      requestId: string,
    ) {
      return change(async (trx) => {
        const { course } = await lessonFor(trx, principal, lessonId);
        const l = await updateLesson(trx, lessonId, {
          ...(body.title !== undefined ? { title: body.title.trim() } : {}),
          ...(body.body_md !== undefined ? { body_md: body.body_md } : {}),
          ...(body.video_url !== undefined ? { video_url: body.video_url } : {}),
          ...(body.duration_seconds !== undefined ? { duration_seconds: body.duration_seconds } : {}),
        });
        await touchCourse(trx, course.id);
        await recordAudit(trx, {
          actor: principal,
          action: 'lesson.updated',
          targetType: 'lesson',
          targetId: lessonId,
          requestId,
          data: { fields: Object.keys(body) },
        });
        return toLesson(l);
      });
    },

    async deleteLesson(principal: UserPrincipal, lessonId: string, requestId: string): Promise<void> {
      await change(async (trx) => {
        const { lesson, course } = await lessonFor(trx, principal, lessonId);
        if ((await countCompletionsOf(trx, { lessonId })) > 0) {
          throw conflict(
            'lesson_has_completions',
            'Learners have completed this lesson; it cannot be deleted.',
          );
        }
        if (course.status === 'published' && (await countLessons(trx, course.id)) <= 1) {
          throw conflict('course_would_be_empty', 'A published course keeps at least one lesson.');
        }
        await deleteLesson(trx, lessonId);
        await setPositions(trx, 'lessons', await listLessonIdsOfModule(trx, lesson.module_id));
        await touchCourse(trx, course.id);
        await recordAudit(trx, {
          actor: principal,
          action: 'lesson.deleted',
          targetType: 'lesson',
          targetId: lessonId,
          requestId,
          data: { course_id: course.id },
        });
      });
    },

    async reorderLessons(
      principal: UserPrincipal,
      moduleId: string,
      ids: readonly string[],
      requestId: string,
    ) {
      return change(async (trx) => {
        const { course } = await moduleFor(trx, principal, moduleId);
        const current = await listLessonIdsOfModule(trx, moduleId);
        if (current.length !== ids.length || !ids.every((id) => current.includes(id))) {
          throw badRequest('order_mismatch', 'Send every lesson of the module exactly once.', 'lesson_ids');
        }
        await setPositions(trx, 'lessons', ids);
        await touchCourse(trx, course.id);
        await recordAudit(trx, {
          actor: principal,
          action: 'lesson.reordered',
          targetType: 'module',
          targetId: moduleId,
          requestId,
          data: { lesson_ids: ids },
        });
        return view(trx, (await findCourse(trx, course.id))!);
      });
    },
  };
}

export type CoursesService = ReturnType<typeof createCoursesService>;

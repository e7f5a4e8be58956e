import { sql } from 'kysely';
import type { Db } from '../audit/audit.repository.ts';
import { exactTs, tsValue } from '../catalog/cursor.ts';

function threads(db: Db) {
  return db
    .selectFrom('forum_threads as t')
    .innerJoin('users as u', 'u.id', 't.author_id')
    .select([
      't.id',
      't.course_id',
      't.lesson_id',
      't.author_id',
      'u.display_name',
      'u.role as author_role',
      't.title',
      't.body',
      't.pinned',
      't.answer_post_id',
      't.created_at',
      't.updated_at',
    ])
    .select(exactTs('t.created_at').as('cursor_at'))
    .select((eb) =>
      eb
        .selectFrom('forum_posts as p')
        .select(eb.fn.countAll<string>().as('n'))
        .whereRef('p.thread_id', '=', 't.id')
        .where('p.deleted_at', 'is', null)
        .as('reply_count'),
    )
    .where('t.deleted_at', 'is', null);
}
export type ThreadRow = NonNullable<Awaited<ReturnType<typeof findThread>>>;

export async function findThread(db: Db, id: string) {
  return threads(db).where('t.id', '=', id).executeTakeFirst();
}

export async function lockThread(db: Db, id: string) {
  return db
    .selectFrom('forum_threads')
    .selectAll()
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
}

/** Pinned first, then newest. */
export async function listThreads(
  db: Db,
  courseId: string,
  lessonId: string | undefined,
  limit: number,
  after?: { pinned: number; at: string; id: string },
) {
  let q = threads(db).where('t.course_id', '=', courseId);
  if (lessonId) q = q.where('t.lesson_id', '=', lessonId);
  if (after)
    q = q.where(
      sql<boolean>`(t.pinned::int, t.created_at, t.id) < (${after.pinned}::int, ${tsValue(after.at)}, ${after.id}::uuid)`,
    );
  return q
    .orderBy('t.pinned', 'desc')
    .orderBy('t.created_at', 'desc')
    .orderBy('t.id', 'desc')
    .limit(limit + 1)
    .execute();
}

export async function insertThread(
  db: Db,
  row: { course_id: string; lesson_id: string | null; author_id: string; title: string; body: string },
) {
  return db.insertInto('forum_threads').values(row).returning('id').executeTakeFirstOrThrow();
}

export async function updateThread(
  db: Db,
  id: string,
  patch: { title?: string; body?: string; pinned?: boolean; answer_post_id?: string | null },
): Promise<void> {
  const touch = patch.title !== undefined || patch.body !== undefined;
  await db
    .updateTable('forum_threads')
    .set({ ...patch, ...(touch ? { updated_at: sql<Date>`now()` } : {}) })
    .where('id', '=', id)
    .execute();
}

export async function softDeleteThread(db: Db, id: string, removedBy: string | null): Promise<void> {
  await db
    .updateTable('forum_threads')
    .set({ deleted_at: sql<Date>`now()`, removed_by: removedBy })
    .where('id', '=', id)
    .execute();
}

function posts(db: Db) {
  return db
    .selectFrom('forum_posts as p')
    .innerJoin('users as u', 'u.id', 'p.author_id')
    .select([
      'p.id',
      'p.thread_id',
      'p.author_id',
      'u.display_name',
      'u.role as author_role',
      'p.body',
      'p.created_at',
      'p.updated_at',
    ])
    .select(exactTs('p.created_at').as('cursor_at'))
    .where('p.deleted_at', 'is', null);
}
export type PostRow = NonNullable<Awaited<ReturnType<typeof findPost>>>;

export async function findPost(db: Db, id: string) {
  return posts(db).where('p.id', '=', id).executeTakeFirst();
}

/** Oldest first, so a thread reads top to bottom. */
export async function listPosts(db: Db, threadId: string, limit: number, after?: { at: string; id: string }) {
  let q = posts(db).where('p.thread_id', '=', threadId);
  if (after)
    q = q.where((eb) => eb(eb.refTuple('p.created_at', 'p.id'), '>', eb.tuple(tsValue(after.at), after.id)));
  return q
    .orderBy('p.created_at')
    .orderBy('p.id')
    .limit(limit + 1)
    .execute();
}

export async function insertPost(db: Db, row: { thread_id: string; author_id: string; body: string }) {
  return db.insertInto('forum_posts').values(row).returning('id').executeTakeFirstOrThrow();
}

export async function updatePost(db: Db, id: string, body: string): Promise<void> {
  await db
    .updateTable('forum_posts')
    .set({ body, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .execute();
}

export async function softDeletePost(db: Db, id: string, removedBy: string | null): Promise<void> {
  await db
    .updateTable('forum_posts')
    .set({ deleted_at: sql<Date>`now()`, removed_by: removedBy })
    .where('id', '=', id)
    .execute();
}

export async function clearAnswerIf(db: Db, threadId: string, postId: string): Promise<void> {
  await db
    .updateTable('forum_threads')
    .set({ answer_post_id: null })
    .where('id', '=', threadId)
    .where('answer_post_id', '=', postId)
    .execute();
}

export async function lessonBelongsTo(db: Db, lessonId: string, courseId: string): Promise<boolean> {
  return Boolean(
    await db
      .selectFrom('lessons')
      .select('id')
      .where('id', '=', lessonId)
      .where('course_id', '=', courseId)
      .executeTakeFirst(),
  );
}

import { sql } from 'kysely';
import type { CourseLevel } from '@starling/migrations';
import type { Db } from '../audit/audit.repository.ts';
import { exactTs, tsValue } from './cursor.ts';

export interface CatalogFilter {
  q?: string;
  level?: CourseLevel;
  tag?: string;
  language?: string;
  instructor?: string;
}

export type CatalogAfter =
  { kind: 'recent'; publishedAt: string; id: string } | { kind: 'rank'; rank: number; id: string };

/**
 * Published courses. Without a query: newest first by (published_at, id). With one: best match
 * first by (ts_rank, id) over the generated `search` column, via websearch_to_tsquery (never a
 * syntax error on user input).
 */
export async function searchCatalog(db: Db, f: CatalogFilter, limit: number, after?: CatalogAfter) {
  const tsq = f.q !== undefined ? sql`websearch_to_tsquery('english', ${f.q})` : null;
  const rank = tsq ? sql<number>`ts_rank(c.search, ${tsq})` : null;
  let q = db
    .selectFrom('courses as c')
    .innerJoin('users as u', 'u.id', 'c.instructor_id')
    .select([
      'c.id',
      'c.slug',
      'c.title',
      'c.summary',
      'c.level',
      'c.language',
      'c.tags',
      'c.status',
      'c.cover_url',
      'c.instructor_id',
      'u.display_name as instructor_name',
      'c.rating_sum',
      'c.rating_count',
      'c.published_at',
    ])
    .select(rank ? rank.as('rank') : sql<number>`0::real`.as('rank'))
    .select(exactTs('c.published_at').as('cursor_at'))
    .where('c.status', '=', 'published');
  if (tsq) q = q.where(sql<boolean>`c.search @@ ${tsq}`);
  if (f.level) q = q.where('c.level', '=', f.level);
  if (f.language) q = q.where('c.language', '=', f.language);
  if (f.instructor) q = q.where('c.instructor_id', '=', f.instructor);
  if (f.tag) q = q.where(sql<boolean>`c.tags @> ARRAY[${f.tag}]::text[]`);
  if (rank) {
    if (after?.kind === 'rank')
      q = q.where(sql<boolean>`(${rank}, c.id) < (${after.rank}::real, ${after.id}::uuid)`);
    q = q.orderBy(rank, 'desc').orderBy('c.id', 'desc');
  } else {
    if (after?.kind === 'recent')
      q = q.where((eb) =>
        eb(eb.refTuple('c.published_at', 'c.id'), '<', eb.tuple(tsValue(after.publishedAt), after.id)),
      );
    q = q.orderBy('c.published_at', 'desc').orderBy('c.id', 'desc');
  }
  return q.limit(limit + 1).execute();
}

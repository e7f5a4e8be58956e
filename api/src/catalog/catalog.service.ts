import type { AppContext } from '../context.ts';
import type { CatalogQuery } from '../schemas/courses.ts';
import { ratingOf } from '../courses/courses.service.ts';
import type { CatalogCache } from './catalog.cache.ts';
import { searchCatalog, type CatalogAfter } from './catalog.repository.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

export function createCatalogService(ctx: AppContext, cache: CatalogCache) {
  return {
    /** One page of the public catalog as JSON text; the same query within a cache generation comes from the cache. */
    async list(query: CatalogQuery): Promise<Buffer> {
      const limit = query.limit ?? 20;
      const q = query.q?.trim() || undefined;
      // Decode before the cache so a bad cursor is a 400 even when a page is cached.
      let after: CatalogAfter | undefined;
      if (query.cursor) {
        if (q) {
          const [rank, id] = decodeCursor(query.cursor, ['number', 'uuid'] as const);
          after = { kind: 'rank', rank, id };
        } else {
          const [at, id] = decodeCursor(query.cursor, ['date', 'uuid'] as const);
          after = { kind: 'recent', publishedAt: at, id };
        }
      }
      const filter = {
        q,
        level: query.level,
        tag: query.tag,
        language: query.language,
        instructor: query.instructor,
      };
      return cache.readJson('list', [filter, limit, query.cursor ?? null], async () => {
        const rows = await searchCatalog(ctx.db, filter, limit, after);
        const page = rows.slice(0, limit);
        const last = page[page.length - 1];
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
            instructor: { id: c.instructor_id, display_name: c.instructor_name },
            rating: ratingOf(c),
            published_at: c.published_at ? c.published_at.toISOString() : null,
          })),
          next_cursor:
            rows.length > limit && last
              ? encodeCursor(q ? [Number(last.rank), last.id] : [last.cursor_at, last.id])
              : null,
        };
      });
    },

    /** Drops every cached catalog page and course page (for changes made outside the services). */
    invalidate: () => cache.invalidate(),
    close: () => cache.close(),
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;

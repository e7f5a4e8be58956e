// The catalog's URL filters, checked before they reach the API.
const LEVELS = ['beginner', 'intermediate', 'advanced'];

/** Only well-formed filters reach the API; a bad one is dropped, not turned into an error page. */
export function catalogQuery(params: URLSearchParams) {
  const q = (params.get('q') ?? '').trim().slice(0, 200);
  const level = params.get('level') ?? '';
  const tag = (params.get('tag') ?? '').trim().toLowerCase();
  const language = (params.get('language') ?? '').trim().toLowerCase();
  return {
    q: q || undefined,
    level: LEVELS.includes(level) ? level : undefined,
    tag: /^[a-z0-9]+(-[a-z0-9]+)*$/.test(tag) && tag.length <= 32 ? tag : undefined,
    language: /^[a-z]{2}$/.test(language) ? language : undefined,
    cursor: params.get('cursor') || undefined,
    limit: 12,
  };
}

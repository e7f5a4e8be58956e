// The one gateway to the Starling API. Server code builds it per request with the session's access
// token (see hooks.server.ts); every error comes back as an ApiError carrying the problem details.
import { ApiError, toProblem } from './problem.ts';

export { ApiError, formFailure, type FormFailure, type Problem } from './problem.ts';
export type * from './types.ts';

export interface ApiOptions {
  baseUrl: string;
  token?: string | null;
  fetch?: typeof fetch;
  requestId?: string;
  /** The browser's address, so the API's per-client rate limits see people, not this server. */
  forwardedFor?: string;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** POSTs that create something carry one so a retried submit is not applied twice. */
  idempotencyKey?: string;
}

export function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

export function createApi(opts: ApiOptions) {
  const doFetch = opts.fetch ?? fetch;
  const base = opts.baseUrl.replace(/\/$/, '');

  async function raw(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.requestId) headers['x-request-id'] = opts.requestId;
    if (opts.forwardedFor) headers['x-forwarded-for'] = opts.forwardedFor;
    if (o.idempotencyKey) headers['idempotency-key'] = o.idempotencyKey;
    let body: string | undefined;
    if (o.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.body);
    }
    try {
      return await doFetch(`${base}${withQuery(path, o.query)}`, { method, headers, body });
    } catch {
      throw new ApiError(toProblem(503, null));
    }
  }

  async function request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await raw(method, path, o);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!res.ok) throw new ApiError(toProblem(res.status, parsed));
    return parsed as T;
  }

  return {
    raw,
    get: <T>(path: string, query?: Query) => request<T>('GET', path, { query }),
    post: <T>(path: string, body?: unknown, o: Omit<RequestOptions, 'body'> = {}) =>
      request<T>('POST', path, { ...o, body }),
    put: <T>(path: string, body?: unknown) => request<T>('PUT', path, { body }),
    patch: <T>(path: string, body?: unknown) => request<T>('PATCH', path, { body }),
    del: <T = void>(path: string, body?: unknown) => request<T>('DELETE', path, { body }),
  };
}

export type Api = ReturnType<typeof createApi>;

/** Null for a 404, the value otherwise; other errors propagate. */
export async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

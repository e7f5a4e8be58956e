import { describe, expect, it } from 'vitest';
import { createApi, withQuery } from './index.ts';
import { ApiError, formFailure, humanise, toProblem } from './problem.ts';

const problem = (p: Record<string, unknown>) =>
  toProblem(Number(p.status ?? 400), {
    type: 't',
    title: 'Bad Request',
    status: 400,
    detail: '',
    code: 'x',
    ...p,
  });

describe('problems onto forms', () => {
  it('puts every validation error next to its field, in words', () => {
    const f = formFailure(
      problem({
        code: 'validation_failed',
        detail: 'password must NOT have fewer than 10 characters',
        field: 'password',
        errors: [
          { field: 'password', message: 'must NOT have fewer than 10 characters' },
          { field: 'email', message: 'must match format "email"' },
        ],
      }),
    );
    expect(f.fields).toEqual({
      password: 'Password must be at least 10 characters.',
      email: 'Email must be a valid email address.',
    });
    expect(f.message).toBe('Password must be at least 10 characters.');
  });

  it('uses the API’s own sentence for a domain error and maps aliased fields', () => {
    const f = formFailure(
      problem({ status: 401, code: 'mfa_invalid', detail: 'That code is not valid.', field: 'mfa_token' }),
      { mfa_token: 'code' },
    );
    expect(f).toEqual({
      message: 'That code is not valid.',
      fields: { code: 'That code is not valid.' },
      code: 'mfa_invalid',
    });
  });

  it('says to slow down on 429 and never leaks a 5xx body', () => {
    expect(formFailure(problem({ status: 429, code: 'rate_limited', detail: 'x' })).message).toMatch(
      /Too many attempts/,
    );
    expect(toProblem(502, '<html>proxy</html>').detail).toMatch(/trouble/);
  });

  it('humanises nested field paths', () => {
    expect(humanise('display_name', 'must NOT have more than 80 characters')).toBe(
      'Display name must be at most 80 characters.',
    );
  });

  it('says a required text is empty rather than "at least 1 characters"', () => {
    expect(humanise('reason', 'must NOT have fewer than 1 characters')).toBe('Reason cannot be empty.');
  });
});

describe('the API gateway', () => {
  it('sends the bearer token and idempotency key, and turns problems into ApiError', async () => {
    const seen: { url: string; headers: Record<string, string> }[] = [];
    const api = createApi({
      baseUrl: 'http://api/',
      token: 'tok',
      fetch: (async (url: string, init: RequestInit) => {
        seen.push({ url, headers: init.headers as Record<string, string> });
        return new Response(
          JSON.stringify({
            type: 't',
            title: 'Conflict',
            status: 409,
            code: 'already',
            detail: 'Already there.',
          }),
          { status: 409 },
        );
      }) as typeof fetch,
    });
    const err = await api.post('/v1/x', { a: 1 }, { idempotencyKey: 'k1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).problem.code).toBe('already');
    expect(seen[0]!.url).toBe('http://api/v1/x');
    expect(seen[0]!.headers).toMatchObject({
      authorization: 'Bearer tok',
      'idempotency-key': 'k1',
      'content-type': 'application/json',
    });
  });

  it('reports an unreachable API as a 503 problem', async () => {
    const api = createApi({
      baseUrl: 'http://api',
      fetch: (async () => {
        throw new Error('ECONNREFUSED');
      }) as typeof fetch,
    });
    const err = (await api.get('/v1/x').catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(503);
  });

  it('drops empty query values', () => {
    expect(withQuery('/v1/catalog', { q: 'soroban', level: undefined, tag: '', limit: 12 })).toBe(
      '/v1/catalog?q=soroban&limit=12',
    );
  });
});

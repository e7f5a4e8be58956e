import { describe, expect, it } from 'vitest';
import { createRefresher, jwtExpiry, needsRefresh } from './tokens.ts';
import { safeNext } from './guard.ts';

const jwt = (payload: object) => `h.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.s`;

describe('session tokens', () => {
  it('refreshes a token that is missing, unreadable or about to expire', () => {
    expect(jwtExpiry(jwt({ exp: 100 }))).toBe(100);
    expect(needsRefresh(undefined, 0)).toBe(true);
    expect(needsRefresh('garbage', 0)).toBe(true);
    expect(needsRefresh(jwt({ exp: 1000 }), 980)).toBe(true);
    expect(needsRefresh(jwt({ exp: 1000 }), 900)).toBe(false);
  });

  it('shares one refresh between concurrent requests (a reused refresh token would end the session)', async () => {
    let calls = 0;
    const refresh = createRefresher(async (t: string) => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 10));
      return `new-${t}`;
    });
    const [a, b] = await Promise.all([refresh('r1'), refresh('r1')]);
    expect([a, b, calls]).toEqual(['new-r1', 'new-r1', 1]);
    expect(await refresh('r1')).toBe('new-r1');
    expect(calls).toBe(1);
  });

  it('forgets a failed refresh so the next request can try again', async () => {
    let calls = 0;
    const refresh = createRefresher(async () => {
      calls += 1;
      throw new Error('down');
    });
    await expect(refresh('r')).rejects.toThrow();
    await expect(refresh('r')).rejects.toThrow();
    expect(calls).toBe(2);
  });

  it('only redirects to local paths after sign-in', () => {
    expect(safeNext('/courses/x')).toBe('/courses/x');
    expect(safeNext('//evil.example')).toBe('/dashboard');
    expect(safeNext('https://evil.example')).toBe('/dashboard');
    expect(safeNext('/\\evil.example')).toBe('/dashboard');
  });
});

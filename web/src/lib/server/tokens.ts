// Reads a JWT's expiry without verifying it: only to decide when to refresh. The API verifies.
export function jwtExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp : null;
  } catch {
    return null;
  }
}

/** True when the token is missing, unreadable or expires within `skewSeconds`. */
export function needsRefresh(token: string | undefined, nowSeconds: number, skewSeconds = 30): boolean {
  if (!token) return true;
  const exp = jwtExpiry(token);
  return exp === null || exp - skewSeconds <= nowSeconds;
}

/**
 * Single flight per refresh token: the API rotates refresh tokens and treats a reused one as theft,
 * so two requests of one browser that both find the access token stale must share one refresh.
 * A finished result is kept briefly for requests that still carry the old cookie.
 */
export function createRefresher<T>(refresh: (token: string) => Promise<T>, keepMs = 30_000) {
  const inflight = new Map<string, { at: number; result: Promise<T> }>();
  return (token: string, now = Date.now()): Promise<T> => {
    for (const [k, v] of inflight) if (now - v.at > keepMs) inflight.delete(k);
    const hit = inflight.get(token);
    if (hit) return hit.result;
    const result = refresh(token);
    inflight.set(token, { at: now, result });
    result.catch(() => inflight.delete(token));
    return result;
  };
}

// Every request: read the session cookies, refresh the access token on the server when it is about
// to expire (the browser never sees the refresh token), and give the request an API client.
import type { Handle, HandleServerError } from '@sveltejs/kit';
import { ApiError, createApi, type Me } from '$lib/api';
import { env } from '$env/dynamic/public';
import { config } from '$lib/server/config.ts';
import {
  ACCESS_COOKIE,
  REFRESH_COOKIE,
  clearSession,
  refreshSession,
  setSession,
} from '$lib/server/session.ts';
import { needsRefresh } from '$lib/server/tokens.ts';

const rpcOrigin = (() => {
  try {
    return env.PUBLIC_STELLAR_RPC_URL ? new URL(env.PUBLIC_STELLAR_RPC_URL).origin : '';
  } catch {
    return '';
  }
})();

export const handle: Handle = async ({ event, resolve }) => {
  let token = event.cookies.get(ACCESS_COOKIE) ?? null;
  const refresh = event.cookies.get(REFRESH_COOKIE);
  if (refresh && needsRefresh(token ?? undefined, Date.now() / 1000)) {
    try {
      const s = await refreshSession(refresh);
      setSession(event.cookies, s);
      token = s.access_token;
    } catch (e) {
      // A refused refresh (expired, revoked, reused) ends the session; an outage keeps the cookies.
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) {
        clearSession(event.cookies);
        token = null;
      }
    }
  }
  event.locals.token = token;
  let forwardedFor: string | undefined;
  try {
    forwardedFor = event.getClientAddress();
  } catch {
    forwardedFor = undefined;
  }
  const api = createApi({ baseUrl: config.apiUrl, token, forwardedFor });
  event.locals.api = api;
  let me: Promise<Me | null> | undefined;
  event.locals.user = () =>
    (me ??= token
      ? api.get<Me>('/v1/me').catch((e: unknown) => {
          if (e instanceof ApiError && e.status === 401) {
            clearSession(event.cookies);
            return null;
          }
          throw e;
        })
      : Promise.resolve(null));

  const response = await resolve(event);
  const csp = response.headers.get('content-security-policy');
  if (csp && rpcOrigin)
    response.headers.set(
      'content-security-policy',
      csp.replace("connect-src 'self'", `connect-src 'self' ${rpcOrigin}`),
    );
  if (token) response.headers.set('cache-control', 'private, no-store');
  response.headers.set('x-content-type-options', 'nosniff');
  response.headers.set('referrer-policy', 'strict-origin-when-cross-origin');
  response.headers.set('permissions-policy', 'camera=(), microphone=(), geolocation=()');
  return response;
};

export const handleError: HandleServerError = ({ error, status }) => {
  if (error instanceof ApiError) return { message: error.problem.detail, code: error.problem.code };
  if (status >= 500) console.error(error);
  return {
    message:
      status === 404
        ? 'This page does not exist.'
        : 'Something went wrong on our side. Try again in a moment.',
  };
};

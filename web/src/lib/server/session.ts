// Session cookies: the API's access token and rotating refresh token live in httpOnly cookies that
// scripts cannot read; the server refreshes them in hooks.server.ts. SameSite=Lax keeps them off
// cross-site POSTs; Secure everywhere but local plain http.
import type { Cookies } from '@sveltejs/kit';
import { createApi, type Session } from '$lib/api';
import { config } from './config.ts';
import { createRefresher } from './tokens.ts';

export const ACCESS_COOKIE = 'sl_access';
export const REFRESH_COOKIE = 'sl_refresh';
export const MFA_COOKIE = 'sl_mfa';

const base = () => ({ path: '/', httpOnly: true, sameSite: 'lax' as const, secure: config.secureCookies });

export function setSession(cookies: Cookies, s: Session): void {
  cookies.set(ACCESS_COOKIE, s.access_token, { ...base(), maxAge: s.expires_in });
  cookies.set(REFRESH_COOKIE, s.refresh_token, { ...base(), maxAge: 30 * 24 * 3600 });
  cookies.delete(MFA_COOKIE, base());
}

export function clearSession(cookies: Cookies): void {
  cookies.delete(ACCESS_COOKIE, base());
  cookies.delete(REFRESH_COOKIE, base());
  cookies.delete(MFA_COOKIE, base());
}

export function setMfaPending(cookies: Cookies, token: string): void {
  cookies.set(MFA_COOKIE, token, { ...base(), maxAge: 300 });
}

export const refreshSession = createRefresher((refreshToken: string) =>
  createApi({ baseUrl: config.apiUrl }).post<Session>('/v1/auth/refresh', { refresh_token: refreshToken }),
);

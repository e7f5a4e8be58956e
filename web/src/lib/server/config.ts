// The site's server configuration, read once from the environment. Only server modules import this.
import { env } from '$env/dynamic/private';

export const config = {
  /** The API's base URL as the site's server reaches it (no trailing slash). */
  apiUrl: (env.API_URL || 'http://127.0.0.1:3000').replace(/\/$/, ''),
  /** Secure cookies everywhere but plain-http development and tests. */
  secureCookies: env.COOKIE_SECURE ? env.COOKIE_SECURE === 'true' : env.NODE_ENV === 'production',
};

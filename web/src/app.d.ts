import type { Api, Me } from '$lib/api';

declare global {
  namespace App {
    interface Locals {
      api: Api;
      /** The access token when signed in (server only; never sent to the browser). */
      token: string | null;
      /** The signed-in user, loaded once per request on demand. */
      user: () => Promise<Me | null>;
    }
    interface Error {
      message: string;
      code?: string;
    }
  }
}

export {};

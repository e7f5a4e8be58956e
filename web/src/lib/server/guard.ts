// Page guards and the form-action wrapper: API problems become `fail()` with messages per field.
import { fail, isActionFailure, redirect, type ActionFailure, type RequestEvent } from '@sveltejs/kit';
import { ApiError, formFailure, type Me, type Role } from '$lib/api';

export async function requireUser(event: Pick<RequestEvent, 'locals' | 'url'>, roles?: Role[]): Promise<Me> {
  const me = await event.locals.user();
  if (!me) redirect(303, `/signin?next=${encodeURIComponent(event.url.pathname + event.url.search)}`);
  if (roles && !roles.includes(me.role) && me.role !== 'admin') {
    redirect(303, '/dashboard?denied=1');
  }
  return me;
}

/** The submitted values to send back to the form (never passwords or codes). */
export function keepValues(form: FormData, omit: string[] = ['password', 'code']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of form) if (typeof v === 'string' && !omit.includes(k)) out[k] = v;
  return out;
}

/**
 * Runs an action's API calls; a problem answer becomes `fail(status, {error, fields, values})` so the
 * page shows it next to the right input. `redirect()` and other errors pass through.
 */
export interface FailData {
  error: string;
  fields: Record<string, string>;
  code: string;
  values: Record<string, string>;
}

export function failed<T>(r: T | ActionFailure<FailData>): r is ActionFailure<FailData> {
  return isActionFailure(r);
}

export async function act<T>(
  form: FormData | null,
  fn: () => Promise<T>,
  aliases: Record<string, string> = {},
): Promise<T | ActionFailure<FailData>> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError) {
      const f = formFailure(e.problem, aliases);
      const data: FailData = {
        error: f.message,
        fields: f.fields,
        code: f.code,
        values: form ? keepValues(form) : {},
      };
      return fail(e.status >= 500 ? 502 : e.status, data);
    }
    throw e;
  }
}

export function text(form: FormData, name: string): string {
  const v = form.get(name);
  return typeof v === 'string' ? v.trim() : '';
}

/** A safe internal path to go back to after sign-in (no open redirects). */
export function safeNext(next: string | null | undefined, fallback = '/dashboard'): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  return next;
}

// RFC 9457 problem details from the API, and how a form shows them: the message next to the field
// the API named, or at the top of the form when it named none.

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  request_id?: string;
  field?: string;
  errors?: { field: string; message: string }[];
  [key: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail || problem.title);
    this.name = 'ApiError';
    this.status = problem.status;
    this.problem = problem;
  }
}

/** Anything the API answered that is not problem+json still becomes a problem, never a crash. */
export function toProblem(status: number, body: unknown): Problem {
  if (body && typeof body === 'object' && 'code' in body && 'detail' in body) {
    return { ...(body as Problem), status };
  }
  return {
    type: 'about:blank',
    title: 'Error',
    status,
    code: status >= 500 ? 'upstream_error' : 'error',
    detail:
      status >= 500 ? 'The service is having trouble; try again in a moment.' : 'The request was refused.',
  };
}

export interface FormFailure {
  /** The message for the whole form (always set, so a screen reader hears one summary). */
  message: string;
  /** Per-field messages keyed by the form's input names. */
  fields: Record<string, string>;
  code: string;
}

const FIELD_LABELS: Record<string, string> = {
  email: 'Email',
  password: 'Password',
  display_name: 'Display name',
  code: 'Code',
  title: 'Title',
  slug: 'Slug',
  body: 'Text',
  rating: 'Rating',
  reason: 'Reason',
  bio: 'Bio',
};

/** Rewrites "password must NOT have fewer than 10 characters" into words a person reads. */
export function humanise(field: string | undefined, message: string): string {
  const label = field ? (FIELD_LABELS[field] ?? field.replace(/_/g, ' ')) : '';
  let m = message
    .replace(/^\S+ (?=(must|is|has|does) )/, '')
    .replace(/must NOT have fewer than 1 characters/, 'cannot be empty')
    .replace(/must NOT have fewer than (\d+) characters/, 'must be at least $1 characters')
    .replace(/must NOT have more than (\d+) characters/, 'must be at most $1 characters')
    .replace(/must match format "email"/, 'must be a valid email address')
    .replace(/must match format "uri"/, 'must be a valid https:// address')
    .replace(/must match pattern .*/, 'has an invalid format');
  if (label && !m.toLowerCase().startsWith(label.toLowerCase())) m = `${label} ${m}`;
  return m.charAt(0).toUpperCase() + m.slice(1).replace(/\.?$/, '.');
}

/**
 * Maps a problem onto a form. `aliases` renames API fields to the form's input names
 * (e.g. { mfa_token: 'code' }). Validation problems list every field; others name at most one.
 */
export function formFailure(problem: Problem, aliases: Record<string, string> = {}): FormFailure {
  const fields: Record<string, string> = {};
  const name = (f: string) => aliases[f] ?? f.split('.')[0] ?? f;
  if (problem.code === 'validation_failed' && problem.errors?.length) {
    for (const e of problem.errors) {
      const key = name(e.field);
      fields[key] ??= humanise(key, e.message);
    }
  } else if (problem.field) {
    fields[name(problem.field)] = problem.detail;
  }
  const first = Object.values(fields)[0];
  const message =
    problem.code === 'validation_failed' && first
      ? first
      : problem.status === 429
        ? 'Too many attempts. Wait a minute and try again.'
        : problem.detail || problem.title;
  return { message, fields, code: problem.code };
}

// One base error with a stable string code; the error handler maps it to RFC 9457 problem+json.

export const PROBLEM_TYPE_BASE = 'urn:starling:problem:';

export interface ProblemExtras {
  field?: string;
  [key: string]: unknown;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly extras: ProblemExtras;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    extras: ProblemExtras = {},
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.extras = extras;
    this.headers = headers;
  }
}

export const badRequest = (code: string, message: string, field?: string): AppError =>
  new AppError(400, code, message, field ? { field } : {});
export const unauthorized = (code: string, message: string): AppError =>
  new AppError(401, code, message, {}, { 'www-authenticate': 'Bearer' });
export const forbidden = (code: string, message: string): AppError => new AppError(403, code, message);
export const notFound = (code: string, message: string): AppError => new AppError(404, code, message);
export const conflict = (code: string, message: string, extras: ProblemExtras = {}): AppError =>
  new AppError(409, code, message, extras);
export const unprocessable = (code: string, message: string, field?: string): AppError =>
  new AppError(422, code, message, field ? { field } : {});

export const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

// RFC 9457 problem details for every error: a stable `type` and `code`, the request id, and never
// a stack trace or internal message on a 5xx.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, PROBLEM_TYPE_BASE, STATUS_TITLES } from '../errors.ts';

interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  instance: string;
  request_id: string;
  [key: string]: unknown;
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  extras: Record<string, unknown> = {},
): FastifyReply {
  const body: Problem = {
    type: `${PROBLEM_TYPE_BASE}${code}`,
    title: STATUS_TITLES[status] ?? 'Error',
    status,
    code,
    detail,
    instance: request.url.split('?')[0] ?? request.url,
    request_id: String(request.id),
    ...extras,
  };
  return reply.code(status).type('application/problem+json').send(body);
}

interface AjvLikeError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function fieldOf(e: AjvLikeError, part: string | undefined): string {
  const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const extra =
    e.keyword === 'required'
      ? String(e.params.missingProperty)
      : e.keyword === 'additionalProperties'
        ? String(e.params.additionalProperty)
        : '';
  const name = [path, extra].filter(Boolean).join('.');
  return name || (part ?? 'body');
}

function describe(e: AjvLikeError): string {
  if (e.keyword === 'additionalProperties') return 'is not an allowed field';
  if (e.keyword === 'required') return 'is required';
  return e.message ?? 'is invalid';
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) {
      for (const [k, v] of Object.entries(error.headers)) reply.header(k, v);
      return sendProblem(request, reply, error.status, error.code, error.message, error.extras);
    }
    const fe = error as FastifyError & { validationContext?: string };
    if (fe.validation) {
      const errors = (fe.validation as AjvLikeError[]).map((e) => ({
        field: fieldOf(e, fe.validationContext),
        message: describe(e),
      }));
      const first = errors[0];
      return sendProblem(
        request,
        reply,
        400,
        'validation_failed',
        first ? `${first.field} ${first.message}` : 'The request is invalid.',
        { field: first?.field, in: fe.validationContext, errors },
      );
    }
    switch (fe.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendProblem(request, reply, 400, 'malformed_json', 'The request body is not valid JSON.');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendProblem(
          request,
          reply,
          400,
          'malformed_json',
          'The body is empty but Content-Type says JSON: send a JSON body, or no Content-Type.',
        );
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendProblem(request, reply, 413, 'body_too_large', 'The request body is larger than allowed.');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendProblem(
          request,
          reply,
          415,
          'unsupported_media_type',
          'Send the body as application/json.',
        );
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return sendProblem(
          request,
          reply,
          400,
          'bad_content_length',
          'Content-Length does not match the body.',
        );
    }
    if (fe.statusCode === 429) {
      return sendProblem(request, reply, 429, 'rate_limited', fe.message || 'Too many requests; slow down.');
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return sendProblem(request, reply, fe.statusCode, 'bad_request', fe.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(
      request,
      reply,
      500,
      'internal_error',
      'An unexpected error occurred; quote the request id when reporting it.',
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      404,
      'route_not_found',
      `No route ${request.method} ${request.url.split('?')[0]}.`,
    ),
  );
}

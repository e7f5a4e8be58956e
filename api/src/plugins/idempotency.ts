// Idempotency-Key on POSTs that create something (routes opt in with `config: { idempotent: true }`).
// Same key + same request: the stored response is replayed. Same key + another body: 422. Original
// still running: 409. Keys are scoped to the caller and the route and kept at least 24 h. A 5xx is
// not stored, so the client may retry. Runs after validation: a rejected request writes nothing.
// A route whose response carries a secret shown once names those fields (`secretFields`): they are
// removed before the response is stored, and a replay of a success is a 409 that names what was
// created instead of the secret, which exists nowhere but in the first response.
import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { AppContext } from '../context.ts';
import { badRequest, conflict, unprocessable } from '../errors.ts';
import { principalId } from '../auth/principal.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    idempotent?: boolean | { secretFields: readonly string[] };
  }
  interface FastifyRequest {
    idempotency: {
      scope: string;
      route: string;
      key: string;
      secretFields: readonly string[];
    } | null;
  }
}

const RETENTION_HOURS = 24;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function requestFingerprint(method: string, url: string, body: unknown): Buffer {
  return createHash('sha256')
    .update(`${method} ${url}\n${canonical(body)}`)
    .digest();
}

const requestHash = (request: FastifyRequest): Buffer =>
  requestFingerprint(request.method, request.url, request.body);

const secretFieldsOf = (request: FastifyRequest): readonly string[] => {
  const opt = request.routeOptions.config.idempotent;
  return typeof opt === 'object' ? opt.secretFields : [];
};

/** The JSON body without its secret fields; anything that is not a JSON object is kept as it is. */
export function redactSecrets(payload: string, fields: readonly string[]): string {
  if (!fields.length) return payload;
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return '';
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return '';
  const kept = Object.fromEntries(Object.entries(body).filter(([k]) => !fields.includes(k)));
  return JSON.stringify(kept);
}

export default fp(
  async (app, opts: { ctx: AppContext }) => {
    const { db } = opts.ctx;
    app.decorateRequest('idempotency', null);

    app.addHook('preHandler', async (request, reply) => {
      if (request.method !== 'POST' || !request.routeOptions.config.idempotent) return;
      const key = request.headers['idempotency-key'];
      if (key === undefined) return;
      if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
        throw badRequest(
          'invalid_idempotency_key',
          'Idempotency-Key must be 1–255 visible ASCII characters.',
          'Idempotency-Key',
        );
      }
      const scope = request.principal ? principalId(request.principal) : `anon:${request.ip}`;
      const route = `${request.method} ${request.routeOptions.url}`;
      const hash = requestHash(request);
      // One statement: claim the key, or take over a record older than the retention window
      // (forgotten keys may be used afresh); a live record is left alone and read below.
      const inserted = await db
        .insertInto('idempotency_keys')
        .values({ scope, route, key, request_hash: hash, state: 'in_flight' })
        .onConflict((oc) =>
          oc
            .columns(['scope', 'route', 'key'])
            .doUpdateSet({
              request_hash: hash,
              state: 'in_flight',
              response_status: null,
              response_body: null,
              response_type: null,
              created_at: sql<Date>`now()`,
            })
            .where(
              'idempotency_keys.created_at',
              '<',
              sql<Date>`now() - make_interval(hours => ${RETENTION_HOURS})`,
            ),
        )
        .returning('key')
        .executeTakeFirst();
      const secretFields = secretFieldsOf(request);
      if (inserted) {
        request.idempotency = { scope, route, key, secretFields };
        return;
      }
      const existing = await db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('scope', '=', scope)
        .where('route', '=', route)
        .where('key', '=', key)
        .executeTakeFirst();
      if (!existing)
        throw conflict(
          'idempotency_in_flight',
          'A request with this Idempotency-Key is in progress; retry shortly.',
        );
      if (!existing.request_hash.equals(hash)) {
        throw unprocessable(
          'idempotency_key_reused',
          'This Idempotency-Key was used with a different request.',
          'Idempotency-Key',
        );
      }
      if (existing.state === 'in_flight') {
        throw conflict(
          'idempotency_in_flight',
          'A request with this Idempotency-Key is in progress; retry shortly.',
        );
      }
      const status = existing.response_status ?? 200;
      if (secretFields.length && status < 300) {
        reply.header('idempotent-replayed', 'true');
        throw conflict(
          'secret_shown_once',
          'The first request with this Idempotency-Key already created this; its secret was shown only ' +
            'in that response and is not stored. If it was lost, revoke what was created and create another.',
          { created: existing.response_body ? JSON.parse(existing.response_body) : null },
        );
      }
      reply.header('idempotent-replayed', 'true');
      if (existing.response_type) reply.type(existing.response_type);
      return reply.code(status).send(existing.response_body ?? '');
    });

    app.addHook('onSend', async (request, reply, payload) => {
      const idem = request.idempotency;
      if (!idem) return payload;
      request.idempotency = null;
      const where = db
        .updateTable('idempotency_keys')
        .where('scope', '=', idem.scope)
        .where('route', '=', idem.route)
        .where('key', '=', idem.key);
      if (reply.statusCode >= 500) {
        await db
          .deleteFrom('idempotency_keys')
          .where('scope', '=', idem.scope)
          .where('route', '=', idem.route)
          .where('key', '=', idem.key)
          .execute();
        return payload;
      }
      await where
        .set({
          state: 'done',
          response_status: reply.statusCode,
          response_body: redactSecrets(
            typeof payload === 'string' ? payload : payload == null ? '' : String(payload),
            idem.secretFields,
          ),
          response_type: String(reply.getHeader('content-type') ?? 'application/json'),
        })
        .execute();
      return payload;
    });
  },
  { name: 'idempotency', dependencies: ['auth'] },
);

// Notifications over REST, the WebSocket token, and the WebSocket itself.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import { AppError, forbidden, unauthorized } from '../../errors.ts';
import { requireUserPrincipal } from '../../plugins/auth.ts';
import { ProblemRef, errorResponses } from '../../schemas/common.ts';
import {
  NotificationIdParamsSchema,
  NotificationListQuerySchema,
  NotificationListSchema,
  NotificationSchema,
  ReadAllSchema,
  UnreadCountSchema,
  WsQuerySchema,
  WsTokenSchema,
} from '../../schemas/notifications.ts';
import type { NotificationsService } from '../../notifications/notifications.service.ts';
import { createNotificationHub } from '../../notifications/notification-hub.ts';
import { createTicketStore } from '../../notifications/ws-tickets.ts';
import { createConnectionRegistry } from '../../notifications/ws-connections.ts';

declare module 'fastify' {
  interface FastifyRequest {
    wsUserId?: string;
    wsSocketId?: string;
  }
}

export const WS_PROTOCOL = 'starling.v1';
const WS_TOKEN_TTL_SECONDS = 60;
const HEARTBEAT_MS = 30_000;

const routes: FastifyPluginAsyncTypebox<{ notifications: NotificationsService }> = async (
  app,
  { notifications },
) => {
  const { config } = app.ctx;
  const security = [{ bearer: [] }];
  const hub = createNotificationHub({ databaseUrl: config.DATABASE_URL, log: app.ctx.log });
  const tickets = createTicketStore(app.ctx.redis);
  const connections = createConnectionRegistry(app.ctx.redis, {
    cap: config.WS_MAX_CONNECTIONS_PER_USER,
    ttlMs: 3 * HEARTBEAT_MS,
  });
  app.addHook('onClose', async () => hub.close());

  await app.register(async (scope) => {
    const me = scope.withTypeProvider<TypeBoxTypeProvider>();
    me.addHook('onRequest', me.requireUser());

    me.get(
      '/me/notifications',
      {
        schema: {
          tags: ['notifications'],
          summary: 'My notifications, newest first',
          security,
          querystring: NotificationListQuerySchema,
          response: { 200: NotificationListSchema, ...errorResponses },
        },
      },
      async (request) =>
        notifications.list(requireUserPrincipal(request).userId, {
          limit: request.query.limit ?? 20,
          cursor: request.query.cursor,
          unread: request.query.unread,
        }),
    );

    me.get(
      '/me/notifications/unread-count',
      {
        schema: {
          tags: ['notifications'],
          summary: 'How many are unread',
          security,
          response: { 200: UnreadCountSchema, ...errorResponses },
        },
      },
      async (request) => notifications.unreadCount(requireUserPrincipal(request).userId),
    );

    me.post(
      '/me/notifications/:id/read',
      {
        schema: {
          tags: ['notifications'],
          summary: 'Mark one as read',
          security,
          params: NotificationIdParamsSchema,
          response: { 200: NotificationSchema, ...errorResponses },
        },
      },
      async (request) => notifications.markRead(requireUserPrincipal(request).userId, request.params.id),
    );

    me.post(
      '/me/notifications/read-all',
      {
        schema: {
          tags: ['notifications'],
          summary: 'Mark all as read',
          security,
          response: { 200: ReadAllSchema, ...errorResponses },
        },
      },
      async (request) => notifications.markAllRead(requireUserPrincipal(request).userId),
    );

    me.post(
      '/auth/ws-token',
      {
        schema: {
          tags: ['notifications', 'auth'],
          summary: 'A short-lived, single-use token for the WebSocket handshake',
          description: [
            'The WebSocket itself (GET /v1/ws, an upgrade, so not listed as a route of its own):',
            '- authenticate with ?token=<token>, or Sec-WebSocket-Protocol "starling.v1, bearer.<token>" (the server answers starling.v1);',
            '- the Origin must be one of CORS_ORIGINS (browsers always send it); at most WS_MAX_CONNECTIONS_PER_USER sockets per user (429), client messages up to WS_MAX_MESSAGE_BYTES (else close 1009);',
            '- add &after=<last notification id seen> when reconnecting: everything after it is sent first (at most 500; then page GET /v1/me/notifications);',
            '- server messages: {"type":"ready","last_id","replayed","truncated"}, {"type":"notification","notification":{…as in GET /v1/me/notifications}}, {"type":"pong"} for a client {"type":"ping"}.',
          ].join('\n'),
          security,
          response: { 200: WsTokenSchema, ...errorResponses },
        },
      },
      async (request) => {
        const p = requireUserPrincipal(request);
        const { token, exp } = await me.tokens.sign('ws', p.userId, p.role, WS_TOKEN_TTL_SECONDS);
        const base = config.PUBLIC_API_URL.replace(/^http/, 'ws').replace(/\/+$/, '');
        return {
          token,
          expires_at: new Date(exp * 1000).toISOString(),
          url: `${base}/v1/ws?token=${token}`,
          protocol: WS_PROTOCOL,
        };
      },
    );
  });

  await app.register(async (scope) => {
    await scope.register(websocket, {
      options: {
        maxPayload: config.WS_MAX_MESSAGE_BYTES,
        handleProtocols: (protocols: Set<string>) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
      },
    });
    const ws = scope.withTypeProvider<TypeBoxTypeProvider>();

    // Everything is checked before the upgrade (preHandler: after the query is validated), so a
    // refused handshake is a plain HTTP problem and takes no connection slot.
    ws.addHook('preHandler', async (request) => {
      // A plain GET is answered before any ticket or connection slot is spent on it.
      if (!request.ws) throw upgradeRequired();
      const origin = request.headers.origin;
      // Browsers always send Origin; one outside the allow-list is a cross-site page.
      if (origin !== undefined && !config.CORS_ORIGINS.includes(origin)) {
        throw forbidden('origin_not_allowed', 'This origin may not open the WebSocket.');
      }
      const fromQuery = (request.query as { token?: string }).token;
      const fromProtocol = String(request.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((s) => s.trim())
        .find((s) => s.startsWith('bearer.'))
        ?.slice('bearer.'.length);
      const token = fromQuery ?? fromProtocol;
      if (!token) throw unauthorized('unauthenticated', 'Connect with a token from POST /v1/auth/ws-token.');
      const claims = await ws.tokens.verify('ws', token);
      if (!(await tickets.consume(claims.jti, (WS_TOKEN_TTL_SECONDS + 60) * 1000))) {
        throw unauthorized('token_used', 'This WebSocket token was already used; ask for a new one.');
      }
      // Counted across instances; the slot is taken now, so two handshakes cannot both take the last.
      const socketId = randomUUID();
      if (!(await connections.acquire(claims.sub, socketId))) {
        throw new AppError(
          429,
          'too_many_connections',
          `At most ${config.WS_MAX_CONNECTIONS_PER_USER} open connections per user.`,
        );
      }
      request.wsUserId = claims.sub;
      request.wsSocketId = socketId;
    });

    // Declared with wsHandler + handler (not `websocket: true`, which hides the route from the
    // OpenAPI document): upgrades go to wsHandler, and a plain GET gets a 426 problem.
    ws.route({
      method: 'GET',
      url: '/ws',
      handler: async () => {
        throw upgradeRequired();
      },
      schema: {
        tags: ['notifications'],
        summary: 'WebSocket: live notifications (messages: ready, notification, pong)',
        description:
          'Authenticate with ?token=<ws token> or Sec-WebSocket-Protocol: starling.v1, bearer.<ws token>. Reconnect with ?after=<last id seen> to receive everything missed first.',
        querystring: WsQuerySchema,
        response: { 426: ProblemRef, ...errorResponses },
      },
      wsHandler: (socket: WebSocket, request) => {
        const userId = request.wsUserId!;
        const socketId = request.wsSocketId!;
        let stop: (() => void) | null = null;
        let closed = false;
        let alive = true;
        const release = () => {
          if (closed) return;
          closed = true;
          clearInterval(heartbeat);
          stop?.();
          void connections.release(userId, socketId);
        };
        const heartbeat = setInterval(() => {
          if (!alive) return socket.terminate();
          alive = false;
          socket.ping();
          void connections.refresh(userId, socketId);
        }, HEARTBEAT_MS);
        socket.on('pong', () => {
          alive = true;
        });
        socket.on('close', release);
        socket.on('error', release);
        socket.on('message', (raw, isBinary) => {
          if (isBinary) return socket.close(1003, 'text only');
          try {
            const msg = JSON.parse(raw.toString()) as { type?: unknown };
            if (msg.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
          } catch {
            socket.close(1007, 'invalid JSON');
          }
        });
        const after = (request.query as { after?: string }).after ?? null;
        notifications
          .openSession(hub, userId, after, (m) => {
            if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(m));
          })
          .then((s) => {
            if (closed) s();
            else stop = s;
          })
          .catch((err: unknown) => {
            request.log.error({ err }, 'websocket session failed');
            socket.close(1011, 'server error');
          });
      },
    });
  });
};

function upgradeRequired(): AppError {
  return new AppError(
    426,
    'upgrade_required',
    'Open this URL as a WebSocket (Upgrade: websocket), with a token from POST /v1/auth/ws-token.',
    {},
    { upgrade: 'websocket', connection: 'Upgrade' },
  );
}

export default routes;

// Builds the API: context → cross-cutting plugins → services → routes. Registration is explicit
// (not autoload) so the order the plugins depend on is visible in one place and fully typed.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.ts';
import { closeContext, createContext, type AppContext } from './context.ts';
import { createValidatorCompiler } from './plugins/validation.ts';
import securityHeaders from './plugins/security-headers.ts';
import { registerProblemHandlers } from './plugins/problem.ts';
import authPlugin from './plugins/auth.ts';
import idempotencyPlugin from './plugins/idempotency.ts';
import rateLimitPlugin from './plugins/rate-limit.ts';
import observabilityPlugin, { createMetrics } from './plugins/observability.ts';
import { ProblemSchema } from './schemas/common.ts';
import { createServices, type Services } from './services.ts';
import authRoutes from './routes/auth/index.ts';
import meRoutes from './routes/me/index.ts';
import usersRoutes from './routes/users/index.ts';
import adminRoutes from './routes/admin/index.ts';
import forumRoutes from './routes/forums/index.ts';
import reviewRoutes from './routes/reviews/index.ts';
import enrolmentRoutes from './routes/enrolments/index.ts';
import courseRoutes from './routes/courses/index.ts';
import chainRoutes from './routes/chain/index.ts';
import rosterRoutes from './routes/roster/index.ts';
import governanceRoutes from './routes/governance/index.ts';
import { createGovernanceService } from './governance/governance.service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
    services: Services;
  }
}

export type App = FastifyInstance;

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

export interface BuildOptions {
  config: Readonly<Config>;
  /** Supply to share a context (tests); otherwise the app creates and closes its own. */
  context?: AppContext;
  logger?: Logger;
  /** Sees every route as it registers, hidden ones too (tests compare them with the OpenAPI document). */
  onRoute?: (route: RouteOptions) => void;
}

/** The production logger: credentials in request headers never reach a log line. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, destination?: DestinationStream): Logger {
  const options = { level: config.LOG_LEVEL, redact: ['req.headers.authorization', 'req.headers.cookie'] };
  return destination ? pino(options, destination) : pino(options);
}

export async function buildApp(opts: BuildOptions): Promise<App> {
  const { config } = opts;
  const log = opts.logger ?? createLogger(config);
  const ctx = opts.context ?? createContext(config, log);

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);
  app.decorate('ctx', ctx);
  app.setValidatorCompiler(createValidatorCompiler());
  app.addSchema(ProblemSchema);
  registerProblemHandlers(app);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  if (!opts.context) app.addHook('onClose', async () => closeContext(ctx));

  await app.register(securityHeaders, {
    helmet: {
      contentSecurityPolicy: {
        // The API serves JSON; only /docs renders HTML (Swagger UI needs its inline styles).
        directives: {
          defaultSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
        },
      },
    },
  });
  await app.register(cors, {
    origin: (origin, cb) => cb(null, !origin || config.CORS_ORIGINS.includes(origin)),
    credentials: true,
    exposedHeaders: [
      'x-request-id',
      'ratelimit-limit',
      'ratelimit-remaining',
      'ratelimit-reset',
      'retry-after',
      'idempotent-replayed',
    ],
  });
  const metrics = createMetrics();
  await app.register(observabilityPlugin, { ctx, metrics });
  await app.register(rateLimitPlugin, { ctx, fallbacks: metrics.rateLimitFallbacks });
  await app.register(authPlugin, { ctx });
  await app.register(idempotencyPlugin, { ctx });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Starling API',
        version: '1.0.0',
        description:
          'Learning progress, certificates and BST rewards confirmed on Stellar. Errors are RFC 9457 problem details (application/problem+json).',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An access token, or an API key (stk_…)' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.decorate('services', createServices(ctx, app.tokens));
  await app.register(
    async (v1) => {
      await v1.register(authRoutes, { prefix: '/auth' });
      await v1.register(meRoutes, { prefix: '/me' });
      await v1.register(usersRoutes, { prefix: '/users' });
      await v1.register(adminRoutes, { prefix: '/admin' });
      await v1.register(forumRoutes);
      await v1.register(reviewRoutes);
      await v1.register(enrolmentRoutes);
      await v1.register(courseRoutes);
      await v1.register(chainRoutes);
      await v1.register(rosterRoutes);
      await v1.register(governanceRoutes, { governance: createGovernanceService(ctx) });
    },
    { prefix: '/v1' },
  );
  return app;
}

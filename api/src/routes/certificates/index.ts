// Certificates: mine (signed in), the public credential views for verifiers (no account), and
// revocation by an admin.
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireUserPrincipal } from '../../plugins/auth.ts';
import { CursorQuerySchema, errorResponses } from '../../schemas/common.ts';
import {
  CredentialParamsSchema,
  CredentialSchema,
  MyCertificatesSchema,
  OpenBadgeSchema,
  RevokeBodySchema,
  RevokedSchema,
} from '../../schemas/certificates.ts';
import type { CertificatesService } from '../../certificates/certificates.service.ts';

const routes: FastifyPluginAsyncTypebox<{ certificates: CertificatesService }> = async (
  app,
  { certificates },
) => {
  const security = [{ bearer: [] }];

  await app.register(async (scope) => {
    const me = scope.withTypeProvider<TypeBoxTypeProvider>();
    me.addHook('onRequest', me.requireUser());
    me.get(
      '/me/certificates',
      {
        schema: {
          tags: ['certificates'],
          summary: 'My certificates and their state on chain',
          security,
          querystring: CursorQuerySchema,
          response: { 200: MyCertificatesSchema, ...errorResponses },
        },
      },
      async (request) =>
        certificates.myCertificates(
          requireUserPrincipal(request).userId,
          request.query.limit ?? 20,
          request.query.cursor,
        ),
    );
  });

  await app.register(async (scope) => {
    const admin = scope.withTypeProvider<TypeBoxTypeProvider>();
    admin.addHook('onRequest', admin.requireUser('admin'));
    admin.post(
      '/admin/certificates/:id/revoke',
      {
        config: { idempotent: true },
        schema: {
          tags: ['certificates', 'admin'],
          summary: 'Revoke a certificate (queues the on-chain revocation)',
          security,
          params: CredentialParamsSchema,
          body: RevokeBodySchema,
          response: { 200: RevokedSchema, ...errorResponses },
        },
      },
      async (request) =>
        certificates.revoke(
          requireUserPrincipal(request),
          request.params.id,
          request.body.reason.trim(),
          request.id,
        ),
    );
  });

  // Public: verifiers need no account. Short shared caching; revocations show within seconds.
  const publicCache = 'public, max-age=10';
  const pdfRateLimit = { max: 60, timeWindow: 60_000 };

  app.get(
    '/credentials/:id',
    {
      schema: {
        tags: ['credentials'],
        summary: 'Verify a certificate: status, document, hash and chain proof',
        params: CredentialParamsSchema,
        response: { 200: CredentialSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const json = await certificates.publicCredentialJson(request.params.id);
      return reply.header('cache-control', publicCache).type('application/json; charset=utf-8').send(json);
    },
  );

  app.get(
    '/credentials/:id/document',
    {
      schema: {
        tags: ['credentials'],
        summary: 'The certificate document as the exact RFC 8785 bytes whose SHA-256 is anchored on chain',
        params: CredentialParamsSchema,
        response: { 200: Type.Object({}, { additionalProperties: true }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const doc = await certificates.canonicalDocument(request.params.id);
      return reply
        .header('cache-control', 'public, max-age=86400, immutable')
        .header('repr-digest', `sha-256=:${Buffer.from(doc.hash, 'hex').toString('base64')}:`)
        .type('application/json; charset=utf-8')
        .serializer((p: unknown) => p as string)
        .send(doc.body);
    },
  );

  const pdfHandler = {
    config: { rateLimit: pdfRateLimit },
    schema: {
      tags: ['credentials'],
      summary: 'The certificate as a PDF with a QR code to the verification page',
      params: CredentialParamsSchema,
      response: {
        200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary', contentMediaType: 'application/pdf' }),
        ...errorResponses,
      },
    },
  };
  const sendPdf = async (id: string, reply: import('fastify').FastifyReply) => {
    const bytes = await certificates.pdf(id);
    return reply
      .header('cache-control', publicCache)
      .header('content-disposition', `inline; filename="starling-certificate-${id}.pdf"`)
      .type('application/pdf')
      .send(Buffer.from(bytes));
  };
  app.get('/credentials/:id/pdf', pdfHandler, async (request, reply) => sendPdf(request.params.id, reply));
  app.get(
    '/credentials/:file(^[0-9a-fA-F-]{36}\\.pdf$)',
    {
      ...pdfHandler,
      schema: {
        ...pdfHandler.schema,
        summary: 'Same as /credentials/{id}/pdf',
        params: Type.Object({ file: Type.String({ pattern: '^[0-9a-fA-F-]{36}\\.pdf$' }) }),
      },
    },
    async (request, reply) => sendPdf(request.params.file.slice(0, 36), reply),
  );

  app.get(
    '/credentials/:id/badge',
    {
      schema: {
        tags: ['credentials'],
        summary: 'The certificate as an Open Badges 3.0 credential anchored by the on-chain hash',
        params: CredentialParamsSchema,
        response: { 200: OpenBadgeSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', publicCache).type('application/ld+json');
      return certificates.badge(request.params.id);
    },
  );
};

export default routes;

// Certificates: the learner's list, the public credential for verifiers (document, hash, chain
// proof), its PDF and Open Badge, and revocation by an admin (a revoke intent, audited).
import type { AppContext } from '../context.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import type { Principal } from '../auth/principal.ts';
import { insertIntent, intentKeys, listIntentsForCertificates } from '../intents/intents.repository.ts';
import { notifyCertificateRevoked } from '../notifications/notifications.repository.ts';
import { certificateSummary } from '../learning/learning.service.ts';
import {
  findCertificateView,
  listCertificatesForUser,
  lockCertificate,
  markCertificateRevoked,
  type CertificateView,
} from './certificates.repository.ts';
import { renderCertificatePdf } from './certificate-pdf.ts';
import { buildOpenBadge } from './open-badge.ts';

const PUBLIC_CACHE_MAX = 10_000;

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

function decodeCursor(cursor: string): { issuedAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    const issuedAt = new Date(at);
    if (Number.isNaN(issuedAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) throw new Error('bad');
    return { issuedAt, id };
  } catch {
    throw badRequest('invalid_cursor', 'The cursor is not one this API returned.', 'cursor');
  }
}

export function createCertificatesService(ctx: AppContext) {
  const { db, config } = ctx;
  const web = config.PUBLIC_WEB_URL.replace(/\/+$/, '');
  const apiBase = config.PUBLIC_API_URL.replace(/\/+$/, '');
  const urls = (id: string) => ({
    web,
    verify: `${web}/verify/${id}`,
    credential: `${apiBase}/v1/credentials/${id}`,
    document: `${apiBase}/v1/credentials/${id}/document`,
    pdf: `${apiBase}/v1/credentials/${id}/pdf`,
    badge: `${apiBase}/v1/credentials/${id}/badge`,
  });

  // The public view is read far more than it changes: each instance keeps the serialized answer
  // for a few seconds (as long as shared caches may keep it anyway); a revocation through this
  // instance drops it at once. A revocation elsewhere (ingest seeing one made on chain) shows
  // within CREDENTIAL_CACHE_MS, like it does behind shared caches.
  const publicCache = new Map<string, { expires: number; json: Buffer }>();
  // Bumped after every revocation commits: a read that began before the bump may hold the
  // pre-revoke row, so it answers but does not cache.
  let generation = 0;

  async function load(id: string): Promise<CertificateView> {
    const cert = await findCertificateView(db, id);
    if (!cert) throw notFound('credential_not_found', 'No certificate with that id exists.');
    return cert;
  }

  return {
    async myCertificates(userId: string, limit: number, cursor?: string) {
      const rows = await listCertificatesForUser(
        db,
        userId,
        limit + 1,
        cursor ? decodeCursor(cursor) : undefined,
      );
      const page = rows.slice(0, limit);
      const intents = await listIntentsForCertificates(
        db,
        page.map((r) => r.id),
      );
      const last = page.at(-1);
      return {
        certificates: page.map((r) => ({
          ...certificateSummary(r, intents)!,
          course: { id: r.course_id, title: r.course_title, slug: r.course_slug },
          verify_url: `${web}/verify/${r.id}`,
        })),
        next_cursor: rows.length > limit && last ? encodeCursor(last.issued_at, last.id) : null,
      };
    },

    /** What a verifier sees: no account needed, nothing private (no email, no user id). */
    async publicCredential(id: string) {
      const c = await load(id);
      const u = urls(id);
      return {
        id: c.id,
        status: c.status as 'pending' | 'confirmed' | 'revoked',
        learner: { name: c.learner_name, address: c.student_address },
        course: { id: c.course_id, title: c.course_title, slug: c.course_slug },
        issued_at: c.issued_at.toISOString(),
        confirmed_at: c.confirmed_at?.toISOString() ?? null,
        revoked_at: c.revoked_at?.toISOString() ?? null,
        revoke_reason: c.revoke_reason,
        document: c.document as Record<string, unknown>,
        document_hash: c.document_hash,
        hash_algorithm: 'sha-256 over the RFC 8785 canonical JSON of document',
        chain:
          c.chain_certificate_id !== null
            ? {
                network: c.network ?? config.STELLAR_NETWORK,
                contract_id: c.contract_id,
                certificate_id: String(c.chain_certificate_id),
                tx_hash: c.tx_hash,
                ledger: c.ledger,
                ledger_closed_at: c.ledger_closed_at?.toISOString() ?? null,
              }
            : null,
        revocation_chain:
          c.revoke_tx_hash !== null
            ? {
                tx_hash: c.revoke_tx_hash,
                ledger: c.revoke_ledger,
                ledger_closed_at: c.revoke_ledger_closed_at?.toISOString() ?? null,
              }
            : null,
        links: { verify: u.verify, document: u.document, pdf: u.pdf, badge: u.badge },
      };
    },

    /** The public view as UTF-8 JSON bytes, from the short per-instance cache when fresh. */
    async publicCredentialJson(id: string): Promise<Buffer> {
      const now = Date.now();
      const hit = publicCache.get(id);
      if (hit && hit.expires > now) return hit.json;
      const readAt = generation;
      const json = Buffer.from(JSON.stringify(await this.publicCredential(id)));
      if (config.CREDENTIAL_CACHE_MS === 0 || readAt !== generation) return json;
      if (publicCache.size >= PUBLIC_CACHE_MAX) publicCache.delete(publicCache.keys().next().value!);
      publicCache.set(id, { expires: now + config.CREDENTIAL_CACHE_MS, json });
      return json;
    },

    /** The exact bytes that were hashed. */
    async canonicalDocument(id: string) {
      const c = await load(id);
      return { body: c.document_canonical, hash: c.document_hash };
    },

    async pdf(id: string) {
      const c = await load(id);
      return renderCertificatePdf({
        learnerName: c.learner_name,
        courseTitle: c.course_title,
        issuedAt: c.issued_at,
        status: c.status as 'pending' | 'confirmed' | 'revoked',
        documentHash: c.document_hash,
        verifyUrl: `${web}/verify/${c.id}`,
        network: c.network ?? config.STELLAR_NETWORK,
        txHash: c.tx_hash,
        ledger: c.ledger,
      });
    },

    async badge(id: string) {
      const c = await load(id);
      return buildOpenBadge(c, urls(id), config.STELLAR_NETWORK, config.CERTIFICATE_CONTRACT_ID);
    },

    /**
     * Marks the certificate revoked at once and queues the on-chain revocation (key revoke:<id>).
     * The submitter needs the chain id, so it holds the intent until the issue is confirmed.
     */
    async revoke(actor: Principal, id: string, reason: string, requestId: string) {
      const result = await db.transaction().execute(async (tx) => {
        const cert = await lockCertificate(tx, id);
        if (!cert) throw notFound('certificate_not_found', 'No certificate with that id exists.');
        if (cert.status === 'revoked')
          throw conflict('already_revoked', 'This certificate is already revoked.');
        const revoked = await markCertificateRevoked(
          tx,
          id,
          reason,
          actor.kind === 'user' ? actor.userId : null,
        );
        const intent = await insertIntent(tx, {
          kind: 'revoke_certificate',
          key: intentKeys.revoke(id),
          userId: cert.user_id,
          courseId: cert.course_id,
          certificateId: id,
          args: {
            certificate_id: id,
            chain_certificate_id: cert.chain_certificate_id,
            reason,
            student: cert.student_address,
          },
        });
        await recordAudit(tx, {
          actor,
          action: 'certificate.revoked',
          targetType: 'certificate',
          targetId: id,
          requestId,
          data: { reason, intent_id: intent?.id ?? null },
        });
        await notifyCertificateRevoked(tx, id);
        return {
          id,
          status: 'revoked' as const,
          revoked_at: (revoked?.revoked_at ?? new Date()).toISOString(),
          reason,
          intent_id: intent?.id ?? null,
        };
      });
      // Only after commit: cleared inside the transaction, a read before the commit would cache
      // the pre-revoke answer again.
      generation += 1;
      publicCache.delete(id);
      return result;
    },
  };
}

export type CertificatesService = ReturnType<typeof createCertificatesService>;

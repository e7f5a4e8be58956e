import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PDFDocument, PDFName, PDFNumber, PDFRawStream } from 'pdf-lib';
import QRCode from 'qrcode';
import canonicalize from 'canonicalize';
import { sql } from 'kysely';
import { bearer, buildTestApp, makeRole, registerUser, loginAs, type TestApp } from '../test/harness.ts';
import { count, createCourse, enrol } from '../test/learning-fixtures.ts';

let t: TestApp;
let learner: Awaited<ReturnType<typeof registerUser>>;
let other: Awaited<ReturnType<typeof registerUser>>;
let adminToken: string;
let certId: string;
let courseId: string;

const WEB = 'https://starling.test';

beforeAll(async () => {
  t = await buildTestApp({
    env: {
      PUBLIC_WEB_URL: WEB,
      PUBLIC_API_URL: 'https://api.starling.test',
      STELLAR_NETWORK: 'testnet',
      CREDENTIAL_CACHE_MS: '0',
    },
  });
  const instructor = await registerUser(t.app, { display_name: 'Grace Instructor' });
  learner = await registerUser(t.app, { display_name: 'Ada Lovelace' });
  other = await registerUser(t.app);
  const admin = await registerUser(t.app);
  await makeRole(t.ctx, admin.userId, 'admin');
  adminToken = await loginAs(t.app, admin.email);
  const c = await createCourse(t.ctx, { instructorId: instructor.userId, lessons: 1, title: 'Soroban 101' });
  courseId = c.courseId;
  await enrol(t.ctx, learner.userId, c.courseId);
  const res = await t.app.inject({
    method: 'POST',
    url: `/v1/lessons/${c.lessonIds[0]}/complete`,
    headers: bearer(learner.access),
  });
  certId = res.json().certificate.id;
});
afterAll(async () => t?.close());

const get = (url: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url, headers });

async function confirmOnChain(id: string) {
  // What the indexer's ingest writes when it sees certificate_issued.
  await t.ctx.db
    .updateTable('certificates')
    .set({
      status: 'confirmed',
      chain_certificate_id: '7',
      contract_id: `C${'A'.repeat(55)}`,
      network: 'testnet',
      tx_hash: 'ab'.repeat(32),
      ledger: 4242,
      ledger_closed_at: new Date('2026-11-22T00:00:05Z'),
      confirmed_at: new Date(),
    })
    .where('id', '=', id)
    .execute();
}

describe('my certificates', () => {
  it('lists mine only, with their chain state', async () => {
    const mine = await get('/v1/me/certificates', bearer(learner.access));
    expect(mine.statusCode).toBe(200);
    expect(mine.headers['cache-control']).toBe('no-store');
    expect(mine.json().certificates).toEqual([
      expect.objectContaining({
        id: certId,
        status: 'pending',
        chain: expect.objectContaining({ status: 'pending' }),
        course: expect.objectContaining({ title: 'Soroban 101' }),
        verify_url: `${WEB}/verify/${certId}`,
      }),
    ]);
    expect((await get('/v1/me/certificates', bearer(other.access))).json()).toEqual({
      certificates: [],
      next_cursor: null,
    });
    expect((await get('/v1/me/certificates')).statusCode).toBe(401);
    const bad = await get('/v1/me/certificates?cursor=nope', bearer(learner.access));
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'invalid_cursor', field: 'cursor' });
    expect((await get('/v1/me/certificates?limit=0', bearer(learner.access))).statusCode).toBe(400);
  });
});

describe('public credential', () => {
  it('shows a pending certificate to anyone, with nothing private', async () => {
    const res = await get(`/v1/credentials/${certId}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      id: certId,
      status: 'pending',
      learner: { name: 'Ada Lovelace' },
      course: { id: courseId, title: 'Soroban 101' },
      chain: null,
      revoked_at: null,
    });
    expect(body.document).toMatchObject({ type: 'StarlingCertificate', id: certId, network: 'testnet' });
    expect(res.body).not.toContain(learner.email);
    expect(res.body).not.toContain(learner.userId);
  });

  it('serves canonical bytes whose SHA-256 is the anchored hash', async () => {
    const cred = (await get(`/v1/credentials/${certId}`)).json();
    const doc = await get(`/v1/credentials/${certId}/document`);
    expect(doc.statusCode).toBe(200);
    expect(doc.headers['content-type']).toMatch(/^application\/json/);
    const hash = createHash('sha256').update(doc.rawPayload).digest('hex');
    expect(hash).toBe(cred.document_hash);
    expect(doc.headers['repr-digest']).toBe(`sha-256=:${Buffer.from(hash, 'hex').toString('base64')}:`);
    // The bytes are canonical (RFC 8785) and the same document the JSON view shows.
    expect(canonicalize(JSON.parse(doc.body))).toBe(doc.body);
    expect(JSON.parse(doc.body)).toEqual(cred.document);
    // And the issue intent carries exactly this hash to the chain.
    const intent = await t.ctx.db
      .selectFrom('intents')
      .select('args')
      .where('idempotency_key', '=', `cert:${learner.userId}:${courseId}`)
      .executeTakeFirstOrThrow();
    expect((intent.args as { metadata_hash: string }).metadata_hash).toBe(hash);
  });

  it('says not found, and rejects malformed ids, as problem+json', async () => {
    const missing = await get('/v1/credentials/00000000-0000-4000-8000-000000000000');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(missing.json().code).toBe('credential_not_found');
    expect((await get('/v1/credentials/00000000-0000-4000-8000-000000000000/document')).statusCode).toBe(404);
    expect((await get('/v1/credentials/00000000-0000-4000-8000-000000000000/pdf')).statusCode).toBe(404);
    expect((await get('/v1/credentials/00000000-0000-4000-8000-000000000000.pdf')).statusCode).toBe(404);
    expect((await get('/v1/credentials/00000000-0000-4000-8000-000000000000/badge')).statusCode).toBe(404);
    const bad = await get('/v1/credentials/123');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('id');
  });

  it('shows the chain proof once ingest has confirmed it', async () => {
    await confirmOnChain(certId);
    const body = (await get(`/v1/credentials/${certId}`)).json();
    expect(body.status).toBe('confirmed');
    expect(body.chain).toEqual({
      network: 'testnet',
      contract_id: `C${'A'.repeat(55)}`,
      certificate_id: '7',
      tx_hash: 'ab'.repeat(32),
      ledger: 4242,
      ledger_closed_at: '2026-11-22T00:00:05.000Z',
    });
    const mine = (await get('/v1/me/certificates', bearer(learner.access))).json();
    expect(mine.certificates[0]).toMatchObject({
      status: 'confirmed',
      chain: { status: 'confirmed', ledger: 4242 },
    });
  });

  it('renders a real PDF whose QR code encodes the verification URL', async () => {
    for (const url of [`/v1/credentials/${certId}/pdf`, `/v1/credentials/${certId}.pdf`]) {
      const res = await get(url);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/pdf');
      const bytes = res.rawPayload;
      expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const pdf = await PDFDocument.load(bytes);
      expect(pdf.getPageCount()).toBe(1);
      expect(pdf.getSubject()).toBe(`${WEB}/verify/${certId}`);

      // Find the embedded image and read its modules back: they must be the QR of the verify URL.
      const image = pdf.context
        .enumerateIndirectObjects()
        .map(([, o]) => o)
        .find(
          (o): o is PDFRawStream =>
            o instanceof PDFRawStream && o.dict.get(PDFName.of('Subtype')) === PDFName.of('Image'),
        );
      expect(image).toBeDefined();
      const w = (image!.dict.get(PDFName.of('Width')) as PDFNumber).asNumber();
      const pixels = inflateSync(Buffer.from(image!.contents));
      const channels = pixels.length / (w * w);
      const qr = QRCode.create(`${WEB}/verify/${certId}`, { errorCorrectionLevel: 'M' });
      const n = qr.modules.size;
      const scale = w / (n + 2); // margin of one module each side
      for (let row = 0; row < n; row += 1) {
        for (let col = 0; col < n; col += 1) {
          const x = Math.floor((col + 1.5) * scale);
          const y = Math.floor((row + 1.5) * scale);
          const dark = pixels[(y * w + x) * channels]! < 128;
          expect(dark).toBe(Boolean(qr.modules.get(row, col)));
        }
      }
    }
  });

  it('is an Open Badges 3.0 credential anchored by the on-chain hash', async () => {
    const res = await get(`/v1/credentials/${certId}/badge`);
    expect(res.statusCode).toBe(200);
    const badge = res.json();
    expect(badge['@context']).toEqual([
      'https://www.w3.org/ns/credentials/v2',
      'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
    ]);
    expect(badge.type).toEqual(['VerifiableCredential', 'OpenBadgeCredential']);
    expect(badge.id).toBe(`${WEB}/verify/${certId}`);
    expect(badge.issuer).toMatchObject({ type: ['Profile'], name: 'Starling' });
    expect(badge.credentialSubject).toMatchObject({
      type: ['AchievementSubject'],
      achievement: {
        type: ['Achievement'],
        name: 'Soroban 101',
        criteria: { narrative: expect.any(String) },
      },
    });
    const cred = (await get(`/v1/credentials/${certId}`)).json();
    expect(badge.evidence[0].id).toBe(`https://api.starling.test/v1/credentials/${certId}/document`);
    expect(badge.evidence[0].narrative).toBe(`sha256:${cred.document_hash}`);
    expect(badge.evidence[0].description).toContain('ab'.repeat(32));
    expect(badge.validFrom).toBe(cred.issued_at);
  });
});

describe('revocation', () => {
  it('only admins revoke; bad input writes nothing', async () => {
    const url = `/v1/admin/certificates/${certId}/revoke`;
    const asLearner = await t.app.inject({
      method: 'POST',
      url,
      headers: bearer(learner.access),
      payload: { reason: 'mine' },
    });
    expect(asLearner.statusCode).toBe(403);
    expect((await t.app.inject({ method: 'POST', url, payload: { reason: 'x' } })).statusCode).toBe(401);
    const before = await count(t.ctx, 'audit_log');
    for (const payload of [
      {},
      { reason: '' },
      { reason: '   ' },
      { reason: 'x'.repeat(257) },
      { reason: 'ok', extra: 1 },
    ]) {
      const res = await t.app.inject({ method: 'POST', url, headers: bearer(adminToken), payload });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    expect(await count(t.ctx, 'intents', { kind: 'revoke_certificate' })).toBe(0);
    expect(await count(t.ctx, 'audit_log')).toBe(before);
    expect((await get(`/v1/credentials/${certId}`)).json().status).toBe('confirmed');
    const missing = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/certificates/00000000-0000-4000-8000-000000000000/revoke',
      headers: bearer(adminToken),
      payload: { reason: 'x' },
    });
    expect(missing.statusCode).toBe(404);
  });

  it('an admin revokes: revoke intent, audit entry, notification, and verifiers see it at once', async () => {
    const url = `/v1/admin/certificates/${certId}/revoke`;
    const res = await t.app.inject({
      method: 'POST',
      url,
      headers: bearer(adminToken),
      payload: { reason: 'Academic misconduct' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: certId, status: 'revoked', reason: 'Academic misconduct' });
    const intent = await t.ctx.db
      .selectFrom('intents')
      .selectAll()
      .where('idempotency_key', '=', `revoke:${certId}`)
      .executeTakeFirstOrThrow();
    expect(intent).toMatchObject({ kind: 'revoke_certificate', status: 'pending', certificate_id: certId });
    expect(intent.args).toMatchObject({
      certificate_id: certId,
      chain_certificate_id: '7',
      reason: 'Academic misconduct',
    });
    const audit = await t.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'certificate.revoked')
      .where('target_id', '=', certId)
      .execute();
    expect(audit).toHaveLength(1);
    expect(
      await count(t.ctx, 'notifications', { user_id: learner.userId, kind: 'certificate_revoked' }),
    ).toBe(1);

    const cred = (await get(`/v1/credentials/${certId}`)).json();
    expect(cred).toMatchObject({ status: 'revoked', revoke_reason: 'Academic misconduct' });
    expect(cred.revoked_at).not.toBeNull();
    const badge = (await get(`/v1/credentials/${certId}/badge`)).json();
    expect(badge.credentialStatus.status).toBe('revoked');
    expect(badge.validUntil).toBe(cred.revoked_at);

    const again = await t.app.inject({
      method: 'POST',
      url,
      headers: bearer(adminToken),
      payload: { reason: 'Again' },
    });
    expect(again.statusCode).toBe(409);
    expect(await count(t.ctx, 'intents', { kind: 'revoke_certificate' })).toBe(1);
  });
});

describe('public credential cache', () => {
  /** A learner's pending certificate (one-lesson course completed) and an admin's token, on `app`. */
  async function pendingCertificate(app: TestApp) {
    const instructor = await registerUser(app.app);
    const l = await registerUser(app.app);
    const admin = await registerUser(app.app);
    await makeRole(app.ctx, admin.userId, 'admin');
    const token = await loginAs(app.app, admin.email);
    const c = await createCourse(app.ctx, { instructorId: instructor.userId, lessons: 1 });
    await enrol(app.ctx, l.userId, c.courseId);
    const complete = await app.app.inject({
      method: 'POST',
      url: `/v1/lessons/${c.lessonIds[0]}/complete`,
      headers: bearer(l.access),
    });
    return { l, token, id: complete.json().certificate.id as string };
  }

  it('serves the same answer for a few seconds, and a revocation through this instance clears it', async () => {
    const cached = await buildTestApp({ env: { CREDENTIAL_CACHE_MS: '60000' } });
    try {
      const { l, token, id } = await pendingCertificate(cached);
      const first = await cached.app.inject({ method: 'GET', url: `/v1/credentials/${id}` });
      expect(first.json().status).toBe('pending');
      expect(first.headers['content-type']).toMatch(/^application\/json/);
      await cached.ctx.db
        .updateTable('users')
        .set({ display_name: 'Renamed' })
        .where('id', '=', l.userId)
        .execute();
      expect((await cached.app.inject({ method: 'GET', url: `/v1/credentials/${id}` })).body).toBe(
        first.body,
      );
      await cached.app.inject({
        method: 'POST',
        url: `/v1/admin/certificates/${id}/revoke`,
        headers: bearer(token),
        payload: { reason: 'Fraud' },
      });
      expect((await cached.app.inject({ method: 'GET', url: `/v1/credentials/${id}` })).json()).toMatchObject(
        { status: 'revoked', learner: { name: 'Renamed' } },
      );
    } finally {
      await cached.close();
    }
  });

  it('a read while the revocation commits does not leave the pre-revoke answer cached', async () => {
    const cached = await buildTestApp({ env: { CREDENTIAL_CACHE_MS: '60000' } });
    try {
      const { token, id } = await pendingCertificate(cached);
      const credential = () => cached.app.inject({ method: 'GET', url: `/v1/credentials/${id}` });
      expect((await credential()).json().status).toBe('pending');
      // Hold the revocation at its commit (a deferred trigger runs there), after all its statements.
      await sql`CREATE FUNCTION stall_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$`.execute(
        cached.ctx.db,
      );
      await sql`CREATE CONSTRAINT TRIGGER stall_commit AFTER INSERT ON audit_log DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.action = 'certificate.revoked') EXECUTE FUNCTION stall_commit()`.execute(
        cached.ctx.db,
      );
      const revoking = cached.app.inject({
        method: 'POST',
        url: `/v1/admin/certificates/${id}/revoke`,
        headers: bearer(token),
        payload: { reason: 'Fraud' },
      });
      for (let i = 0; ; i += 1) {
        const { rows } = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event = 'PgSleep'`.execute(cached.ctx.db);
        if (rows[0]!.n > 0) break;
        if (i > 200) throw new Error('the revocation never reached its commit');
        await new Promise((r) => setTimeout(r, 10));
      }
      // Not yet committed: the reader still sees (and may cache) the pending certificate…
      expect((await credential()).json().status).toBe('pending');
      expect((await revoking).statusCode).toBe(200);
      // …but once revoke has answered, verifiers see it revoked.
      expect((await credential()).json()).toMatchObject({ status: 'revoked', revoke_reason: 'Fraud' });
    } finally {
      await cached.close();
    }
  });
});

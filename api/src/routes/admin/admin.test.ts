import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  buildTestApp,
  countRows,
  loginAs,
  makeRole,
  registerUser,
  type TestApp,
} from '../../test/harness.ts';

let t: TestApp;
let admin: string;
let adminId: string;
beforeAll(async () => {
  t = await buildTestApp();
  const a = await registerUser(t.app);
  await makeRole(t.ctx, a.userId, 'admin');
  adminId = a.userId;
  admin = await loginAs(t.app, a.email);
});
afterAll(async () => t.close());

describe('roles', () => {
  it('lets an admin change a role, audited, and refuses everyone else', async () => {
    const target = await registerUser(t.app);
    const learner = await registerUser(t.app);
    const denied = await t.app.inject({
      method: 'PUT',
      url: `/v1/admin/users/${target.userId}/role`,
      headers: bearer(learner.access),
      payload: { role: 'admin' },
    });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('insufficient_role');
    const ok = await t.app.inject({
      method: 'PUT',
      url: `/v1/admin/users/${target.userId}/role`,
      headers: bearer(admin),
      payload: { role: 'instructor' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().role).toBe('instructor');
    const audit = await t.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'user.role_changed')
      .where('target_id', '=', target.userId)
      .executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ actor_type: 'user', actor_id: adminId });
    expect(audit.data).toEqual({ from: 'learner', to: 'instructor' });
    // The new role reaches new tokens.
    const relog = await loginAs(t.app, target.email);
    expect((await t.app.inject({ url: '/v1/me', headers: bearer(relog) })).json().role).toBe('instructor');
  });

  it('applies a role change to tokens already issued, at once', async () => {
    const other = await registerUser(t.app);
    await makeRole(t.ctx, other.userId, 'admin');
    const token = await loginAs(t.app, other.email);
    const adminOnly = () => t.app.inject({ url: '/v1/admin/api-keys', headers: bearer(token) });
    expect((await adminOnly()).statusCode).toBe(200);
    const demote = await t.app.inject({
      method: 'PUT',
      url: `/v1/admin/users/${other.userId}/role`,
      headers: bearer(admin),
      payload: { role: 'learner' },
    });
    expect(demote.statusCode).toBe(200);
    // The token still says admin; the database says learner, and the database decides.
    const after = await adminOnly();
    expect(after.statusCode).toBe(403);
    expect(after.json().code).toBe('insufficient_role');
  });

  it('rejects an unknown role and an unknown user without writing', async () => {
    const target = await registerUser(t.app);
    const before = await countRows(t.ctx, 'audit_log');
    const bad = await t.app.inject({
      method: 'PUT',
      url: `/v1/admin/users/${target.userId}/role`,
      headers: bearer(admin),
      payload: { role: 'superuser' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('role');
    const missing = await t.app.inject({
      method: 'PUT',
      url: '/v1/admin/users/00000000-0000-4000-8000-000000000000/role',
      headers: bearer(admin),
      payload: { role: 'admin' },
    });
    expect(missing.statusCode).toBe(404);
    const badId = await t.app.inject({
      method: 'PUT',
      url: '/v1/admin/users/not-a-uuid/role',
      headers: bearer(admin),
      payload: { role: 'admin' },
    });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().field).toBe('id');
    expect(await countRows(t.ctx, 'audit_log')).toBe(before);
  });
});

describe('API keys', () => {
  it('is shown once, stored hashed, scoped, tracked and revocable', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/api-keys',
      headers: bearer(admin),
      payload: { name: 'grafana', scopes: ['read', 'operator'] },
    });
    expect(created.statusCode).toBe(201);
    const { key, id, prefix } = created.json();
    expect(key).toMatch(/^stk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const row = await t.ctx.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.key_hash.length).toBe(32);
    // The secret (base64url, which may itself contain '_') is stored only as its SHA-256.
    const secret = (key as string).slice('stk_'.length + 16 + 1);
    expect(row.key_hash.equals(createHash('sha256').update(secret).digest())).toBe(true);
    expect(JSON.stringify(row)).not.toContain(secret);
    const listed = await t.app.inject({ url: '/v1/admin/api-keys', headers: bearer(admin) });
    expect(listed.body).not.toContain(key);
    expect(listed.json().api_keys.find((k: { id: string }) => k.id === id)).toMatchObject({
      prefix,
      last_used_at: null,
    });

    // The key authenticates, but only for what its scopes allow: it is not a user.
    const me = await t.app.inject({ url: '/v1/me', headers: bearer(key) });
    expect(me.statusCode).toBe(403);
    expect(me.json().code).toBe('user_required');
    const used = await t.ctx.db
      .selectFrom('api_keys')
      .select('last_used_at')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(used.last_used_at).not.toBeNull();

    const tampered = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    expect((await t.app.inject({ url: '/v1/me', headers: bearer(tampered) })).json().code).toBe(
      'invalid_api_key',
    );

    const revoke = await t.app.inject({
      method: 'DELETE',
      url: `/v1/admin/api-keys/${id}`,
      headers: bearer(admin),
    });
    expect(revoke.statusCode).toBe(204);
    const after = await t.app.inject({ url: '/v1/me', headers: bearer(key) });
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('api_key_revoked');
    const again = await t.app.inject({
      method: 'DELETE',
      url: `/v1/admin/api-keys/${id}`,
      headers: bearer(admin),
    });
    expect(again.statusCode).toBe(404);
  });

  it('never stores the secret for an Idempotency-Key, and a replay says it was shown once', async () => {
    const send = () =>
      t.app.inject({
        method: 'POST',
        url: '/v1/admin/api-keys',
        headers: { ...bearer(admin), 'idempotency-key': 'create-ci-key-1' },
        payload: { name: 'ci', scopes: ['read'] },
      });
    const before = await countRows(t.ctx, 'api_keys');
    const first = await send();
    expect(first.statusCode).toBe(201);
    const { key, id, prefix } = first.json();
    const secret = (key as string).slice('stk_'.length + 16 + 1);
    const stored = await t.ctx.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('key', '=', 'create-ci-key-1')
      .executeTakeFirstOrThrow();
    expect(stored.state).toBe('done');
    const storedText = JSON.stringify(stored);
    expect(storedText).not.toContain(secret);
    expect(JSON.parse(stored.response_body!)).toMatchObject({ id, prefix });
    expect(JSON.parse(stored.response_body!)).not.toHaveProperty('key');

    const replay = await send();
    expect(replay.statusCode).toBe(409);
    expect(replay.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toMatchObject({ code: 'secret_shown_once', created: { id, prefix } });
    expect(replay.body).not.toContain(secret);
    // The replay minted nothing: one key for the two requests, and it still works.
    expect(await countRows(t.ctx, 'api_keys')).toBe(before + 1);
    const keyWorks = await t.app.inject({ url: '/v1/ops/indexer', headers: bearer(key) });
    expect(keyWorks.statusCode).toBe(200);
    // Nor does the secret sit anywhere else in the database but as its hash.
    const audit = await t.ctx.db.selectFrom('audit_log').selectAll().where('target_id', '=', id).execute();
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('rejects unknown scopes and non-admins', async () => {
    const before = await countRows(t.ctx, 'api_keys');
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/api-keys',
      headers: bearer(admin),
      payload: { name: 'x', scopes: ['root'] },
    });
    expect(bad.statusCode).toBe(400);
    const learner = await registerUser(t.app);
    const denied = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/api-keys',
      headers: bearer(learner.access),
      payload: { name: 'x', scopes: ['read'] },
    });
    expect(denied.statusCode).toBe(403);
    expect(await countRows(t.ctx, 'api_keys')).toBe(before);
  });
});

describe('API key scopes', () => {
  const createKey = async (scopes: string[]): Promise<string> => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/api-keys',
      headers: bearer(admin),
      payload: { name: `scopes ${scopes.join('+')}`, scopes },
    });
    expect(res.statusCode).toBe(201);
    return res.json().key as string;
  };
  const pendingSubmission = async (): Promise<{ id: string; userId: string; access: string }> => {
    const learner = await registerUser(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/me/kyc',
      headers: bearer(learner.access),
      payload: { full_name: 'Mary Somerville', country: 'GB', document_type: 'passport' },
    });
    expect(res.statusCode).toBe(202);
    return { id: res.json().id, userId: learner.userId, access: learner.access };
  };
  const review = (id: string, token: string) =>
    t.app.inject({
      method: 'POST',
      url: `/v1/admin/kyc/${id}/review`,
      headers: bearer(token),
      payload: { decision: 'verified', note: 'vendor check passed' },
    });
  const someIntent = '00000000-0000-4000-8000-000000000001';

  it('read: the indexer health reads, nothing that writes or belongs to operators', async () => {
    const key = await createKey(['read']);
    for (const url of ['/v1/ops/indexer', '/v1/ops/indexer/history'])
      expect((await t.app.inject({ url, headers: bearer(key) })).statusCode, url).toBe(200);
    const retry = await t.app.inject({
      method: 'POST',
      url: `/v1/ops/intents/${someIntent}/retry`,
      headers: bearer(key),
    });
    expect(retry.statusCode).toBe(403);
    expect(retry.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(retry.json().code).toBe('insufficient_scope');
    const queue = await t.app.inject({ url: '/v1/ops/intents', headers: bearer(key) });
    expect(queue.json().code).toBe('insufficient_scope');
    const sub = await pendingSubmission();
    const denied = await review(sub.id, key);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('insufficient_scope');
    expect((await t.app.inject({ url: '/v1/me/kyc', headers: bearer(sub.access) })).json().status).toBe(
      'pending',
    );
  });

  it('write: a verification vendor records a KYC decision, audited to the key', async () => {
    const key = await createKey(['write']);
    // write does not imply read.
    const health = await t.app.inject({ url: '/v1/ops/indexer', headers: bearer(key) });
    expect(health.statusCode).toBe(403);
    expect(health.json().code).toBe('insufficient_scope');
    const sub = await pendingSubmission();
    const ok = await review(sub.id, key);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ id: sub.id, status: 'verified', review_note: 'vendor check passed' });
    const row = await t.ctx.db
      .selectFrom('kyc_submissions')
      .select(['status', 'reviewed_by'])
      .where('id', '=', sub.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'verified', reviewed_by: null });
    const audit = await t.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'kyc.reviewed')
      .where('target_id', '=', sub.userId)
      .executeTakeFirstOrThrow();
    expect(audit.actor_type).toBe('api_key');
    // Everything else under /v1/admin stays with signed-in admins.
    const keys = await t.app.inject({ url: '/v1/admin/api-keys', headers: bearer(key) });
    expect(keys.statusCode).toBe(403);
    expect(keys.json().code).toBe('user_required');
  });

  it('operator implies neither read-only integrations nor write; users act by role, not scope', async () => {
    const key = await createKey(['operator']);
    const sub = await pendingSubmission();
    const denied = await review(sub.id, key);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('insufficient_scope');
    expect((await t.app.inject({ url: '/v1/ops/indexer', headers: bearer(key) })).statusCode).toBe(200);
    // A learner's session is not a read key: the indexer health is for operators and admins.
    const learner = await registerUser(t.app);
    const mine = await t.app.inject({ url: '/v1/ops/indexer', headers: bearer(learner.access) });
    expect(mine.statusCode).toBe(403);
    expect(mine.json().code).toBe('insufficient_role');
    expect((await review(sub.id, learner.access)).json().code).toBe('insufficient_role');
  });
});

describe('KYC', () => {
  it('goes none → pending → verified through the provider and an admin review', async () => {
    const learner = await registerUser(t.app);
    expect((await t.app.inject({ url: '/v1/me/kyc', headers: bearer(learner.access) })).json()).toEqual({
      status: 'none',
      submission: null,
    });
    const submit = await t.app.inject({
      method: 'POST',
      url: '/v1/me/kyc',
      headers: bearer(learner.access),
      payload: { full_name: 'Ada Lovelace', country: 'GB', document_type: 'passport' },
    });
    expect(submit.statusCode).toBe(202);
    expect(submit.json()).toMatchObject({ status: 'pending', provider: 'manual' });
    const dup = await t.app.inject({
      method: 'POST',
      url: '/v1/me/kyc',
      headers: bearer(learner.access),
      payload: { full_name: 'Ada', country: 'GB', document_type: 'passport' },
    });
    expect(dup.statusCode).toBe(409);

    const queue = await t.app.inject({ url: '/v1/admin/kyc?status=pending', headers: bearer(admin) });
    expect(queue.json().submissions.map((s: { id: string }) => s.id)).toContain(submit.json().id);
    const learnerTries = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/kyc/${submit.json().id}/review`,
      headers: bearer(learner.access),
      payload: { decision: 'verified' },
    });
    expect(learnerTries.statusCode).toBe(403);
    const review = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/kyc/${submit.json().id}/review`,
      headers: bearer(admin),
      payload: { decision: 'verified', note: 'ok' },
    });
    expect(review.statusCode).toBe(200);
    expect((await t.app.inject({ url: '/v1/me', headers: bearer(learner.access) })).json().kyc_status).toBe(
      'verified',
    );
    const twice = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/kyc/${submit.json().id}/review`,
      headers: bearer(admin),
      payload: { decision: 'rejected' },
    });
    expect(twice.statusCode).toBe(409);
  });

  const submitKyc = (access: string, fullName = 'Ada Lovelace') =>
    t.app.inject({
      method: 'POST',
      url: '/v1/me/kyc',
      headers: bearer(access),
      payload: { full_name: fullName, country: 'GB', document_type: 'passport' },
    });

  it('goes pending → rejected, shows it, and then accepts a new submission', async () => {
    const learner = await registerUser(t.app);
    const first = await submitKyc(learner.access);
    expect(first.statusCode).toBe(202);
    const reject = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/kyc/${first.json().id}/review`,
      headers: bearer(admin),
      payload: { decision: 'rejected', note: 'document unreadable' },
    });
    expect(reject.statusCode).toBe(200);
    expect(reject.json()).toMatchObject({ status: 'rejected', review_note: 'document unreadable' });
    expect((await t.app.inject({ url: '/v1/me', headers: bearer(learner.access) })).json().kyc_status).toBe(
      'rejected',
    );
    const mine = (await t.app.inject({ url: '/v1/me/kyc', headers: bearer(learner.access) })).json();
    expect(mine).toMatchObject({
      status: 'rejected',
      submission: { id: first.json().id, status: 'rejected', review_note: 'document unreadable' },
    });
    const audit = await t.ctx.db
      .selectFrom('audit_log')
      .select('data')
      .where('action', '=', 'kyc.reviewed')
      .where('target_id', '=', learner.userId)
      .executeTakeFirstOrThrow();
    expect(audit.data).toEqual({ submission_id: first.json().id, decision: 'rejected' });

    // A rejection is not final: the learner may try again, and that attempt waits for review.
    const again = await submitKyc(learner.access, 'Augusta Ada King');
    expect(again.statusCode).toBe(202);
    expect(again.json().id).not.toBe(first.json().id);
    const now = (await t.app.inject({ url: '/v1/me/kyc', headers: bearer(learner.access) })).json();
    expect(now).toMatchObject({ status: 'pending', submission: { id: again.json().id, status: 'pending' } });
    const queue = await t.app.inject({ url: '/v1/admin/kyc?status=pending', headers: bearer(admin) });
    const pendingIds = queue.json().submissions.map((x: { id: string }) => x.id);
    expect(pendingIds).toContain(again.json().id);
    expect(pendingIds).not.toContain(first.json().id);
  });

  it('keeps one pending submission per user when submissions race', async () => {
    for (let round = 0; round < 3; round += 1) {
      const learner = await registerUser(t.app);
      const results = await Promise.all(Array.from({ length: 4 }, () => submitKyc(learner.access)));
      expect(results.map((r) => r.statusCode).sort(), `round ${round}`).toEqual([202, 409, 409, 409]);
      for (const refused of results.filter((r) => r.statusCode === 409)) {
        expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(refused.json().code).toBe('kyc_pending');
      }
      const rows = await t.ctx.db
        .selectFrom('kyc_submissions')
        .select('status')
        .where('user_id', '=', learner.userId)
        .execute();
      expect(rows).toEqual([{ status: 'pending' }]);
      const audits = await t.ctx.db
        .selectFrom('audit_log')
        .select('id')
        .where('action', '=', 'kyc.submitted')
        .where('target_id', '=', learner.userId)
        .execute();
      expect(audits).toHaveLength(1);
    }
  });

  it('rejects a bad country code without writing', async () => {
    const learner = await registerUser(t.app);
    const before = await countRows(t.ctx, 'kyc_submissions');
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/me/kyc',
      headers: bearer(learner.access),
      payload: { full_name: 'A', country: 'gbr', document_type: 'passport' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe('country');
    expect(await countRows(t.ctx, 'kyc_submissions')).toBe(before);
  });
});

describe('profiles', () => {
  it('updates my profile and shows a public one without private fields', async () => {
    const u = await registerUser(t.app);
    const patch = await t.app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers: bearer(u.access),
      payload: { display_name: 'Grace', bio: 'Compilers.' },
    });
    expect(patch.statusCode).toBe(200);
    expect(patch.json()).toMatchObject({ display_name: 'Grace', bio: 'Compilers.' });
    const pub = await t.app.inject({ url: `/v1/users/${u.userId}` });
    expect(pub.statusCode).toBe(200);
    expect(pub.json()).toMatchObject({ id: u.userId, display_name: 'Grace' });
    for (const hidden of ['email', 'referral_code', 'kyc_status', 'password_hash', 'referred_by'])
      expect(pub.json()).not.toHaveProperty(hidden);
    expect(pub.headers['cache-control']).not.toBe('no-store');
  });

  it('refuses an empty patch, unknown fields and a blank name', async () => {
    const u = await registerUser(t.app);
    for (const payload of [{}, { role: 'admin' }, { display_name: '   ' }]) {
      const res = await t.app.inject({ method: 'PATCH', url: '/v1/me', headers: bearer(u.access), payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
    expect((await t.app.inject({ url: '/v1/me', headers: bearer(u.access) })).json().role).toBe('learner');
  });

  it('needs a signed-in user for /v1/me', async () => {
    const res = await t.app.inject({ url: '/v1/me' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });
});

// A certificate revoked on chain reaches its learner as one notification: ingest writes it when
// the revocation was made outside the API, and writes nothing more when the API already told
// them or when the same page is replayed.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StrKey } from '@stellar/stellar-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { createDb, createPool, type Database } from '@starling/migrations';
import { createTestDatabase } from '../../../ops/test/db.ts';
import { notifyCertificateRevoked } from '../../../api/src/notifications/notifications.repository.ts';
import { decodeEvent } from '../decode/index.ts';
import { createCourse, createLearner, repoRoot, type Learner } from '../test/harness.ts';
import { projectPage, type ChainEvent } from './project.ts';

let database: { url: string; drop(): Promise<void> };
let db: Kysely<Database>;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(createPool(database.url, 2));
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

/** The certificate_revoked event the real host emitted (certificate id 1), from `contractId`. */
function revokedEvent(contractId: string): ChainEvent {
  const v = (
    JSON.parse(readFileSync(join(repoRoot, 'contracts/vectors/certificate_revoke.json'), 'utf8')) as {
      events: { topics: string[]; value: string }[];
    }
  ).events[0]!;
  const ledger = 200;
  return {
    id: `${((BigInt(ledger) << 32n) | (1n << 12n)).toString().padStart(19, '0')}-0000000000`,
    ledger,
    ledgerClosedAt: new Date(Date.UTC(2026, 0, 2)).toISOString(),
    contractId,
    kind: 'certificate',
    txHash: randomBytes(32).toString('hex'),
    topicsXdr: v.topics,
    valueXdr: v.value,
    decoded: decodeEvent('certificate', v.topics, v.value),
  };
}

/** A learner's certificate as ingest left it once issuance was confirmed: chain id 1 on `contractId`. */
async function confirmedCertificate(contractId: string): Promise<{ learner: Learner; id: string }> {
  const learner = await createLearner(db);
  const course = await createCourse(db, (await createLearner(db)).userId);
  const canonical = JSON.stringify({ course, learner: learner.userId });
  const row = await db
    .insertInto('certificates')
    .values({
      user_id: learner.userId,
      course_id: course,
      student_address: learner.address,
      document: canonical,
      document_canonical: canonical,
      document_hash: createHash('sha256').update(canonical).digest('hex'),
      status: 'confirmed',
      chain_certificate_id: '1',
      contract_id: contractId,
      network: 'local',
      tx_hash: randomBytes(32).toString('hex'),
      ledger: 150,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { learner, id: row.id };
}

const project = (events: ChainEvent[]) =>
  db.transaction().execute((tx) => projectPage(tx, events, { network: 'local', sideEffects: true }));

const notificationsOf = (userId: string) =>
  db
    .selectFrom('notifications')
    .select(['kind', 'title', 'body', 'data'])
    .where('user_id', '=', userId)
    .execute();

describe('certificate revoked on chain', () => {
  it('notifies the learner once, with the reason and the transaction, even when the page is replayed', async () => {
    const contractId = StrKey.encodeContract(randomBytes(32));
    const { learner, id } = await confirmedCertificate(contractId);
    const event = revokedEvent(contractId);

    await project([event]);
    const cert = await db
      .selectFrom('certificates')
      .select(['status', 'revoke_reason'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(cert).toEqual({ status: 'revoked', revoke_reason: 'Assessment found to be plagiarised' });
    const expected = [
      {
        kind: 'certificate_revoked',
        title: 'Your certificate was revoked',
        body: 'Reason: Assessment found to be plagiarised',
        data: {
          certificate_id: id,
          course_id: expect.any(String),
          reason: 'Assessment found to be plagiarised',
          tx_hash: event.txHash,
          ledger: event.ledger,
        },
      },
    ];
    expect(await notificationsOf(learner.userId)).toEqual(expected);

    expect((await project([event])).inserted).toBe(0);
    expect(await notificationsOf(learner.userId)).toEqual(expected);
  });

  it('writes no second notification when the API revoked it (and told the learner) first', async () => {
    const contractId = StrKey.encodeContract(randomBytes(32));
    const { learner, id } = await confirmedCertificate(contractId);
    await db.transaction().execute(async (tx) => {
      await tx
        .updateTable('certificates')
        .set({ status: 'revoked', revoked_at: new Date(), revoke_reason: 'Plagiarism' })
        .where('id', '=', id)
        .execute();
      await notifyCertificateRevoked(tx, id);
    });

    await project([revokedEvent(contractId)]);
    const notes = await notificationsOf(learner.userId);
    expect(notes).toEqual([
      expect.objectContaining({ kind: 'certificate_revoked', body: 'Reason: Plagiarism' }),
    ]);
  });
});

// rebuild: when the RPC no longer has the events after our cursor (retention gap), restore the
// state projections from current contract state read with getLedgerEntries, then restart
// ingest right after the ledger that state was read at. History (chain_events, where BST history
// is read from too) keeps what was ingested; the gap stays recorded in indexer_state.rebuilt_*.
import { Address, nativeToScVal, scValToNative, xdr } from '@stellar/stellar-sdk';
import { sql } from 'kysely';
import type { Context } from '../context.ts';
import { IndexerError } from '../errors.ts';
import { createLeadership } from '../store/leader.ts';
import { readState, writeStatus } from '../store/state.repository.ts';
import { uuidOfHex } from './project.ts';
import { readGovernanceState, writeGovernanceState } from './rebuild-governance.ts';

export interface RebuildResult {
  ledger: number;
  certificates: number;
  progress: number;
  balances: number;
  supply: string;
  proposals: number;
  votes: number;
}

export function contractDataKey(
  contractId: string,
  key: xdr.ScVal,
  durability: 'persistent' | 'instance',
): string {
  const k =
    durability === 'instance'
      ? xdr.LedgerKey.contractData(
          new xdr.LedgerKeyContractData({
            contract: Address.fromString(contractId).toScAddress(),
            key: xdr.ScVal.scvLedgerKeyContractInstance(),
            durability: xdr.ContractDataDurability.persistent,
          }),
        )
      : xdr.LedgerKey.contractData(
          new xdr.LedgerKeyContractData({
            contract: Address.fromString(contractId).toScAddress(),
            key,
            durability: xdr.ContractDataDurability.persistent,
          }),
        );
  return k.toXDR('base64');
}

export const vecKey = (name: string, ...rest: xdr.ScVal[]) =>
  xdr.ScVal.scvVec([xdr.ScVal.scvSymbol(name), ...rest]);

export async function readEntries(
  ctx: Context,
  keys: string[],
): Promise<{ byKey: Map<string, xdr.ScVal>; latest: number }> {
  const byKey = new Map<string, xdr.ScVal>();
  let latest = 0;
  for (let i = 0; i < keys.length; i += 200) {
    const r = await ctx.rpc.getLedgerEntries(keys.slice(i, i + 200));
    latest = Math.max(latest, r.latestLedger);
    for (const e of r.entries ?? []) {
      const data = xdr.LedgerEntryData.fromXDR(e.xdr, 'base64') as unknown as {
        type: string;
        value: { val: xdr.ScVal };
      };
      byKey.set(e.key, data.value.val);
    }
  }
  return { byKey, latest };
}

export async function runRebuild(ctx: Context): Promise<RebuildResult> {
  const leadership = createLeadership({
    url: ctx.config.DATABASE_URL,
    key: ctx.config.INDEXER_LOCK_KEY,
    pollMs: ctx.config.INDEXER_LOCK_POLL_MS,
  });
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 10_000);
  try {
    await leadership.acquire(ac.signal);
  } catch {
    throw new IndexerError('locked', 'another indexer holds the lock: stop it before rebuilding', false);
  } finally {
    clearTimeout(timer);
  }
  try {
    const { certificate, analytics, token } = ctx.config.contracts;
    const latest = (await ctx.rpc.getLatestLedger()).sequence;

    // Certificates: ids 1..LastId from the contract instance, then each record.
    const certs: { id: string; rec: Record<string, unknown> }[] = [];
    if (certificate) {
      const instKey = contractDataKey(certificate, xdr.ScVal.scvVoid(), 'instance');
      const inst = (await readEntries(ctx, [instKey])).byKey.get(instKey) as unknown as
        { value: { storage: { key: xdr.ScVal; val: xdr.ScVal }[] | null } } | undefined;
      let lastId = 0n;
      for (const e of inst?.value.storage ?? []) {
        const k = scValToNative(e.key) as unknown;
        if (Array.isArray(k) && k[0] === 'LastId') lastId = BigInt(scValToNative(e.val) as bigint);
      }
      const keys = [];
      for (let id = 1n; id <= lastId; id++)
        keys.push(
          contractDataKey(
            certificate,
            vecKey('Certificate', nativeToScVal(id, { type: 'u64' })),
            'persistent',
          ),
        );
      const got = await readEntries(ctx, keys);
      for (const [, v] of got.byKey) {
        const rec = scValToNative(v) as Record<string, unknown>;
        certs.push({ id: String(rec.id), rec });
      }
    }

    // Progress and balances: for every (student, course) and address we know of.
    const pairs = await sql<{ s: string; c: string }>`
      SELECT DISTINCT student_address AS s, replace(course_id::text, '-', '') AS c FROM onchain_progress
      UNION SELECT DISTINCT args->>'student', lower(args->>'course_id') FROM intents WHERE kind = 'record_progress'
      UNION SELECT DISTINCT student_address, replace(course_id::text, '-', '') FROM chain_certificates`.execute(
      ctx.db,
    );
    const progress: { s: string; c: string; percent: number }[] = [];
    if (analytics && pairs.rows.length) {
      const keyOf = (p: { s: string; c: string }) =>
        contractDataKey(
          analytics,
          vecKey(
            'Progress',
            nativeToScVal(Address.fromString(p.s), { type: 'address' }),
            nativeToScVal(Buffer.from(p.c, 'hex'), { type: 'bytes' }),
          ),
          'persistent',
        );
      const got = await readEntries(ctx, pairs.rows.map(keyOf));
      for (const p of pairs.rows) {
        const v = got.byKey.get(keyOf(p));
        if (v) progress.push({ ...p, percent: Number(scValToNative(v)) });
      }
    }
    const addrs = await sql<{ a: string }>`
      SELECT address AS a FROM bst_balances UNION SELECT stellar_address FROM users
      UNION SELECT args->>'to' FROM intents WHERE kind = 'mint_reward'`.execute(ctx.db);
    const balances: { a: string; balance: bigint }[] = [];
    if (token && addrs.rows.length) {
      const keyOf = (a: string) =>
        contractDataKey(
          token,
          vecKey('Balance', nativeToScVal(Address.fromString(a), { type: 'address' })),
          'persistent',
        );
      const got = await readEntries(
        ctx,
        addrs.rows.map((r) => keyOf(r.a)),
      );
      for (const r of addrs.rows) {
        const v = got.byKey.get(keyOf(r.a));
        if (v) balances.push({ a: r.a, balance: BigInt(scValToNative(v) as bigint) });
      }
    }
    const supply = balances.reduce((s, b) => s + b.balance, 0n);
    const governance = ctx.config.contracts.governance
      ? await readGovernanceState(ctx, ctx.config.contracts.governance)
      : null;

    await ctx.db.transaction().execute(async (tx) => {
      await leadership.assertLeader(tx);
      await sql`DELETE FROM chain_certificates`.execute(tx);
      for (const { id, rec } of certs) {
        await tx
          .insertInto('chain_certificates')
          .values({
            contract_id: certificate,
            certificate_id: id,
            student_address: String(rec.student),
            course_id: uuidOfHex(Buffer.from(rec.course_id as Uint8Array).toString('hex')),
            metadata_hash: Buffer.from(rec.metadata_hash as Uint8Array).toString('hex'),
            issuer: String(rec.issuer),
            issued_ledger: Number(rec.issued_ledger),
            revoked: Boolean(rec.revoked),
            revoked_ledger: rec.revoked_ledger == null ? null : Number(rec.revoked_ledger),
            revoke_reason: rec.revoke_reason == null ? null : String(rec.revoke_reason),
            revoked_by: rec.revoked_by == null ? null : String(rec.revoked_by),
          })
          .execute();
      }
      for (const p of progress) {
        await sql`
          INSERT INTO onchain_progress (student_address, course_id, percent, ledger, event_id)
          VALUES (${p.s}, ${uuidOfHex(p.c)}::uuid, ${p.percent}, ${latest}, ${`rebuild-${latest}`})
          ON CONFLICT (student_address, course_id) DO UPDATE SET percent = excluded.percent, ledger = excluded.ledger, event_id = excluded.event_id, updated_at = now()`.execute(
          tx,
        );
      }
      await sql`DELETE FROM bst_balances`.execute(tx);
      for (const b of balances) {
        await tx
          .insertInto('bst_balances')
          .values({ address: b.a, balance: b.balance.toString(), ledger: latest })
          .execute();
      }
      await sql`
        INSERT INTO bst_supply (singleton, total, ledger) VALUES (true, ${supply.toString()}::numeric, ${latest})
        ON CONFLICT (singleton) DO UPDATE SET total = excluded.total, ledger = excluded.ledger, updated_at = now()`.execute(
        tx,
      );
      if (governance) await writeGovernanceState(tx, governance, latest);
      // Intents whose events fell into the gap: confirmed from the restored state. (A reward
      // mint leaves no state to match, so it stays submitted for an operator to check.)
      await sql`
        UPDATE intents i SET status = 'confirmed', confirmed_at = now(), updated_at = now(),
               last_error = 'confirmed by rebuild from ledger entries (event outside RPC retention)'
        WHERE i.status IN ('submitting', 'submitted') AND (
          (i.kind = 'record_progress' AND EXISTS (SELECT 1 FROM onchain_progress p WHERE p.student_address = i.args->>'student'
              AND replace(p.course_id::text, '-', '') = lower(i.args->>'course_id') AND p.percent >= (i.args->>'percent')::int))
          OR (i.kind = 'issue_certificate' AND EXISTS (SELECT 1 FROM chain_certificates c WHERE c.student_address = i.args->>'student'
              AND replace(c.course_id::text, '-', '') = lower(i.args->>'course_id'))))`.execute(tx);
      await sql`
        UPDATE certificates ce SET status = 'confirmed', chain_certificate_id = c.certificate_id, contract_id = c.contract_id,
               network = ${ctx.config.STELLAR_NETWORK}, tx_hash = i.tx_hash, ledger = c.issued_ledger, confirmed_at = now(), updated_at = now()
        FROM chain_certificates c, intents i
        WHERE ce.status = 'pending' AND c.student_address = ce.student_address AND c.course_id = ce.course_id
          AND c.metadata_hash = ce.document_hash AND i.certificate_id = ce.id AND i.kind = 'issue_certificate' AND i.tx_hash IS NOT NULL`.execute(
        tx,
      );
      await tx
        .updateTable('indexer_state')
        .set({
          cursor: null,
          last_ledger: latest,
          rebuilt_at: sql<Date>`now()`,
          rebuilt_ledger: latest,
          caught_up: false,
        })
        .execute();
      await writeStatus(tx, {
        status: 'starting',
        status_detail: `rebuilt from ledger entries at ledger ${latest}`,
        last_error: null,
      });
    });
    const state = await readState(ctx.db);
    ctx.log.info({ ledger: latest, state: state?.status }, 'rebuild done');
    return {
      ledger: latest,
      certificates: certs.length,
      progress: progress.length,
      balances: balances.length,
      supply: supply.toString(),
      proposals: governance?.proposals.length ?? 0,
      votes: governance?.votes.length ?? 0,
    };
  } finally {
    await leadership.release();
  }
}

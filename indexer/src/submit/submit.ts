// The submit loop. One worker per channel account (one transaction in flight per source
// account, so its sequence number is always the chain's). For each claimed intent:
//   stored transaction? → resolve it (getTransaction; resend the same bytes while it can land)
//   else → build, simulate, sign, STORE envelope + hash, send, poll.
// A new transaction is built only once the stored one can no longer land (its time bounds have
// passed on a ledger the RPC has closed, or it failed): no intent ever has two on-chain effects.
import {
  Account,
  Keypair,
  Operation,
  TransactionBuilder,
  authorizeEntry,
  rpc as sdkRpc,
  xdr,
  type Transaction,
} from '@stellar/stellar-sdk';
import type { Context } from '../context.ts';
import { RpcTransientError, backoffMs, errorMessage, isRetryable } from '../errors.ts';
import {
  claimIntents,
  dropTransaction,
  expireLeases,
  findChainCertificateId,
  markFailed,
  markSatisfied,
  markSubmitted,
  reschedule,
  saveEnvelope,
  type IntentRow,
} from '../store/intents.repository.ts';
import {
  NotReadyError,
  SATISFIED_ERRORS,
  buildCall,
  contractErrorCode,
  describeContractError,
  type IntentKind,
} from './contract-call.ts';

export interface SubmitOptions {
  signal: AbortSignal;
  /** Fenced write: runs `fn` in a transaction only while this process is the leader. */
  fenced: <T>(
    fn: (db: import('kysely').Transaction<import('@starling/migrations').Database>) => Promise<T>,
  ) => Promise<T>;
  /** Test hook: called at named points (kill -9 tests crash the process here). */
  hook?: (point: 'after_claim' | 'after_store' | 'after_send' | 'after_success') => void | Promise<void>;
}

type Outcome = 'submitted' | 'retry' | 'failed' | 'satisfied' | 'waiting';

const LEASE_SECONDS = 120;
const RECHECK_SECONDS = 15;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((res) => {
    if (signal.aborted) return res();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      res();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export interface Submitter {
  run(): Promise<void>;
}

export function createSubmitter(ctx: Context, opts: SubmitOptions): Submitter {
  const { config, log, metrics } = ctx;
  const platform = config.platform;
  let passphrase = config.STELLAR_NETWORK_PASSPHRASE;
  const inFlight = new Set<string>();

  /** The account's current sequence number, through our RPC client (timeouts, classified errors). */
  async function loadSequence(pk: string): Promise<string> {
    const key = xdr.LedgerKey.account(
      new xdr.LedgerKeyAccount({ accountId: Keypair.fromPublicKey(pk).xdrAccountId() }),
    ).toXDR('base64');
    const r = await ctx.rpc.getLedgerEntries([key]);
    const entry = r.entries?.[0];
    if (!entry) throw new RpcTransientError(`source account ${pk} not found`);
    const data = xdr.LedgerEntryData.fromXDR(entry.xdr, 'base64') as unknown as { value: { seqNum: bigint } };
    return data.value.seqNum.toString();
  }

  async function simulate(tx: Transaction): Promise<ReturnType<typeof sdkRpc.parseRawSimulation>> {
    const raw = await ctx.rpc.simulateTransaction(tx.toXDR());
    return sdkRpc.parseRawSimulation(raw as never);
  }

  /** Builds, simulates and signs the call for `intent` from `channel`; or says why not. */
  async function build(
    intent: IntentRow,
    channel: Keypair,
  ): Promise<
    | { kind: 'tx'; tx: Transaction }
    | { kind: 'satisfied'; why: string }
    | { kind: 'error'; why: string; retry: boolean }
    | { kind: 'waiting'; why: string }
  > {
    if (!platform) return { kind: 'error', why: 'no PLATFORM_SECRET configured', retry: false };
    const args = { ...(intent.args as Record<string, unknown>) };
    if (
      intent.kind === 'revoke_certificate' &&
      (args.chain_certificate_id === null || args.chain_certificate_id === undefined) &&
      intent.certificate_id
    ) {
      args.chain_certificate_id = await findChainCertificateId(ctx.db, intent.certificate_id);
    }
    let call;
    try {
      call = buildCall(intent.kind as IntentKind, args, platform.publicKey());
    } catch (e) {
      if (e instanceof NotReadyError) return { kind: 'waiting', why: e.message };
      return { kind: 'error', why: `bad intent args: ${errorMessage(e)}`, retry: false };
    }
    const contractId = config.contracts[call.contract];
    if (!contractId)
      return { kind: 'error', why: `no ${call.contract} contract id configured`, retry: false };
    const seq = await loadSequence(channel.publicKey());
    const draft = new TransactionBuilder(new Account(channel.publicKey(), seq), {
      fee: '100',
      networkPassphrase: passphrase,
    })
      .addOperation(
        Operation.invokeContractFunction({ contract: contractId, function: call.method, args: call.args }),
      )
      .setTimeout(config.INDEXER_TX_TIMEOUT_SECONDS)
      .build();
    let sim = await simulate(draft);
    if (sdkRpc.Api.isSimulationError(sim)) {
      const code = contractErrorCode(sim.error);
      if (code !== null && SATISFIED_ERRORS[intent.kind as IntentKind].includes(code))
        return { kind: 'satisfied', why: describeContractError(code) };
      // A contract error is deterministic: fail now (operators can retry); anything else may pass.
      if (code !== null) return { kind: 'error', why: describeContractError(code), retry: false };
      return { kind: 'error', why: `simulation failed: ${sim.error.slice(0, 300)}`, retry: true };
    }
    if (intent.kind === 'record_progress' && !simulationEmits(sim, 'progress_recorded')) {
      return { kind: 'satisfied', why: 'the same percent is already recorded' };
    }
    if (
      channel.publicKey() !== platform.publicKey() &&
      sdkRpc.Api.isSimulationSuccess(sim) &&
      sim.result?.auth.length
    ) {
      // The platform authorises the call; the channel account only pays and sequences.
      const validUntil = sim.latestLedger + Math.ceil(config.INDEXER_TX_TIMEOUT_SECONDS / 5) + 20;
      const signed: xdr.SorobanAuthorizationEntry[] = [];
      for (const entry of sim.result.auth)
        signed.push(await authorizeEntry(entry, platform, validUntil, passphrase));
      const withAuth = new TransactionBuilder(new Account(channel.publicKey(), seq), {
        fee: '100',
        networkPassphrase: passphrase,
      })
        .addOperation(
          Operation.invokeContractFunction({
            contract: contractId,
            function: call.method,
            args: call.args,
            auth: signed,
          }),
        )
        .setTimeout(config.INDEXER_TX_TIMEOUT_SECONDS)
        .build();
      sim = await simulate(withAuth);
      if (sdkRpc.Api.isSimulationError(sim))
        return { kind: 'error', why: `simulation with auth failed: ${sim.error.slice(0, 300)}`, retry: true };
      const tx = sdkRpc.assembleTransaction(withAuth, sim).build();
      tx.sign(channel);
      return { kind: 'tx', tx };
    }
    const tx = sdkRpc.assembleTransaction(draft, sim).build();
    tx.sign(channel);
    return { kind: 'tx', tx };
  }

  function simulationEmits(sim: ReturnType<typeof sdkRpc.parseRawSimulation>, name: string): boolean {
    const events = (sim as { events?: xdr.DiagnosticEvent[] }).events ?? [];
    // Without simulated events we cannot tell; assume the call changes something.
    if (events.length === 0) return true;
    return events.some((d) => {
      try {
        const body = d.event.body.value as unknown as { topics: xdr.ScVal[] };
        const t0 = body.topics[0];
        return t0?.type === 'scvSymbol' && String(t0.value) === name;
      } catch {
        return false;
      }
    });
  }

  /** Follows a stored transaction to SUCCESS / FAILED, resending the same bytes while it can land. */
  async function resolve(intent: IntentRow, started: number): Promise<Outcome> {
    const hash = intent.tx_hash!;
    const envelope = intent.tx_envelope!;
    const tx = TransactionBuilder.fromXDR(envelope, passphrase) as Transaction;
    const maxTime = Number(tx.timeBounds?.maxTime ?? 0);
    const minBuilt = maxTime - config.INDEXER_TX_TIMEOUT_SECONDS;
    // Resending identical bytes is always safe (DUPLICATE at worst), so resend once per resolve.
    let sent = false;
    for (;;) {
      if (opts.signal.aborted) return 'retry';
      const r = await ctx.rpc.getTransaction(hash);
      if (r.status === 'SUCCESS') {
        await opts.fenced((db) => markSubmitted(db, intent.id, hash, RECHECK_SECONDS));
        metrics.submitLatency.observe({ kind: intent.kind }, (performance.now() - started) / 1000);
        metrics.submitted.inc({ outcome: 'success' });
        await opts.hook?.('after_success');
        return 'submitted';
      }
      if (r.status === 'FAILED') {
        metrics.submitted.inc({ outcome: 'failed' });
        const why = `transaction ${hash} failed: ${describeResult(r.resultXdr)}`;
        // It consumed its sequence number and can never land: a rebuild is safe. The next
        // simulation tells a duplicate (confirmed) from a real failure.
        if (intent.attempts >= config.INDEXER_MAX_ATTEMPTS) {
          await opts.fenced((db) => markFailed(db, intent.id, why));
          return 'failed';
        }
        await opts.fenced((db) =>
          dropTransaction(db, intent.id, hash, backoffMs(intent.attempts, 1000, 60_000), why),
        );
        return 'retry';
      }
      // NOT_FOUND: not yet included, or never will be.
      const closeTime = Number((r as { latestLedgerCloseTime?: string }).latestLedgerCloseTime ?? 0);
      const oldestClose = Number((r as { oldestLedgerCloseTime?: string }).oldestLedgerCloseTime ?? 0);
      if (maxTime > 0 && closeTime > maxTime + 1) {
        // Expired on a closed ledger. Dead only if the RPC's retained range covers its whole
        // validity window (otherwise it may have landed before the oldest retained ledger).
        if (oldestClose > 0 && oldestClose > minBuilt) {
          const why = `transaction ${hash} expired but the RPC no longer covers its validity window: check it on a history archive, then retry`;
          await opts.fenced((db) => markFailed(db, intent.id, why));
          return 'failed';
        }
        log.warn(
          { intent: intent.id, hash },
          'stored transaction expired without landing; building a new one',
        );
        metrics.submitted.inc({ outcome: 'expired' });
        await opts.fenced((db) =>
          dropTransaction(db, intent.id, hash, 0, `transaction ${hash} expired unseen`),
        );
        return 'retry';
      }
      if (!sent) {
        const s = await ctx.rpc.sendTransaction(envelope);
        await opts.hook?.('after_send');
        if (s.status === 'PENDING' || s.status === 'DUPLICATE') {
          sent = true;
          await opts.fenced((db) => markSubmitted(db, intent.id, hash, LEASE_SECONDS));
        } else if (s.status === 'TRY_AGAIN_LATER') {
          metrics.submitted.inc({ outcome: 'try_again_later' });
          await sleep(backoffMs(1, 500, 5000), opts.signal);
          continue;
        } else {
          metrics.submitted.inc({ outcome: 'error' });
          const why = `sendTransaction ERROR: ${describeResult(s.errorResultXdr)}`;
          // Rejected. It can still have landed earlier (a bad sequence because it consumed it):
          // drop it only once getTransaction does not know it and its sequence is used up. The
          // sequence is read first: if our transaction consumed it, a getTransaction answered
          // after that read knows it. Read the other way round, a ledger closing in between made
          // our own landed transaction look lost, and a needless replacement was built.
          const seqNow = BigInt(await loadSequence(tx.source));
          const again = await ctx.rpc.getTransaction(hash);
          if (again.status !== 'NOT_FOUND') continue;
          if (seqNow < BigInt(tx.sequence)) {
            await opts.fenced((db) =>
              reschedule(
                db,
                intent.id,
                backoffMs(intent.attempts, 1000, 10_000),
                `${why}; waiting until it expires`,
              ),
            );
            return 'retry';
          }
          if (intent.attempts >= config.INDEXER_MAX_ATTEMPTS) {
            await opts.fenced((db) => markFailed(db, intent.id, why));
            return 'failed';
          }
          await opts.fenced((db) =>
            dropTransaction(db, intent.id, hash, backoffMs(intent.attempts, 500, 30_000), why),
          );
          return 'retry';
        }
      }
      await sleep(config.INDEXER_SUBMIT_POLL_MS, opts.signal);
    }
  }

  async function processIntent(intent: IntentRow, channel: Keypair): Promise<Outcome> {
    const started = performance.now();
    await opts.hook?.('after_claim');
    if (intent.tx_hash && intent.tx_envelope) return resolve(intent, started);
    if (intent.attempts >= config.INDEXER_MAX_ATTEMPTS) {
      await opts.fenced((db) => markFailed(db, intent.id, intent.last_error ?? 'too many attempts'));
      return 'failed';
    }
    const b = await build(intent, channel);
    if (b.kind === 'satisfied') {
      log.info(
        { intent: intent.id, kind: intent.kind, why: b.why },
        'intent already satisfied on chain; ingest will confirm it',
      );
      metrics.submitted.inc({ outcome: 'already_on_chain' });
      await opts.fenced((db) => markSatisfied(db, intent.id, b.why));
      return 'satisfied';
    }
    if (b.kind === 'waiting') {
      await opts.fenced((db) => reschedule(db, intent.id, 5000, b.why));
      return 'waiting';
    }
    if (b.kind === 'error') {
      const attempts = intent.attempts + 1;
      if (!b.retry || attempts >= config.INDEXER_MAX_ATTEMPTS) {
        await opts.fenced(async (db) => {
          await db.updateTable('intents').set({ attempts }).where('id', '=', intent.id).execute();
          await markFailed(db, intent.id, b.why);
        });
        metrics.submitted.inc({ outcome: 'failed' });
        return 'failed';
      }
      await opts.fenced(async (db) => {
        await db.updateTable('intents').set({ attempts }).where('id', '=', intent.id).execute();
        await reschedule(db, intent.id, backoffMs(attempts, 1000, 60_000), b.why);
      });
      return 'retry';
    }
    const hash = Buffer.from(b.tx.hash()).toString('hex');
    const envelope = b.tx.toXDR();
    const stored = await opts.fenced((db) =>
      saveEnvelope(db, intent.id, { hash, envelope, source: channel.publicKey() }),
    );
    if (!stored) return 'retry'; // confirmed or changed meanwhile: nothing was sent
    await opts.hook?.('after_store');
    return resolve(
      {
        ...intent,
        tx_hash: hash,
        tx_envelope: envelope,
        attempts: intent.attempts + 1,
        status: 'submitting',
      },
      started,
    );
  }

  async function worker(channel: Keypair): Promise<void> {
    let idle = 0;
    while (!opts.signal.aborted) {
      let intent: IntentRow | undefined;
      try {
        [intent] = await opts.fenced((db) => claimIntents(db, 1, LEASE_SECONDS, [...inFlight]));
        if (!intent) {
          idle = Math.min(idle + 1, 8);
          await sleep(Math.min(config.INDEXER_SUBMIT_POLL_MS * idle, 2000), opts.signal);
          continue;
        }
        idle = 0;
        inFlight.add(intent.id);
        await processIntent(intent, channel);
      } catch (e) {
        if (opts.signal.aborted) break;
        const retryable = isRetryable(e);
        log.warn({ err: errorMessage(e), intent: intent?.id, retryable }, 'submit error');
        if (
          !retryable &&
          !(e instanceof RpcTransientError) &&
          (e as { code?: string }).code === 'lost_leadership'
        )
          throw e;
        if (intent) {
          const id = intent.id;
          await opts
            .fenced((db) => reschedule(db, id, backoffMs(intent!.attempts + 1, 500, 30_000), errorMessage(e)))
            .catch(() => undefined);
        }
        await sleep(backoffMs(1, 200, 2000), opts.signal);
      } finally {
        if (intent) inFlight.delete(intent.id);
      }
    }
  }

  return {
    async run() {
      if (config.channels.length === 0 || !platform) {
        log.warn('no platform key or channel accounts configured: submit loop idle');
        return;
      }
      if (!passphrase) passphrase = (await ctx.rpc.getNetwork()).passphrase;
      await opts.fenced((db) => expireLeases(db));
      await Promise.all(config.channels.map((c) => worker(c)));
    },
  };
}

function describeResult(resultXdr: string | undefined): string {
  if (!resultXdr) return 'no result';
  try {
    return decodeResultCode(resultXdr);
  } catch {
    return resultXdr.slice(0, 120);
  }
}

function decodeResultCode(b64: string): string {
  // TransactionResult: int64 feeCharged, then the result union whose discriminant is the code.
  const buf = Buffer.from(b64, 'base64');
  if (buf.length < 12) return b64;
  const code = buf.readInt32BE(8);
  const names: Record<number, string> = {
    0: 'txSUCCESS',
    [-1]: 'txFAILED',
    [-2]: 'txTOO_EARLY',
    [-3]: 'txTOO_LATE',
    [-4]: 'txMISSING_OPERATION',
    [-5]: 'txBAD_SEQ',
    [-6]: 'txBAD_AUTH',
    [-7]: 'txINSUFFICIENT_BALANCE',
    [-8]: 'txNO_ACCOUNT',
    [-9]: 'txINSUFFICIENT_FEE',
    [-10]: 'txBAD_AUTH_EXTRA',
    [-11]: 'txINTERNAL_ERROR',
    [-17]: 'txSOROBAN_INVALID',
  };
  let s = names[code] ?? `tx code ${code}`;
  if (code === -1 && buf.length >= 28) {
    // results<1>: opINNER (0), the operation type, then InvokeHostFunction's result code.
    const opCode = buf.readInt32BE(16);
    const inner = buf.readInt32BE(24);
    const hostNames: Record<number, string> = {
      [-1]: 'MALFORMED',
      [-2]: 'TRAPPED',
      [-3]: 'RESOURCE_LIMIT_EXCEEDED',
      [-4]: 'ENTRY_ARCHIVED',
      [-5]: 'INSUFFICIENT_REFUNDABLE_FEE',
    };
    if (opCode === 0) s += ` / invokeHostFunction ${hostNames[inner] ?? inner}`;
  }
  return s;
}

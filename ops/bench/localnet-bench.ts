// Local chain benchmark: contract invocations applied per second, getEvents events served per
// second, and the server's peak memory (VmHWM) with 1 million events retained.
//
//   node ops/bench/localnet-bench.ts [--txs 2000] [--events 1000000]
//
// Phase 1 deploys the contracts, simulates and signs --txs analytics record_progress
// invocations (one new student each), sends them as fast as one client can and times from the
// first send to the last SUCCESS. Phase 2 starts a second
// chain with --seed-events synthetic SEP-41 mint events (the chain's benchmark aid) and pages
// through all of them with getEvents (limit 10 000, contract filter), as an indexer does.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Account,
  Address,
  Contract,
  Keypair,
  StrKey,
  TransactionBuilder,
  nativeToScVal,
  rpc,
} from '@stellar/stellar-sdk';
import { deploy } from '../deploy/deploy.ts';
import {
  localnetBinary,
  rawRpc,
  repoRoot,
  startLocalnet,
  type EventsResult,
  type Localnet,
  type TxResult,
} from '../localnet/localnet.ts';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function peakRssMb(net: Localnet): number {
  const status = readFileSync(`/proc/${net.process.pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

function rssMb(net: Localnet): number {
  const status = readFileSync(`/proc/${net.process.pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

async function applyThroughput(bin: string, txCount: number) {
  // Ledgers close every 5 s, as on the network; the chain logs each close's apply time.
  const closes: { txs: number; micros: number }[] = [];
  let pending = '';
  const net = await startLocalnet(bin, {
    ledgerIntervalMs: 5000,
    env: { LOCALNET_LOG_LEDGERS: '1' },
    onStderr: (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const m = /closed ledger \d+ with (\d+) txs in (\d+) us/.exec(line);
        if (m) closes.push({ txs: Number(m[1]), micros: Number(m[2]) });
      }
    },
  });
  try {
    const dir = mkdtempSync(join(tmpdir(), 'starling-bench-'));
    const manifest = await deploy({
      rpcUrl: net.url,
      network: 'local',
      wasmDir: join(repoRoot, 'contracts/build'),
      out: join(dir, 'local.json'),
      log: () => {},
    });
    const platform = Keypair.fromSecret(manifest.platform.secret!);
    const passphrase = manifest.networkPassphrase;
    const server = new rpc.Server(net.url, { allowHttp: true });
    const account = await server.getAccount(platform.publicKey());
    const base = BigInt(account.sequenceNumber());
    const rss0 = rssMb(net);
    const analytics = new Contract(manifest.contracts.analytics.contractId);
    const caller = new Address(platform.publicKey()).toScVal();
    const course = nativeToScVal(Buffer.alloc(16, 3));
    const percent = nativeToScVal(50, { type: 'u32' });

    // Simulate and sign every transaction before the clock starts: one record_progress per
    // new student (each writes its own progress entry), sequence numbers base+1…base+N.
    const envelopes: string[] = new Array(txCount);
    let nextSim = 0;
    const prepare = async () => {
      while (nextSim < txCount) {
        const i = nextSim++;
        const student = new Address(Keypair.random().publicKey()).toScVal();
        const draft = new TransactionBuilder(
          new Account(platform.publicKey(), (base + BigInt(i)).toString()),
          { fee: '100', networkPassphrase: passphrase },
        )
          .addOperation(analytics.call('record_progress', caller, student, course, percent))
          .setTimeout(0)
          .build();
        const tx = await server.prepareTransaction(draft);
        tx.sign(platform);
        envelopes[i] = tx.toXDR();
      }
    };
    const simStarted = performance.now();
    await Promise.all(Array.from({ length: 8 }, prepare));
    const simSeconds = (performance.now() - simStarted) / 1000;
    closes.length = 0;
    const hashes: string[] = new Array(txCount);
    const started = performance.now();
    // One sender, in order: the chain needs consecutive sequence numbers from one source.
    for (let i = 0; i < txCount; i++) {
      const res = await rawRpc<{ status: string; hash: string }>(net.url, 'sendTransaction', {
        transaction: envelopes[i],
      });
      if (res.result?.status !== 'PENDING') throw new Error(`tx ${i}: ${JSON.stringify(res)}`);
      hashes[i] = res.result.hash;
    }
    const sentAt = performance.now();
    let last: TxResult | undefined;
    for (;;) {
      last = (await rawRpc<TxResult>(net.url, 'getTransaction', { hash: hashes[txCount - 1] })).result;
      if (last && last.status !== 'NOT_FOUND') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const appliedAt = performance.now();
    if (last.status !== 'SUCCESS') {
      throw new Error(
        `last tx ${last.status}: ${last.resultXdr} ${JSON.stringify(last.diagnosticEventsXdr)}`,
      );
    }
    const first = (await rawRpc<TxResult>(net.url, 'getTransaction', { hash: hashes[0] })).result;
    const firstLedger = first?.ledger ?? last.ledger;
    let ok = 0;
    const failures: Record<string, number> = {};
    for (const h of hashes) {
      const t = (await rawRpc<TxResult>(net.url, 'getTransaction', { hash: h })).result;
      if (t?.status === 'SUCCESS') ok++;
      else {
        const why = `${t?.status} ${t?.resultXdr ?? ''}`;
        failures[why] = (failures[why] ?? 0) + 1;
      }
    }
    if (Object.keys(failures).length) console.error('failures', failures);
    // The close is logged just after the ledger becomes visible: give the log line time to arrive.
    await new Promise((r) => setTimeout(r, 500));
    const appliedTxs = closes.reduce((n, c) => n + c.txs, 0);
    const applySeconds = closes.reduce((n, c) => n + c.micros, 0) / 1e6;
    return {
      txCount,
      succeeded: ok,
      simulations: { seconds: simSeconds, perSecond: txCount / simSeconds },
      ledgerApply: { txs: appliedTxs, seconds: applySeconds, txsPerSecond: appliedTxs / applySeconds },
      sendSeconds: (sentAt - started) / 1000,
      totalSeconds: (appliedAt - started) / 1000,
      endToEndPerSecond: ok / ((appliedAt - started) / 1000),
      ledgers: last.ledger - firstLedger + 1,
      rssBeforeMb: rss0,
      rssAfterMb: rssMb(net),
      peakRssMb: peakRssMb(net),
    };
  } finally {
    await net.stop();
  }
}

async function eventsThroughput(bin: string, events: number) {
  const startedAt = performance.now();
  const net = await startLocalnet(bin, {
    ledgerIntervalMs: 1000,
    retentionLedgers: 1_000_000,
    seedEvents: events,
  });
  const seedSeconds = (performance.now() - startedAt) / 1000;
  try {
    const health = (await rawRpc<{ oldestLedger: number }>(net.url, 'getHealth')).result!;
    const contractId = StrKey.encodeContract(Buffer.alloc(32, 0xbe)); // the seeded events' contract
    const filters = [{ type: 'contract', contractIds: [contractId] }];
    let served = 0;
    let requests = 0;
    let cursor: string | undefined;
    const t0 = performance.now();
    for (;;) {
      const params = cursor
        ? { filters, pagination: { cursor, limit: 10_000 } }
        : { startLedger: health.oldestLedger, filters, pagination: { limit: 10_000 } };
      const res = await rawRpc<EventsResult>(net.url, 'getEvents', params);
      if (res.error || !res.result) throw new Error(JSON.stringify(res.error));
      const page = res.result;
      requests++;
      served += page.events.length;
      cursor = page.cursor;
      const cursorLedger = Number(BigInt(cursor.split('-')[0] ?? '0') >> 32n);
      if (served >= events || (page.events.length < 10_000 && cursorLedger >= page.latestLedger)) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    return {
      events,
      served,
      requests,
      seconds,
      eventsPerSecond: served / seconds,
      seedSeconds,
      rssMb: rssMb(net),
      peakRssMb: peakRssMb(net),
    };
  } finally {
    await net.stop();
  }
}

const bin = localnetBinary();
const txs = flag('txs', 2000);
const events = flag('events', 1_000_000);
const apply = await applyThroughput(bin, txs);
console.log(JSON.stringify({ apply }, null, 2));
const served = await eventsThroughput(bin, events);
console.log(JSON.stringify({ events: served }, null, 2));

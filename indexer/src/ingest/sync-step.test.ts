// The sync stage's classification, against a scripted RPC: an empty page is not the end, a full
// page leaves its last ledger open, the range error means "wait" at the head and a retention gap
// behind the oldest ledger (never a skip), and ledgers going backwards mean a reset network.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Context } from '../context.ts';
import { NetworkResetError, RpcRequestError } from '../errors.ts';
import { createMetrics } from '../metrics.ts';
import type { GetEventsResult, RpcClient } from '../rpc/rpc.client.ts';
import type { StateRow } from '../store/state.repository.ts';
import { syncStep } from './ingest.ts';

const CONTRACT = 'CDA4DQOBYHA4DQOBYHA4DQOBYHA4DQOBYHA4DQOBYHA4DQOBYHA4CFV6';
const kinds = new Map([[CONTRACT, 'analytics' as const]]);
const toid = (ledger: number, tx = 0) =>
  ((BigInt(ledger) << 32n) | (BigInt(tx) << 12n)).toString().padStart(19, '0');
const maxFor = (ledger: number) =>
  `${((BigInt(ledger) << 32n) | 0xffffffffn).toString().padStart(19, '0')}-4294967295`;

function ctxWith(getEvents: (p: unknown) => Promise<GetEventsResult>, limit = 3): Context {
  const rpc = { getEvents } as unknown as RpcClient;
  return {
    config: { INDEXER_PAGE_LIMIT: limit },
    rpc,
    log: pino({ level: 'silent' }),
    metrics: createMetrics(),
  } as unknown as Context;
}

const state = (p: Partial<StateRow>): StateRow =>
  ({ cursor: null, last_ledger: 99, start_ledger: 50, ...p }) as StateRow;
const page = (p: Partial<GetEventsResult>): GetEventsResult => ({
  events: [],
  cursor: maxFor(100),
  latestLedger: 20_000,
  oldestLedger: 10,
  ...p,
});

const progressEvent = (ledger: number, i: number) => ({
  type: 'contract',
  ledger,
  ledgerClosedAt: '2026-01-01T00:00:00Z',
  contractId: CONTRACT,
  id: `${toid(ledger, 1)}-${String(i).padStart(10, '0')}`,
  txHash: 'aa'.repeat(32),
  topic: [
    'AAAADwAAABFwcm9ncmVzc19yZWNvcmRlZAAAAA==',
    'AAAAEgAAAAAAAAAAAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=',
    'AAAADQAAABALbwwufRpMO5pVPi9NbIsQ',
  ],
  value:
    'AAAAEQAAAAEAAAADAAAADwAAAAdwZXJjZW50AAAAAAMAAAAoAAAADwAAAAhwcmV2aW91cwAAAAMAAAAAAAAADwAAAAhyZWNvcmRlcgAAABIAAAAAAAAAAAICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIC',
});

describe('syncStep', () => {
  it('an empty page that scanned a window is not the end: it advances and does not count as caught up', async () => {
    const ctx = ctxWith(async () => page({ cursor: maxFor(10_099) }));
    const step = await syncStep(ctx, state({}), kinds);
    expect(step).toMatchObject({ kind: 'events', lastLedger: 10_099, full: false, rows: { count: 0 } });
    if (step.kind === 'events') expect(step.lastLedger < step.page.latestLedger).toBe(true);
  });

  it('a full page leaves the ledger of its last event open', async () => {
    const events = [progressEvent(120, 1), progressEvent(120, 2), progressEvent(121, 1)];
    const ctx = ctxWith(async () => page({ events, cursor: events[2]!.id }));
    const step = await syncStep(ctx, state({}), kinds);
    expect(step).toMatchObject({ kind: 'events', lastLedger: 120, full: true });
    if (step.kind === 'events')
      expect(step.rows.others.map((e) => e.decoded.name)).toEqual([
        'progress_recorded',
        'progress_recorded',
        'progress_recorded',
      ]);
  });

  it('resumes from the stored cursor, never from a ledger', async () => {
    let seen: unknown;
    const ctx = ctxWith(async (p) => ((seen = p), page({ cursor: maxFor(130) })));
    await syncStep(ctx, state({ cursor: maxFor(99) }), kinds);
    expect(seen).toMatchObject({ cursor: maxFor(99) });
    expect((seen as { startLedger?: number }).startLedger).toBeUndefined();
  });

  it('a range error past the head means wait; behind the oldest ledger it is a retention gap', async () => {
    const err = (o: number, l: number) =>
      new RpcRequestError(-32600, `getEvents: startLedger must be within the ledger range: ${o} - ${l}`);
    const atHead = ctxWith(async () => Promise.reject(err(10, 99)));
    expect(await syncStep(atHead, state({ cursor: maxFor(99) }), kinds)).toMatchObject({
      kind: 'caught_up',
      latestLedger: 99,
    });
    const behind = ctxWith(async () => Promise.reject(err(500, 20_000)));
    expect(await syncStep(behind, state({ cursor: maxFor(99) }), kinds)).toEqual({
      kind: 'retention_gap',
      cursorLedger: 100,
      oldestLedger: 500,
    });
  });

  it('ledgers going backwards are a reset network', async () => {
    const ctx = ctxWith(async () => page({ latestLedger: 12, cursor: maxFor(12) }));
    await expect(syncStep(ctx, state({ cursor: maxFor(99) }), kinds)).rejects.toBeInstanceOf(
      NetworkResetError,
    );
  });
});

// The page worker against a scripted JSON-RPC server over real HTTP: a catch-up page built on the
// worker is byte for byte the page built on the calling thread; RPC and decode failures cross
// the thread as the errors the ingest loop classifies; a stopped worker fails its page as
// retryable and the next page gets a new one.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { nativeToScVal } from '@stellar/stellar-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodeError, IndexerError, RpcRequestError, RpcTransientError } from '../errors.ts';
import { createMetrics } from '../metrics.ts';
import {
  createRpcClient,
  parseLedgerRangeError,
  type GetEventsResult,
  type RpcClient,
} from '../rpc/rpc.client.ts';
import { isEncoded, rowCount, type RowSet } from '../store/page-transaction.ts';
import { asRpcPage, vectorEvents } from '../test/vectors.ts';
import { decodeEvent } from '../decode/index.ts';
import { buildPage } from './page-build.ts';
import { createPageBuilder, type PageBuilder } from './page-builder.ts';

const events = vectorEvents(['token_', 'analytics_', 'certificate_', 'governance_']);
const { wire, kinds } = asRpcPage(events);
// And an event no table names: the fast reader declines it, so the worker loads the full decoder.
const tokenId = events.find((e) => e.kind === 'token')!.contractId;
const last = events.at(-1)!;
wire.push({
  ...wire.at(-1)!,
  contractId: tokenId,
  id: `${last.id.split('-')[0]}-${'9'.repeat(10)}`,
  topic: [nativeToScVal('surprise', { type: 'symbol' }).toXDR('base64')],
  value: nativeToScVal(5, { type: 'u32' }).toXDR('base64'),
});
const result: GetEventsResult = {
  events: wire,
  cursor: wire.at(-1)!.id,
  latestLedger: 900,
  oldestLedger: 10,
  latestLedgerCloseTime: '1767225600',
};
const params = { contractIds: [...kinds.keys()], limit: 5000, startLedger: 100 };

type Reply = { status: number; text: string } | 'hang';
let reply: Reply = { status: 200, text: '' };
let requests = 0;
const ok = (r: unknown): Reply => ({
  status: 200,
  text: JSON.stringify({ jsonrpc: '2.0', id: 1, result: r }),
});

let server: Server;
let url = '';
const sockets = new Set<Socket>();
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      if (reply === 'hang') return;
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.text);
    });
  });
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

/** The daemon's client, counting the getEvents calls it makes itself (the calling-thread path). */
function countingRpc(): { rpc: RpcClient; calls: () => number } {
  const rpc = createRpcClient({ url, timeoutMs: 3000 });
  let calls = 0;
  return {
    rpc: { ...rpc, getEvents: (p) => (calls++, rpc.getEvents(p)) },
    calls: () => calls,
  };
}

const text = (rows: RowSet) => (isEncoded(rows) ? new TextDecoder().decode(rows.copy) : 'not encoded');

/** A builder whose next page goes to the worker (one page with events seen on this thread). */
async function warmBuilder(rpc: RpcClient, metrics = createMetrics()): Promise<PageBuilder> {
  const builder = createPageBuilder({ url, timeoutMs: 3000, minEvents: 1, metrics });
  reply = ok(result);
  await builder.fetch(rpc, params, kinds);
  return builder;
}

describe('page builder', () => {
  it('builds a catch-up page on the worker exactly as on the calling thread', async () => {
    const { rpc, calls } = countingRpc();
    const builder = createPageBuilder({ url, timeoutMs: 3000, minEvents: 1 });
    try {
      reply = ok(result);
      const before = requests;
      const here = await builder.fetch(rpc, params, kinds);
      const there = await builder.fetch(rpc, params, kinds);
      // The first went through the daemon's client; the second was fetched by the worker.
      expect(calls()).toBe(1);
      expect(requests - before).toBe(2);

      const direct = buildPage(kinds, result, decodeEvent);
      for (const page of [here, there]) {
        expect(page.page).toEqual({ ...direct.page, eventCount: wire.length });
        expect(text(page.rows.rawEvents)).toBe(text(direct.rows.rawEvents));
        expect(text(page.rows.rawEvents).split('\n')).toHaveLength(wire.length + 1);
        expect(text(page.rows.rawEvents)).toContain('\tsurprise\t');
        expect(page.rows.others).toEqual(direct.rows.others);
        expect(page.rows.others.length).toBeGreaterThan(5);
        const { rawEvents: _r, others: _o, ...rest } = page.rows;
        const { rawEvents: _r2, others: _o2, ...restDirect } = direct.rows;
        expect(rest).toEqual(restDirect);
        expect(page.closedAt).toEqual(direct.closedAt);
        expect(await page.wire()).toEqual(wire);
      }
    } finally {
      await builder.close();
    }
  });

  it("carries the RPC's and the decoder's failures across the thread as their own errors", async () => {
    const metrics = createMetrics();
    const { rpc } = countingRpc();
    const builder = await warmBuilder(rpc, metrics);
    try {
      reply = {
        status: 200,
        text: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          error: { code: -32600, message: 'startLedger must be within the ledger range: 500 - 900' },
        }),
      };
      const rangeError = await builder.fetch(rpc, params, kinds).catch((e: unknown) => e);
      expect(rangeError).toBeInstanceOf(RpcRequestError);
      expect((rangeError as RpcRequestError).rpcCode).toBe(-32600);
      expect(parseLedgerRangeError(rangeError)).toEqual({ oldest: 500, latest: 900 });

      for (const bad of [
        { status: 500, text: 'upstream down' },
        { status: 429, text: '' },
        { status: 200, text: '{"jsonrpc":"2.0","id":1,"result":' },
        ok({ cursor: 'x', latestLedger: 9 }),
      ]) {
        reply = bad;
        await expect(builder.fetch(rpc, params, kinds)).rejects.toBeInstanceOf(RpcTransientError);
      }
      const counted = (await metrics.rpcErrors.get()).values;
      expect(counted.find((v) => v.labels.kind === 'request')?.value).toBe(1);
      expect(counted.find((v) => v.labels.kind === 'transient')?.value).toBe(4);

      // A known event with the wrong layout: ingest must stop on it, naming the event.
      const mint = wire.findIndex((w, i) => events[i]!.decoded.name === 'mint');
      const broken = wire.map((w, i) =>
        i === mint ? { ...w, value: nativeToScVal('oops', { type: 'symbol' }).toXDR('base64') } : w,
      );
      reply = ok({ ...result, events: broken });
      const decodeError = await builder.fetch(rpc, params, kinds).catch((e: unknown) => e);
      expect(decodeError).toBeInstanceOf(DecodeError);
      expect((decodeError as Error).message).toContain(wire[mint]!.id);

      // The worker is still there and builds the next page.
      reply = ok(result);
      expect((await builder.fetch(rpc, params, kinds)).rows.count).toBe(wire.length);
    } finally {
      await builder.close();
    }
  });

  it('a stopped worker fails its page as retryable, and the next page gets a new worker', async () => {
    const { rpc } = countingRpc();
    const builder = await warmBuilder(rpc);
    reply = 'hang';
    const before = requests;
    const pending = builder.fetch(rpc, params, kinds).catch((e: unknown) => e);
    await expect.poll(() => requests, { timeout: 5000 }).toBeGreaterThan(before);
    await builder.close();
    const err = await pending;
    expect(err).toBeInstanceOf(IndexerError);
    expect((err as IndexerError).retryable).toBe(true);

    reply = ok(result);
    try {
      expect((await builder.fetch(rpc, params, kinds)).rows.count).toBe(wire.length);
    } finally {
      await builder.close();
    }
  });

  it('sends credits to holders the streamed list lacks to COPY rows, and the rest through the deltas', async () => {
    const token = wire.filter((w, i) => events[i]?.kind === 'token');
    const tokenResult = { ...result, events: token };
    const direct = buildPage(kinds, tokenResult, decodeEvent).rows.balanceDeltas;
    const credited = [...direct.addresses.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    expect(credited.length).toBeGreaterThan(2);
    const [known, ...others] = credited;
    // The list arrives cut in the middle of an address, as COPY's chunks may be.
    const list = Buffer.from(`${known}\n${'G'.repeat(56)}\n`);
    const feeder = () => {
      let streamed!: () => void;
      const done = new Promise<void>((r) => (streamed = r));
      const loadHolders = async () => ({
        expected: 2,
        chunks: (async function* () {
          yield list.subarray(0, 30);
          yield list.subarray(30);
          streamed();
        })(),
      });
      return { done, loadHolders };
    };
    const first = feeder();
    const builder = createPageBuilder({ url, timeoutMs: 3000, minEvents: 1, loadHolders: first.loadHolders });
    const { rpc } = countingRpc();
    try {
      // A first page without token moves (built here), so that the worker starts.
      reply = ok({ ...result, events: wire.filter((w, i) => events[i]?.kind === 'analytics') });
      await builder.fetch(rpc, params, kinds);
      reply = ok(tokenResult);
      await builder.fetch(rpc, params, kinds); // the worker starts, and is fed the list
      await first.done;
      await new Promise((r) => setImmediate(r)); // the builder posts 'ready' after the last chunk
      const page = await builder.fetch(rpc, params, kinds);
      // Every address of the previous page is now known to the filter: nothing is new any more.
      expect(rowCount(page.rows.newHolders)).toBe(0);
      expect(page.rows.balanceDeltas.count).toBe(credited.length);

      const second = feeder();
      const fresh = createPageBuilder({
        url,
        timeoutMs: 3000,
        minEvents: 1,
        loadHolders: second.loadHolders,
      });
      try {
        reply = ok({ ...result, events: wire.filter((w, i) => events[i]?.kind === 'analytics') });
        await fresh.fetch(rpc, params, kinds);
        await fresh.fetch(rpc, params, kinds); // starts the worker; analytics only, nothing credited
        await second.done;
        await new Promise((r) => setImmediate(r));
        reply = ok(tokenResult);
        const built = await fresh.fetch(rpc, params, kinds);
        const appended = text(built.rows.newHolders)
          .trim()
          .split('\n')
          .map((l) => l.split('\t')[0]);
        expect(appended.sort()).toEqual([...others].sort());
        expect(built.rows.balanceDeltas.addresses).toBe(`{"${known}"}`);
      } finally {
        await fresh.close();
      }
    } finally {
      await builder.close();
    }
  });
});

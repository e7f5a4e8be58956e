// Fetches a getEvents page and builds it (parse + decode + rows + COPY text, page-build.ts): on a
// worker thread while catching up (after a page with many events), on the calling thread when
// following the head (small pages, where a round trip to the worker would only add latency).
// While catching up, ingest fetches and builds the next page while the current one commits; on
// one thread that work held up every statement of the commit, and its garbage (megabytes of
// response and decoded events per page) was collected in the heap that holds the daemon's state.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ContractKind } from '../decode/spec.ts';
import { DecodeError, IndexerError, RpcRequestError, RpcTransientError, errorMessage } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import type { GetEventsResult, RpcClient, RpcEventWire } from '../rpc/rpc.client.ts';
import { decodeEvent } from '../decode/index.ts';
import { buildPage, type BuiltPage } from './page-build.ts';
import type { HolderMessage, PageFailure, PageReply, PageRequest, RpcOutcome } from './page-worker.ts';

export interface FetchedPage extends BuiltPage {
  /** The page's events as they came (parsed again from the same bytes): a replay needs them. */
  wire(): Promise<RpcEventWire[]>;
}

export type EventsParams = Parameters<RpcClient['getEvents']>[0];

export interface PageBuilder {
  fetch(rpc: RpcClient, params: EventsParams, kinds: ReadonlyMap<string, ContractKind>): Promise<FetchedPage>;
  /** A holder the filter called new had a balance: stop using the filter (this builder's life). */
  distrustHolders(): void;
  /** Stops the worker (pending builds fail). */
  close(): Promise<void>;
}

function inThread(kinds: ReadonlyMap<string, ContractKind>, result: GetEventsResult): FetchedPage {
  return { ...buildPage(kinds, result, decodeEvent), wire: async () => result.events };
}

/** The calling thread only, through the RPC client's parsed getEvents (syncStep's default). */
export const inThreadBuilder: PageBuilder = {
  fetch: async (rpc, params, kinds) => inThread(kinds, await rpc.getEvents(params)),
  distrustHolders: () => undefined,
  close: async () => undefined,
};

function revive(f: PageFailure): Error {
  switch (f.kind) {
    case 'rpc_request':
      return new RpcRequestError(f.rpcCode ?? 0, f.message);
    case 'rpc_transient':
      return new RpcTransientError(f.message);
    case 'decode':
      return new DecodeError(f.message);
    default:
      return new IndexerError('page_worker', f.message, true);
  }
}

export function createPageBuilder(opts: {
  /** The RPC the worker fetches from, and its timeout (the daemon's client's). */
  url: string;
  timeoutMs: number;
  log?: Logger;
  metrics?: Metrics;
  /** After a page with at least this many events (catching up), the next is built on the worker. */
  minEvents: number;
  /**
   * The addresses that have a balance (COPY text lines) and how many, for the worker's holder
   * filter (holder-filter.ts); without it, every balance goes through the update-or-insert path.
   */
  loadHolders?: () => Promise<{ expected: number; chunks: AsyncIterable<Uint8Array> }>;
}): PageBuilder {
  const { minEvents } = opts;
  // Credited addresses of the last pages built on this thread: a worker started now must know
  // them, since those pages may commit after its snapshot of the holders was taken.
  let recentHere: string[][] = [];
  let distrusted = false;
  let worker: Worker | null = null;
  let nextId = 1;
  // Whether the last response was big: catching up, the next one will be too.
  let big = false;
  const pending = new Map<number, { resolve: (p: never) => void; reject: (e: Error) => void }>();

  const failAll = (message: string) => {
    const err = new IndexerError('page_worker', message, true);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  const observe = (o: RpcOutcome) => {
    opts.metrics?.rpcSeconds.observe({ method: 'getEvents' }, o.ms / 1000);
    if (o.outcome !== 'ok') opts.metrics?.rpcErrors.inc({ method: 'getEvents', kind: o.outcome });
  };

  function start(): Worker {
    // Its own heap, capped like the daemon's (the start command caps the main one): what it
    // holds a page or two at a time (64/6 for the main thread and 32/8 here kept a
    // 1,000,000-event backfill under 250 MB, ops/bench/RESULTS.md).
    const w = new Worker(new URL('./page-worker.ts', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
    });
    w.unref();
    w.on('message', (reply: PageReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      if (pending.size === 0) w.unref();
      if ('rpc' in reply && reply.rpc) observe(reply.rpc);
      if (reply.ok) (p.resolve as (v: unknown) => void)('page' in reply ? reply.page : reply.events);
      else p.reject(revive(reply.error));
    });
    w.on('error', (e) => {
      opts.log?.error({ err: errorMessage(e) }, 'page worker failed');
      if (worker === w) worker = null;
      failAll(`page worker failed: ${errorMessage(e)}`);
    });
    w.on('exit', (code) => {
      if (worker === w) worker = null;
      if (pending.size > 0) failAll(`page worker exited (code ${code})`);
    });
    if (opts.loadHolders && !distrusted) void feedHolders(w, opts.loadHolders);
    return w;
  }

  async function feedHolders(w: Worker, load: NonNullable<typeof opts.loadHolders>): Promise<void> {
    const send = (m: HolderMessage) => w.postMessage(m);
    try {
      const { expected, chunks } = await load();
      send({ type: 'holders', expected });
      for (const addresses of recentHere) send({ type: 'holders-add', addresses });
      for await (const data of chunks) send({ type: 'holders-chunk', data });
      send({ type: 'holders-ready' });
    } catch (e) {
      opts.log?.warn({ err: errorMessage(e) }, 'holder filter not loaded: balances take the slower path');
      send({ type: 'holders-off' });
    }
  }

  function ask<T>(req: Extract<PageRequest, { id: number }>): Promise<T> {
    const w = (worker ??= start());
    return new Promise<T>((resolve, reject) => {
      pending.set(req.id, { resolve: resolve as (p: never) => void, reject });
      w.ref();
      w.postMessage(req);
    });
  }

  return {
    async fetch(rpc, params, kinds) {
      if (!big) {
        // Through the daemon's own client (its metrics), parsed and built here.
        const result = await rpc.getEvents(params);
        big = result.events.length >= minEvents;
        const page = inThread(kinds, result);
        const credited = [...page.rows.balanceDeltas.addresses.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map(
          (m) => m[1]!,
        );
        if (credited.length > 0) {
          recentHere = [...recentHere.slice(-3), credited];
          worker?.postMessage({ type: 'holders-add', addresses: credited } satisfies HolderMessage);
        }
        return page;
      }
      const id = nextId++;
      const built = await ask<BuiltPage>({
        type: 'page',
        id,
        url: opts.url,
        timeoutMs: opts.timeoutMs,
        params,
        kinds: [...kinds],
      });
      big = built.page.eventCount >= minEvents;
      return { ...built, wire: () => ask<RpcEventWire[]>({ type: 'wire', id: nextId++, page: id }) };
    },
    distrustHolders() {
      distrusted = true;
      worker?.postMessage({ type: 'holders-off' } satisfies HolderMessage);
    },
    async close() {
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
}

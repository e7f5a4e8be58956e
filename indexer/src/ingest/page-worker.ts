// The page worker: fetches, parses, decodes and encodes catch-up pages on its own thread
// (page-build.ts), so the main thread's event loop stays free to drive the previous page's commit
// (its statements go out at once instead of after a page's worth of decoding), and the response
// bytes and the page's garbage are allocated and collected here, not in the heap that holds the
// daemon's state. page-builder.ts is the other side.
import { parentPort } from 'node:worker_threads';
import type { ContractKind } from '../decode/spec.ts';
import { DecodeError, RpcRequestError, RpcTransientError, errorMessage } from '../errors.ts';
import {
  checkEventsResult,
  createRpcClient,
  parseResponse,
  type GetEventsResult,
  type RawResponse,
  type RpcClient,
  type RpcEventWire,
} from '../rpc/rpc.client.ts';
import { decodeFast } from '../decode/fast.ts';
import { isEncoded } from '../store/copy-text.ts';
import { NeedsFullDecoder, buildPage, type BuiltPage, type Decoder } from './page-build.ts';
import type { EventsParams } from './page-builder.ts';

export type PageRequest =
  | {
      type: 'page';
      id: number;
      /** The RPC to fetch from (the worker keeps one keep-alive client per URL). */
      url: string;
      timeoutMs: number;
      params: EventsParams;
      kinds: [string, ContractKind][];
    }
  /** The events of a page this worker built (a replay), parsed again from the same bytes. */
  | { type: 'wire'; id: number; page: number };

/** How the getEvents call went, for the daemon's RPC metrics. */
export interface RpcOutcome {
  outcome: 'ok' | 'transient' | 'request';
  ms: number;
  bytes: number;
}

/** An error as it crosses the thread boundary: its class by name, and what it carries. */
export interface PageFailure {
  kind: 'rpc_transient' | 'rpc_request' | 'decode' | 'other';
  message: string;
  rpcCode?: number;
}

export type PageReply =
  | { id: number; ok: true; page: BuiltPage; rpc: RpcOutcome }
  | { id: number; ok: true; events: RpcEventWire[] }
  | { id: number; ok: false; error: PageFailure; rpc?: RpcOutcome | null };

function failure(e: unknown): PageFailure {
  const message = errorMessage(e);
  if (e instanceof RpcRequestError) return { kind: 'rpc_request', message, rpcCode: e.rpcCode };
  if (e instanceof RpcTransientError) return { kind: 'rpc_transient', message };
  if (e instanceof DecodeError) return { kind: 'decode', message };
  return { kind: 'other', message };
}

// The fast reader alone until an event needs more: the SDK (tens of MB in this thread's heap) is
// loaded then, and the page built again with the full decoder.
let decode: Decoder = (kind, topics, value) => {
  const d = decodeFast(kind, topics, value);
  if (!d) throw new NeedsFullDecoder();
  return d;
};

async function build(kinds: Map<string, ContractKind>, result: GetEventsResult): Promise<BuiltPage> {
  try {
    return buildPage(kinds, result, decode);
  } catch (e) {
    if (!(e instanceof NeedsFullDecoder)) throw e;
    decode = (await import('../decode/index.ts')).decodeEvent;
    return buildPage(kinds, result, decode);
  }
}

const port = parentPort;
if (!port) throw new Error('page-worker.ts runs as a worker thread');

let client: { url: string; timeoutMs: number; rpc: RpcClient } | null = null;

function rpcFor(url: string, timeoutMs: number): RpcClient {
  if (client?.url !== url || client.timeoutMs !== timeoutMs) {
    client = { url, timeoutMs, rpc: createRpcClient({ url, timeoutMs }) };
  }
  return client.rpc;
}

// The last pages' bytes, for a replay of one of them (two are in flight at most).
const recent = new Map<number, RawResponse>();

port.on('message', (req: PageRequest) => {
  if (req.type === 'page') return void handle(req);
  const raw = recent.get(req.page);
  let reply: PageReply;
  try {
    if (!raw) throw new Error(`page ${req.page} is no longer held`);
    reply = { id: req.id, ok: true, events: checkEventsResult(parseResponse<GetEventsResult>(raw)).events };
  } catch (e) {
    reply = { id: req.id, ok: false, error: failure(e) };
  }
  port!.postMessage(reply);
});

async function handle(req: Extract<PageRequest, { type: 'page' }>): Promise<void> {
  let reply: PageReply;
  const transfer: ArrayBuffer[] = [];
  const started = performance.now();
  try {
    let raw: RawResponse;
    try {
      raw = await rpcFor(req.url, req.timeoutMs).getEventsRaw(req.params);
    } catch (e) {
      // Transport trouble, 429, 5xx: transient (the client's classification).
      throw Object.assign(e as Error, {
        rpc: { outcome: 'transient', ms: performance.now() - started, bytes: 0 } satisfies RpcOutcome,
      });
    }
    recent.set(req.id, raw);
    for (const k of recent.keys()) if (recent.size > 2) recent.delete(k);
    const rpc: RpcOutcome = { outcome: 'ok', ms: performance.now() - started, bytes: raw.body.length };
    let result: GetEventsResult;
    try {
      result = checkEventsResult(parseResponse<GetEventsResult>(raw));
    } catch (e) {
      rpc.outcome = e instanceof RpcRequestError ? 'request' : 'transient';
      throw Object.assign(e as Error, { rpc });
    }
    const page = await build(new Map(req.kinds), result);
    if (isEncoded(page.rows.rawEvents)) transfer.push(page.rows.rawEvents.copy.buffer as ArrayBuffer);
    reply = { id: req.id, ok: true, page, rpc };
  } catch (e) {
    const rpc = (e as { rpc?: RpcOutcome }).rpc ?? null;
    reply = { id: req.id, ok: false, error: failure(e), rpc };
  }
  port!.postMessage(reply, transfer);
}

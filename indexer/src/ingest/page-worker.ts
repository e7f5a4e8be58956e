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
import { HolderFilter } from './holder-filter.ts';
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
  | { type: 'wire'; id: number; page: number }
  | HolderMessage;

/**
 * The holder filter's feed: `holders` starts one sized for `expected` addresses, `chunk` carries
 * lines of `COPY (SELECT address FROM bst_balances) TO STDOUT`, `ready` puts it to use, `add`
 * records addresses of pages built elsewhere, `off` stops using it for good.
 */
export type HolderMessage =
  | { type: 'holders'; expected: number }
  | { type: 'holders-chunk'; data: Uint8Array }
  | { type: 'holders-ready' }
  | { type: 'holders-add'; addresses: string[] }
  | { type: 'holders-off' };

/** How the getEvents call went, for the daemon's RPC metrics. */
export interface RpcOutcome {
  outcome: 'ok' | 'transient' | 'request';
  ms: number;
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

// The filter is used only once complete (`ready`): a partial one would call holders new.
let holders: HolderFilter | null = null;
let holdersReady = false;
let holdersOff = false;
let partialLine = '';
const latin1 = new TextDecoder('latin1');

function onHolders(m: HolderMessage): void {
  if (m.type === 'holders-off') {
    [holders, holdersReady, holdersOff] = [null, false, true];
    return;
  }
  if (holdersOff) return;
  if (m.type === 'holders') {
    [holders, holdersReady, partialLine] = [new HolderFilter(m.expected), false, ''];
    return;
  }
  if (!holders) return;
  if (m.type === 'holders-add') {
    for (const a of m.addresses) holders.add(a);
    return;
  }
  if (m.type === 'holders-ready') {
    if (partialLine) holders.add(partialLine);
    [partialLine, holdersReady] = ['', true];
    return;
  }
  const lines = (partialLine + latin1.decode(m.data)).split('\n');
  partialLine = lines.pop()!;
  for (const a of lines) if (a) holders.add(a);
}

async function build(kinds: Map<string, ContractKind>, result: GetEventsResult): Promise<BuiltPage> {
  const filter = holdersReady && holders ? holders : undefined;
  try {
    return buildPage(kinds, result, decode, filter);
  } catch (e) {
    if (!(e instanceof NeedsFullDecoder)) throw e;
    decode = (await import('../decode/index.ts')).decodeEvent;
    return buildPage(kinds, result, decode, filter);
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

// The last pages' bytes, for a replay of one of them (one committing, two built ahead).
const recent = new Map<number, RawResponse>();

port.on('message', (req: PageRequest) => {
  if (req.type === 'page') return void handle(req);
  if (req.type !== 'wire') return onHolders(req);
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
        rpc: { outcome: 'transient', ms: performance.now() - started } satisfies RpcOutcome,
      });
    }
    recent.set(req.id, raw);
    for (const k of recent.keys()) if (recent.size > 3) recent.delete(k);
    const rpc: RpcOutcome = { outcome: 'ok', ms: performance.now() - started };
    let result: GetEventsResult;
    try {
      result = checkEventsResult(parseResponse<GetEventsResult>(raw));
    } catch (e) {
      rpc.outcome = e instanceof RpcRequestError ? 'request' : 'transient';
      throw Object.assign(e as Error, { rpc });
    }
    const page = await build(new Map(req.kinds), result);
    for (const rows of [page.rows.rawEvents, page.rows.newHolders])
      if (isEncoded(rows)) transfer.push(rows.copy.buffer as ArrayBuffer);
    reply = { id: req.id, ok: true, page, rpc };
  } catch (e) {
    const rpc = (e as { rpc?: RpcOutcome }).rpc ?? null;
    reply = { id: req.id, ok: false, error: failure(e), rpc };
  }
  port!.postMessage(reply, transfer);
}

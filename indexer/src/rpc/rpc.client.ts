// Thin Stellar RPC JSON-RPC client. Wire types stay here; callers get parsed values. Every
// failure is classified: transport trouble (timeouts, resets, 429/5xx, malformed bodies) is an
// RpcTransientError to back off from; a JSON-RPC error object is an RpcRequestError, except the
// getEvents range error, which the ingest stage turns into `caught_up` or `retention_gap`.
import http from 'node:http';
import https from 'node:https';
import { RpcRequestError, RpcTransientError, errorMessage } from '../errors.ts';

export interface RpcEventWire {
  type: string;
  ledger: number;
  ledgerClosedAt: string;
  contractId: string;
  id: string;
  txHash: string;
  topic: string[];
  value: string;
  inSuccessfulContractCall?: boolean;
}

export interface GetEventsResult {
  events: RpcEventWire[];
  cursor: string;
  latestLedger: number;
  oldestLedger: number;
  latestLedgerCloseTime?: string;
  oldestLedgerCloseTime?: string;
}

export interface HealthResult {
  status: string;
  latestLedger: number;
  oldestLedger: number;
  ledgerRetentionWindow: number;
}

export interface LatestLedgerResult {
  id: string;
  sequence: number;
  protocolVersion: number;
}

export interface SendResult {
  status: 'PENDING' | 'DUPLICATE' | 'TRY_AGAIN_LATER' | 'ERROR';
  hash: string;
  errorResultXdr?: string;
  latestLedger: number;
}

export interface GetTransactionResult {
  status: 'SUCCESS' | 'FAILED' | 'NOT_FOUND';
  latestLedger: number;
  oldestLedger: number;
  ledger?: number;
  createdAt?: string;
  resultXdr?: string;
  envelopeXdr?: string;
  resultMetaXdr?: string;
}

export interface LedgerEntryResult {
  key: string;
  xdr: string;
  lastModifiedLedgerSeq: number;
  liveUntilLedgerSeq?: number;
}

export type RpcObserver = (method: string, outcome: 'ok' | 'transient' | 'request', ms: number) => void;

export interface RpcClient {
  call<T>(method: string, params?: unknown): Promise<T>;
  getHealth(): Promise<HealthResult>;
  getNetwork(): Promise<{ passphrase: string; protocolVersion: number; friendbotUrl?: string }>;
  getLatestLedger(): Promise<LatestLedgerResult>;
  getEvents(params: {
    startLedger?: number;
    cursor?: string;
    endLedger?: number;
    contractIds: string[];
    limit: number;
  }): Promise<GetEventsResult>;
  /** getEvents' HTTP exchange only: the body is parsed and classified by parseResponse elsewhere. */
  getEventsRaw(params: Parameters<RpcClient['getEvents']>[0]): Promise<RawResponse>;
  getLedgerEntries(keys: string[]): Promise<{ entries: LedgerEntryResult[]; latestLedger: number }>;
  simulateTransaction(txXdr: string): Promise<Record<string, unknown>>;
  sendTransaction(txXdr: string): Promise<SendResult>;
  getTransaction(hash: string): Promise<GetTransactionResult>;
  url: string;
}

/** A JSON-RPC response as it came over HTTP, for a caller that parses it elsewhere (the page worker). */
export interface RawResponse {
  method: string;
  status: number;
  /** The body: text, or its UTF-8 bytes as read from the socket. */
  body: string | Uint8Array;
}

const utf8 = new TextDecoder();

/**
 * A response body's result, classified like every call: malformed JSON or no result is transient,
 * a JSON-RPC error object an RpcRequestError. Pure, so the page worker runs it on its own thread.
 */
export function parseResponse<T>(raw: RawResponse): T {
  const { method, status } = raw;
  const text = typeof raw.body === 'string' ? raw.body : utf8.decode(raw.body);
  let body: { result?: T; error?: { code: number; message: string } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new RpcTransientError(`${method}: malformed JSON (HTTP ${status}, ${text.slice(0, 80)})`);
  }
  if (body === null || typeof body !== 'object') {
    throw new RpcTransientError(`${method}: malformed JSON-RPC body`);
  }
  if (body.error) throw new RpcRequestError(body.error.code, `${method}: ${body.error.message}`);
  if (body.result === undefined || body.result === null || typeof body.result !== 'object') {
    throw new RpcTransientError(`${method}: response without a result (HTTP ${status})`);
  }
  return body.result;
}

/** A getEvents result's shape, checked before anything relies on it. */
export function checkEventsResult(r: GetEventsResult): GetEventsResult {
  if (!Array.isArray(r.events) || typeof r.cursor !== 'string' || typeof r.latestLedger !== 'number') {
    throw new RpcTransientError('getEvents: malformed result');
  }
  return r;
}

export function eventsParams(p: Parameters<RpcClient['getEvents']>[0]): Record<string, unknown> {
  const params: Record<string, unknown> = {
    filters: [{ type: 'contract', contractIds: p.contractIds }],
    pagination: { limit: p.limit, ...(p.cursor ? { cursor: p.cursor } : {}) },
  };
  if (!p.cursor) params.startLedger = p.startLedger;
  if (!p.cursor && p.endLedger) params.endLedger = p.endLedger;
  return params;
}

export function createRpcClient(opts: { url: string; timeoutMs: number; observe?: RpcObserver }): RpcClient {
  let nextId = 1;
  /** The HTTP exchange: transport trouble, 429 and 5xx are transient; the body is not parsed. */
  async function fetchRaw(method: string, params: unknown, started: number): Promise<RawResponse> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: nextId++,
          method,
          ...(params === undefined ? {} : { params }),
        }),
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      opts.observe?.(method, 'transient', performance.now() - started);
      throw new RpcTransientError(`${method}: ${errorMessage(e)}`, { cause: e });
    }
    if (res.status === 429 || res.status >= 500) {
      opts.observe?.(method, 'transient', performance.now() - started);
      throw new RpcTransientError(`${method}: HTTP ${res.status}`);
    }
    return { method, status: res.status, body: text };
  }

  // getEvents pages while catching up are megabytes: read as bytes over node:http (no WHATWG
  // streams, no string on this thread) and handed to the page worker as they are.
  const agent = new (opts.url.startsWith('https:') ? https.Agent : http.Agent)({ keepAlive: true });
  function postBytes(method: string, params: unknown, started: number): Promise<RawResponse> {
    const payload = JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params });
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (why: string, cause?: unknown) => {
        if (settled) return;
        settled = true;
        opts.observe?.(method, 'transient', performance.now() - started);
        reject(new RpcTransientError(`${method}: ${why}`, cause === undefined ? undefined : { cause }));
      };
      const req = (opts.url.startsWith('https:') ? https : http).request(
        opts.url,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
          signal: AbortSignal.timeout(opts.timeoutMs),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => fail(errorMessage(e), e));
          res.on('close', () => {
            if (!res.complete) return fail('connection closed mid-response');
            const status = res.statusCode ?? 0;
            if (status === 429 || status >= 500) return fail(`HTTP ${status}`);
            if (settled) return;
            settled = true;
            resolve({ method, status, body: Buffer.concat(chunks) });
          });
        },
      );
      req.on('error', (e) => fail(errorMessage(e), e));
      req.end(payload);
    });
  }

  async function call<T>(method: string, params?: unknown): Promise<T> {
    const started = performance.now();
    const raw = await fetchRaw(method, params, started);
    try {
      const result = parseResponse<T>(raw);
      opts.observe?.(method, 'ok', performance.now() - started);
      return result;
    } catch (e) {
      opts.observe?.(
        method,
        e instanceof RpcRequestError ? 'request' : 'transient',
        performance.now() - started,
      );
      throw e;
    }
  }

  return {
    url: opts.url,
    call,
    getHealth: () => call('getHealth'),
    getNetwork: () => call('getNetwork'),
    getLatestLedger: () => call('getLatestLedger'),
    getEvents: async (p) => checkEventsResult(await call<GetEventsResult>('getEvents', eventsParams(p))),
    async getEventsRaw(p) {
      const started = performance.now();
      const raw = await postBytes('getEvents', eventsParams(p), started);
      // The body's outcome is known once it is parsed (on the page worker): counted there.
      opts.observe?.('getEvents', 'ok', performance.now() - started);
      return raw;
    },
    getLedgerEntries: (keys) => call('getLedgerEntries', { keys }),
    simulateTransaction: (transaction) => call('simulateTransaction', { transaction }),
    sendTransaction: (transaction) => call('sendTransaction', { transaction }),
    getTransaction: (hash) => call('getTransaction', { hash }),
  };
}

/** `startLedger must be within the ledger range: 5 - 90` (or the older wording) → the range. */
export function parseLedgerRangeError(e: unknown): { oldest: number; latest: number } | null {
  if (!(e instanceof RpcRequestError) || !/startLedger must be/.test(e.message)) return null;
  const m =
    /(\d+)\s*-\s*(\d+)/.exec(e.message) ?? /oldest ledger:\s*(\d+).*latest ledger:\s*(\d+)/.exec(e.message);
  return m ? { oldest: Number(m[1]), latest: Number(m[2]) } : { oldest: NaN, latest: NaN };
}

/** The ledger a getEvents cursor or event id points into (TOID >> 32). */
export function cursorLedger(cursor: string): number {
  const toid = BigInt(cursor.split('-')[0]!);
  return Number(toid >> 32n);
}

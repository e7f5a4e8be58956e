// Thin Stellar RPC JSON-RPC client. Wire types stay here; callers get parsed values. Every
// failure is classified: transport trouble (timeouts, resets, 429/5xx, malformed bodies) is an
// RpcTransientError to back off from; a JSON-RPC error object is an RpcRequestError, except the
// getEvents range error, which the ingest stage turns into `caught_up` or `retention_gap`.
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
  getLedgerEntries(keys: string[]): Promise<{ entries: LedgerEntryResult[]; latestLedger: number }>;
  simulateTransaction(txXdr: string): Promise<Record<string, unknown>>;
  sendTransaction(txXdr: string): Promise<SendResult>;
  getTransaction(hash: string): Promise<GetTransactionResult>;
  url: string;
}

export function createRpcClient(opts: { url: string; timeoutMs: number; observe?: RpcObserver }): RpcClient {
  let nextId = 1;
  async function call<T>(method: string, params?: unknown): Promise<T> {
    const started = performance.now();
    const done = (outcome: 'ok' | 'transient' | 'request') =>
      opts.observe?.(method, outcome, performance.now() - started);
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
      done('transient');
      throw new RpcTransientError(`${method}: ${errorMessage(e)}`, { cause: e });
    }
    if (res.status === 429 || res.status >= 500) {
      done('transient');
      throw new RpcTransientError(`${method}: HTTP ${res.status}`);
    }
    let body: { result?: T; error?: { code: number; message: string } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      done('transient');
      throw new RpcTransientError(`${method}: malformed JSON (HTTP ${res.status}, ${text.slice(0, 80)})`);
    }
    if (body === null || typeof body !== 'object') {
      done('transient');
      throw new RpcTransientError(`${method}: malformed JSON-RPC body`);
    }
    if (body.error) {
      done('request');
      throw new RpcRequestError(body.error.code, `${method}: ${body.error.message}`);
    }
    if (body.result === undefined || body.result === null || typeof body.result !== 'object') {
      done('transient');
      throw new RpcTransientError(`${method}: response without a result (HTTP ${res.status})`);
    }
    done('ok');
    return body.result;
  }

  return {
    url: opts.url,
    call,
    getHealth: () => call('getHealth'),
    getNetwork: () => call('getNetwork'),
    getLatestLedger: () => call('getLatestLedger'),
    async getEvents(p) {
      const params: Record<string, unknown> = {
        filters: [{ type: 'contract', contractIds: p.contractIds }],
        pagination: { limit: p.limit, ...(p.cursor ? { cursor: p.cursor } : {}) },
      };
      if (!p.cursor) params.startLedger = p.startLedger;
      if (!p.cursor && p.endLedger) params.endLedger = p.endLedger;
      const r = await call<GetEventsResult>('getEvents', params);
      if (!Array.isArray(r.events) || typeof r.cursor !== 'string' || typeof r.latestLedger !== 'number') {
        throw new RpcTransientError('getEvents: malformed result');
      }
      return r;
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

// One base error with a stable code. `retryable` decides whether a loop backs off and tries
// again (RPC hiccups, lost connections) or stops and says why (bad config, retention gap).
export class IndexerError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IndexerError';
    this.code = code;
    this.retryable = retryable;
  }
}

/** RPC unreachable, timed out, 429/5xx, malformed body: back off with jitter and try again. */
export class RpcTransientError extends IndexerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('rpc_transient', message, true, options);
  }
}

/** A JSON-RPC error object the server meant (bad params, …): not fixed by retrying. */
export class RpcRequestError extends IndexerError {
  readonly rpcCode: number;
  constructor(rpcCode: number, message: string) {
    super('rpc_request', message, false);
    this.rpcCode = rpcCode;
  }
}

/** The cursor is older than the RPC's oldest ledger: ingest stops, never skips. */
export class RetentionGapError extends IndexerError {
  readonly cursorLedger: number;
  readonly oldestLedger: number;
  constructor(cursorLedger: number, oldestLedger: number) {
    super(
      'retention_gap',
      `cursor ledger ${cursorLedger} is older than the RPC's oldest ledger ${oldestLedger}: events in between are gone; run \`rebuild\``,
      false,
    );
    this.cursorLedger = cursorLedger;
    this.oldestLedger = oldestLedger;
  }
}

/** The chain's ledger numbers went backwards or its passphrase changed: a reset network. */
export class NetworkResetError extends IndexerError {
  constructor(message: string) {
    super('network_reset', message, false);
  }
}

export class DecodeError extends IndexerError {
  constructor(message: string) {
    super('decode', message, false);
  }
}

export class ConfigError extends IndexerError {
  constructor(message: string) {
    super('config', message, false);
  }
}

/** This process no longer holds the advisory lock: it must write nothing more. */
export class LostLeadershipError extends IndexerError {
  constructor(message = 'lost the indexer lock') {
    super('lost_leadership', message, false);
  }
}

const TRANSIENT_PG = new Set([
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
  '40001',
  '40P01',
  '53300',
]);

/** Retryable: our transient errors, Postgres connection/serialisation failures, socket errors. */
export function isRetryable(e: unknown): boolean {
  if (e instanceof IndexerError) return e.retryable;
  const err = e as { code?: string; message?: string } | null;
  if (err?.code && TRANSIENT_PG.has(err.code)) return true;
  if (err?.code && ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET'].includes(err.code))
    return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    err?.message ?? '',
  );
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Exponential backoff with full jitter, capped. */
export function backoffMs(attempt: number, baseMs = 250, capMs = 30_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.floor(ceiling / 2 + Math.random() * (ceiling / 2));
}

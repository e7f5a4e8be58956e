// Prometheus metrics, one registry per daemon (no module-level singletons: tests run several).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  latestRpcLedger: Gauge;
  oldestRpcLedger: Gauge;
  lastIngestedLedger: Gauge;
  lagLedgers: Gauge;
  lagSeconds: Gauge;
  retentionHeadroom: Gauge;
  eventsIngested: Counter;
  pagesCommitted: Counter;
  pageCommitSeconds: Histogram;
  ledgerCommitLatency: Histogram;
  intentsByStatus: Gauge<'status'>;
  submitLatency: Histogram<'kind'>;
  submitted: Counter<'outcome'>;
  rpcErrors: Counter<'method' | 'kind'>;
  rpcSeconds: Histogram<'method'>;
  leader: Gauge;
  status: Gauge<'status'>;
}

export const STATUSES = [
  'starting',
  'standby',
  'catching_up',
  'following',
  'retention_gap',
  'network_reset',
  'rpc_error',
  'db_error',
  'decode_error',
  'error',
  'stopped',
] as const;
export type IndexerStatus = (typeof STATUSES)[number];

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'starling_indexer_' });
  const r = { registers: [registry] };
  return {
    registry,
    latestRpcLedger: new Gauge({
      name: 'starling_indexer_rpc_latest_ledger',
      help: 'Latest ledger the RPC reports',
      ...r,
    }),
    oldestRpcLedger: new Gauge({
      name: 'starling_indexer_rpc_oldest_ledger',
      help: 'Oldest ledger the RPC still retains',
      ...r,
    }),
    lastIngestedLedger: new Gauge({
      name: 'starling_indexer_last_ingested_ledger',
      help: 'Last ledger fully committed to Postgres',
      ...r,
    }),
    lagLedgers: new Gauge({
      name: 'starling_indexer_lag_ledgers',
      help: 'RPC latest ledger minus last ingested ledger',
      ...r,
    }),
    lagSeconds: new Gauge({
      name: 'starling_indexer_lag_seconds',
      help: 'Seconds between now and the close of the last ingested ledger',
      ...r,
    }),
    retentionHeadroom: new Gauge({
      name: 'starling_indexer_retention_headroom_ledgers',
      help: 'Ledgers between the cursor and the RPC oldest retained ledger (0 or less: history lost)',
      ...r,
    }),
    eventsIngested: new Counter({
      name: 'starling_indexer_events_ingested_total',
      help: 'Contract events committed (new rows only)',
      ...r,
    }),
    pagesCommitted: new Counter({
      name: 'starling_indexer_pages_committed_total',
      help: 'getEvents pages committed',
      ...r,
    }),
    pageCommitSeconds: new Histogram({
      name: 'starling_indexer_page_commit_seconds',
      help: 'Time to write one page (events, projections, intents, cursor) in one transaction',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      ...r,
    }),
    ledgerCommitLatency: new Histogram({
      name: 'starling_indexer_ledger_commit_latency_seconds',
      help: 'From a ledger close to its events committed in Postgres (live only)',
      buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30],
      ...r,
    }),
    intentsByStatus: new Gauge({
      name: 'starling_indexer_intents',
      help: 'Intents by status',
      labelNames: ['status'],
      ...r,
    }),
    submitLatency: new Histogram({
      name: 'starling_indexer_submit_latency_seconds',
      help: 'From claiming an intent to its transaction succeeding on chain',
      labelNames: ['kind'],
      buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 40, 80],
      ...r,
    }),
    submitted: new Counter({
      name: 'starling_indexer_submissions_total',
      help: 'Submission outcomes',
      labelNames: ['outcome'],
      ...r,
    }),
    rpcErrors: new Counter({
      name: 'starling_indexer_rpc_errors_total',
      help: 'RPC calls that failed',
      labelNames: ['method', 'kind'],
      ...r,
    }),
    rpcSeconds: new Histogram({
      name: 'starling_indexer_rpc_request_seconds',
      help: 'RPC call duration',
      labelNames: ['method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      ...r,
    }),
    leader: new Gauge({
      name: 'starling_indexer_leader',
      help: '1 while this process holds the indexer lock',
      ...r,
    }),
    status: new Gauge({
      name: 'starling_indexer_status',
      help: 'Current ingest status (one-hot)',
      labelNames: ['status'],
      ...r,
    }),
  };
}

export function setStatusGauge(m: Metrics, status: IndexerStatus): void {
  for (const s of STATUSES) m.status.set({ status: s }, s === status ? 1 : 0);
}

-- A bounded history of the indexer's status for the operators' lag chart (GET
-- /v1/ops/indexer/history): when the indexer writes its status it adds a sample, at most one every
-- 5 s, and drops samples older than 24 h, so the table stays under about 17 300 rows.
CREATE TABLE indexer_status_samples (
  sampled_at        timestamptz PRIMARY KEY DEFAULT now(),
  status            text NOT NULL,
  last_ledger       integer,
  latest_rpc_ledger integer,
  lag_ledgers       integer,
  lag_seconds       double precision,
  events_ingested   bigint NOT NULL
);

-- BST history is served from the raw token events in chain_events, not from a projection: the
-- bst_transfers rows duplicated what chain_events holds (decoded value, tx_hash, ledger, keyed by
-- event id) and cost the indexer's backfill a row and its index entries per token event.
-- A reward's reason is read from the same transaction's reward_minted event at query time.
DROP TABLE bst_transfers;

-- An address's mint/transfer/burn events newest first (GET /v1/me/rewards). Partial, so only the
-- events that move tokens get an entry: one for a mint or burn, two for a transfer. The query also
-- filters by the token contract (a heap check; chain_events holds only the configured contracts),
-- and writes its name lists as these literals, so the predicates match in any plan.
CREATE INDEX chain_events_to_idx ON chain_events ((value->>'to'), id DESC)
  WHERE name IN ('mint', 'transfer');
CREATE INDEX chain_events_from_idx ON chain_events ((value->>'from'), id DESC)
  WHERE name IN ('transfer', 'burn');

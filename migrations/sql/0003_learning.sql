-- Learning on chain: the intents the API writes and the indexer submits, certificates, the chain
-- projections the indexer fills (events, progress, BST), the indexer's status, and notifications.

-- One row per on-chain effect the platform wants. The API inserts it in the same transaction as the
-- business change; the indexer claims pending rows (FOR UPDATE SKIP LOCKED on intents_claim_idx),
-- stores the signed envelope and its hash before sending, and ingest marks it confirmed.
-- pending → submitting → submitted → confirmed, or → failed (operators may retry: back to pending).
-- superseded: a pending record_progress made pointless by a higher percent for the same learner and
-- course before anything was sent (the API sets it only while the row is still pending).
CREATE TABLE intents (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('record_progress', 'issue_certificate', 'mint_reward', 'revoke_certificate')),
  -- progress:<user>:<course>:<percent> | cert:<user>:<course> | referral:<referee> | revoke:<certificate>
  idempotency_key  text NOT NULL UNIQUE,
  -- The user the effect is for: the learner, or the referrer for a referral reward.
  user_id          uuid REFERENCES users(id),
  course_id        uuid REFERENCES courses(id),
  certificate_id   uuid,
  -- Contract-call arguments, chain-ready: addresses as strkeys, course_id as 32 hex chars (the
  -- course UUID's 16 bytes), hashes as 64 hex chars, i128 amounts as decimal strings.
  --   record_progress:    {student, course_id, percent}
  --   issue_certificate:  {student, course_id, metadata_hash, certificate_id}
  --   mint_reward:        {to, amount, reason, referee_id}
  --   revoke_certificate: {certificate_id, chain_certificate_id (null until issued on chain), reason}
  args             jsonb NOT NULL CHECK (jsonb_typeof(args) = 'object'),
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'submitting', 'submitted', 'confirmed', 'failed', 'superseded')),
  attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error       text,
  -- Lowercase hex of the transaction hash and the base64 XDR of the signed envelope, both stored
  -- before the transaction is sent so a restarted submitter resolves it instead of building another.
  tx_hash          text CHECK (tx_hash ~ '^[0-9a-f]{64}$'),
  tx_envelope      text,
  source_account   text CHECK (source_account ~ '^G[A-Z2-7]{55}$'),
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  submitted_at     timestamptz,
  confirmed_at     timestamptz,
  confirmed_ledger integer,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (status <> 'submitted' OR (tx_hash IS NOT NULL AND tx_envelope IS NOT NULL)),
  CHECK (status <> 'confirmed' OR confirmed_at IS NOT NULL)
);
CREATE INDEX intents_claim_idx ON intents (status, next_attempt_at);
CREATE INDEX intents_status_id_idx ON intents (status, id);
CREATE INDEX intents_user_course_idx ON intents (user_id, course_id);
CREATE INDEX intents_certificate_idx ON intents (certificate_id) WHERE certificate_id IS NOT NULL;
CREATE INDEX intents_tx_hash_idx ON intents (tx_hash) WHERE tx_hash IS NOT NULL;

-- One certificate per learner and course (the contract enforces the same). The document is frozen
-- at issue: document_canonical holds its RFC 8785 bytes, and the database checks the hash of them.
-- pending (API wrote it) → confirmed (ingest saw certificate_issued) → revoked. A revocation the
-- admin requested shows at once (revoked_at, revoke_reason); the revoke_* chain fields follow when
-- ingest sees certificate_revoked, and ingest never moves a revoked row back to confirmed.
CREATE TABLE certificates (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id              uuid NOT NULL REFERENCES users(id),
  course_id            uuid NOT NULL REFERENCES courses(id),
  -- The address the certificate is issued to on chain (the learner's address at issue time).
  student_address      text NOT NULL CHECK (student_address ~ '^G[A-Z2-7]{55}$'),
  document             jsonb NOT NULL,
  document_canonical   text NOT NULL,
  document_hash        text NOT NULL CHECK (document_hash = encode(sha256(convert_to(document_canonical, 'UTF8')), 'hex')),
  status               text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'revoked')),
  issued_at            timestamptz NOT NULL DEFAULT now(),
  -- Chain proof, written by ingest from the certificate_issued event.
  chain_certificate_id bigint CHECK (chain_certificate_id > 0),
  contract_id          text CHECK (contract_id ~ '^C[A-Z2-7]{55}$'),
  network              text,
  tx_hash              text CHECK (tx_hash ~ '^[0-9a-f]{64}$'),
  ledger               integer,
  ledger_closed_at     timestamptz,
  confirmed_at         timestamptz,
  revoked_at           timestamptz,
  revoke_reason        text CHECK (revoke_reason IS NULL OR length(revoke_reason) BETWEEN 1 AND 256),
  revoked_by           uuid REFERENCES users(id),
  revoke_tx_hash       text CHECK (revoke_tx_hash ~ '^[0-9a-f]{64}$'),
  revoke_ledger        integer,
  revoke_ledger_closed_at timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, course_id),
  UNIQUE (contract_id, chain_certificate_id),
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL)),
  CHECK (status <> 'confirmed' OR (chain_certificate_id IS NOT NULL AND tx_hash IS NOT NULL))
);
CREATE INDEX certificates_user_idx ON certificates (user_id, issued_at DESC);
CREATE INDEX certificates_student_idx ON certificates (student_address);
ALTER TABLE intents ADD CONSTRAINT intents_certificate_fk FOREIGN KEY (certificate_id) REFERENCES certificates(id);

-- Raw contract events, keyed by the RPC's event id (sortable, unique per event): replaying a page
-- changes nothing. Decoded topics/value as in contracts/vectors; the XDR kept for re-decoding.
CREATE TABLE chain_events (
  id               text PRIMARY KEY,
  ledger           integer NOT NULL,
  ledger_closed_at timestamptz NOT NULL,
  contract_id      text NOT NULL,
  tx_hash          text NOT NULL,
  name             text NOT NULL,
  topics           jsonb NOT NULL,
  value            jsonb NOT NULL,
  topics_xdr       text[] NOT NULL,
  value_xdr        text NOT NULL,
  ingested_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chain_events_ledger_idx ON chain_events (ledger);
CREATE INDEX chain_events_contract_name_idx ON chain_events (contract_id, name, ledger);
CREATE INDEX chain_events_tx_idx ON chain_events (tx_hash);

-- analytics.get_progress as seen through progress_recorded events.
CREATE TABLE onchain_progress (
  student_address text NOT NULL,
  -- The course UUID the 16 bytes encode; not a foreign key: the chain may name courses we never had.
  course_id       uuid NOT NULL,
  percent         integer NOT NULL CHECK (percent BETWEEN 0 AND 100),
  ledger          integer NOT NULL,
  event_id        text NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (student_address, course_id)
);

-- BST (7 decimals): balances, total supply and every mint/transfer/burn, in base units.
CREATE TABLE bst_balances (
  address    text PRIMARY KEY,
  balance    numeric(39, 0) NOT NULL CHECK (balance >= 0),
  ledger     integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bst_supply (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  total      numeric(39, 0) NOT NULL CHECK (total >= 0),
  ledger     integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bst_transfers (
  event_id         text PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('mint', 'transfer', 'burn')),
  from_address     text,
  to_address       text,
  amount           numeric(39, 0) NOT NULL CHECK (amount >= 0),
  -- The reward_minted reason (e.g. 'referral') for mints that are rewards.
  reason           text,
  ledger           integer NOT NULL,
  ledger_closed_at timestamptz NOT NULL,
  tx_hash          text NOT NULL,
  CHECK ((kind = 'mint') = (from_address IS NULL)),
  CHECK ((kind = 'burn') = (to_address IS NULL))
);
CREATE INDEX bst_transfers_to_idx ON bst_transfers (to_address, event_id DESC) WHERE to_address IS NOT NULL;
CREATE INDEX bst_transfers_from_idx ON bst_transfers (from_address, event_id DESC) WHERE from_address IS NOT NULL;

-- The indexer's view of itself, written by the active indexer and served by GET /v1/ops/indexer.
CREATE TABLE indexer_state (
  singleton             boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  network               text,
  -- Opaque getEvents paging cursor and the last ledger fully ingested.
  cursor                text,
  last_ledger           integer,
  last_ledger_closed_at timestamptz,
  latest_rpc_ledger     integer,
  oldest_rpc_ledger     integer,
  lag_ledgers           integer,
  lag_seconds           double precision,
  -- e.g. starting | catching_up | following | retention_gap | rpc_error | stopped
  status                text NOT NULL DEFAULT 'starting',
  status_detail         text,
  leader                text,
  events_ingested       bigint NOT NULL DEFAULT 0,
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- Rows first, pushes second: every insert is announced on 'starling_notifications' and each API
-- instance's LISTEN connection pushes it to the user's sockets. dedupe_key makes a writer that runs
-- twice (a replayed page, a retried completion) write one row.
CREATE TABLE notifications (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users(id),
  kind       text NOT NULL CHECK (kind ~ '^[a-z][a-z_]{1,39}$'),
  title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  body       text NOT NULL DEFAULT '' CHECK (length(body) <= 2000),
  data       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
  dedupe_key text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  read_at    timestamptz
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

CREATE FUNCTION notifications_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('starling_notifications', json_build_object('id', NEW.id, 'user_id', NEW.user_id)::text);
  RETURN NULL;
END $$;
CREATE TRIGGER notifications_announce AFTER INSERT ON notifications
  FOR EACH ROW EXECUTE FUNCTION notifications_announce();

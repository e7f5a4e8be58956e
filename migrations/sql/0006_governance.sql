-- Governance off chain: the full text of each proposal (the chain holds only its SHA-256, so
-- anyone can check the text against description_hash), and the transactions the API prepared
-- for wallet holders to sign, so the relay accepts back exactly what it handed out.

CREATE TABLE governance_descriptions (
  -- Lowercase hex SHA-256 of the UTF-8 body; the database refuses a body that does not hash to it.
  description_hash text PRIMARY KEY CHECK (description_hash ~ '^[0-9a-f]{64}$'),
  body             text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
  submitted_by     uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (encode(sha256(convert_to(body, 'UTF8')), 'hex') = description_hash)
);

CREATE TABLE governance_transactions (
  -- Hash of the prepared transaction (signatures do not change it): the relay looks it up.
  tx_hash        text PRIMARY KEY CHECK (tx_hash ~ '^[0-9a-f]{64}$'),
  user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  source_address text NOT NULL CHECK (source_address ~ '^G[A-Z2-7]{55}$'),
  action         text NOT NULL CHECK (action IN ('vote', 'propose', 'execute', 'delegate')),
  contract_id    text NOT NULL CHECK (contract_id ~ '^C[A-Z2-7]{55}$'),
  proposal_id    bigint,
  args           jsonb NOT NULL,
  -- prepared → submitted → success | failed; a prepared one past valid_until can no longer land.
  status         text NOT NULL DEFAULT 'prepared'
                 CHECK (status IN ('prepared', 'submitted', 'success', 'failed')),
  error          text,
  ledger         integer,
  valid_until    timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  submitted_at   timestamptz
);

CREATE INDEX governance_transactions_user ON governance_transactions (user_id, created_at DESC);

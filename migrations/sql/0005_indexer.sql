-- What the indexer needs beyond 0003: the chain's own view of certificates (every id the
-- contract issued, ours or not; what `rebuild` restores from ledger entries), governance
-- proposals and votes, and more of the indexer's status (network identity for reset
-- detection, retention headroom, rebuild marks).

ALTER TABLE indexer_state
  ADD COLUMN network_passphrase         text,
  ADD COLUMN start_ledger               integer,
  ADD COLUMN retention_headroom_ledgers integer,
  ADD COLUMN caught_up                  boolean NOT NULL DEFAULT false,
  ADD COLUMN last_error                 text,
  ADD COLUMN last_error_at              timestamptz,
  ADD COLUMN rpc_errors                 bigint NOT NULL DEFAULT 0,
  -- Set by `rebuild`: projections were restored from ledger entries at this ledger, and the
  -- events before it are not in chain_events.
  ADD COLUMN rebuilt_at                 timestamptz,
  ADD COLUMN rebuilt_ledger             integer;

-- certificate_issued / certificate_revoked as the contract holds them (CertificateRecord).
CREATE TABLE chain_certificates (
  contract_id     text NOT NULL,
  certificate_id  bigint NOT NULL CHECK (certificate_id > 0),
  student_address text NOT NULL,
  course_id       uuid NOT NULL,
  metadata_hash   text NOT NULL CHECK (metadata_hash ~ '^[0-9a-f]{64}$'),
  issuer          text NOT NULL,
  issued_ledger   integer NOT NULL,
  revoked         boolean NOT NULL DEFAULT false,
  revoked_ledger  integer,
  revoke_reason   text,
  revoked_by      text,
  PRIMARY KEY (contract_id, certificate_id)
);
CREATE INDEX chain_certificates_student_idx ON chain_certificates (student_address);

CREATE TABLE governance_proposals (
  contract_id      text NOT NULL,
  proposal_id      bigint NOT NULL,
  proposer         text NOT NULL,
  title            text NOT NULL,
  description_hash text NOT NULL,
  snapshot_ledger  integer NOT NULL,
  end_ledger       integer NOT NULL,
  votes_for        numeric(39, 0) NOT NULL DEFAULT 0,
  votes_against    numeric(39, 0) NOT NULL DEFAULT 0,
  executed         boolean NOT NULL DEFAULT false,
  executed_ledger  integer,
  created_ledger   integer NOT NULL,
  tx_hash          text NOT NULL,
  PRIMARY KEY (contract_id, proposal_id)
);

CREATE TABLE governance_votes (
  contract_id text NOT NULL,
  proposal_id bigint NOT NULL,
  voter       text NOT NULL,
  support     boolean NOT NULL,
  weight      numeric(39, 0) NOT NULL,
  ledger      integer NOT NULL,
  event_id    text NOT NULL,
  PRIMARY KEY (contract_id, proposal_id, voter)
);

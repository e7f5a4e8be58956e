-- Identity: users, credentials, sessions, MFA, wallets, API keys, KYC, idempotency and the audit log.

CREATE TYPE user_role AS ENUM ('learner', 'instructor', 'admin', 'operator');
CREATE TYPE kyc_status AS ENUM ('none', 'pending', 'verified', 'rejected');
CREATE TYPE wallet_kind AS ENUM ('custodial', 'external');

CREATE TABLE users (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Lower-cased by the API; NULL for wallet-only accounts.
  email           text UNIQUE CHECK (email IS NULL OR email = lower(email)),
  password_hash   text,
  display_name    text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 80),
  bio             text NOT NULL DEFAULT '' CHECK (length(bio) <= 2000),
  role            user_role NOT NULL DEFAULT 'learner',
  -- The address certificates and rewards are recorded for: the learner's own wallet or a custodial one.
  stellar_address text NOT NULL UNIQUE CHECK (stellar_address ~ '^G[A-Z2-7]{55}$'),
  wallet_kind     wallet_kind NOT NULL,
  referral_code   text NOT NULL UNIQUE,
  referred_by     uuid REFERENCES users(id),
  kyc_status      kyc_status NOT NULL DEFAULT 'none',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (email IS NOT NULL OR wallet_kind = 'external'),
  CHECK ((email IS NULL) = (password_hash IS NULL))
);
CREATE INDEX users_referred_by_idx ON users (referred_by) WHERE referred_by IS NOT NULL;

-- A custodial wallet's secret, AES-256-GCM under a versioned key with the owner's id as associated data.
-- Kept after the learner links a wallet of their own: what was recorded for it stays reachable.
CREATE TABLE custodial_wallets (
  user_id           uuid PRIMARY KEY REFERENCES users(id),
  public_key        text NOT NULL UNIQUE CHECK (public_key ~ '^G[A-Z2-7]{55}$'),
  secret_ciphertext text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  family_id   uuid NOT NULL,
  user_id     uuid NOT NULL REFERENCES users(id),
  token_hash  bytea NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz,
  revoked_reason text
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Access tokens are stateless; a logged-out one is refused by its jti until it would have expired.
CREATE TABLE revoked_access_tokens (
  jti        uuid PRIMARY KEY,
  expires_at timestamptz NOT NULL
);

CREATE TABLE mfa_totp (
  user_id           uuid PRIMARY KEY REFERENCES users(id),
  secret_ciphertext text NOT NULL,
  enabled_at        timestamptz,
  -- The highest time step accepted so far: a step is never accepted twice.
  last_used_step    bigint NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mfa_recovery_codes (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id    uuid NOT NULL REFERENCES users(id),
  code_hash  bytea NOT NULL UNIQUE,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mfa_recovery_codes_user_idx ON mfa_recovery_codes (user_id);

-- SEP-10 challenges the server issued; consumed at most once, atomically, across API replicas.
CREATE TABLE sep10_challenges (
  nonce        text PRIMARY KEY,
  account      text NOT NULL CHECK (account ~ '^G[A-Z2-7]{55}$'),
  purpose      text NOT NULL CHECK (purpose IN ('login', 'link')),
  user_id      uuid REFERENCES users(id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  consumed_at  timestamptz,
  CHECK ((purpose = 'link') = (user_id IS NOT NULL))
);

CREATE TABLE api_keys (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- The public part shown in listings and used to find the row; the secret is only hashed.
  prefix       text NOT NULL UNIQUE,
  key_hash     bytea NOT NULL,
  scopes       text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['read', 'write', 'operator']),
  created_by   uuid NOT NULL REFERENCES users(id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);

CREATE TABLE kyc_submissions (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users(id),
  status       kyc_status NOT NULL CHECK (status <> 'none'),
  provider     text NOT NULL,
  provider_ref text,
  full_name    text NOT NULL,
  country      text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
  document_type text NOT NULL,
  submitted_at timestamptz NOT NULL DEFAULT now(),
  reviewed_by  uuid REFERENCES users(id),
  reviewed_at  timestamptz,
  review_note  text
);
CREATE INDEX kyc_submissions_user_idx ON kyc_submissions (user_id, submitted_at DESC);
CREATE INDEX kyc_submissions_pending_idx ON kyc_submissions (submitted_at) WHERE status = 'pending';

-- Idempotency-Key records, scoped to the caller and the route; kept at least 24 h.
CREATE TABLE idempotency_keys (
  scope           text NOT NULL,
  route           text NOT NULL,
  key             text NOT NULL,
  request_hash    bytea NOT NULL,
  state           text NOT NULL CHECK (state IN ('in_flight', 'done')),
  response_status integer,
  response_body   text,
  response_type   text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, route, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Every state change, append-only: the database refuses UPDATE, DELETE and TRUNCATE.
CREATE TABLE audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor_type  text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system', 'anonymous')),
  actor_id    text,
  action      text NOT NULL,
  target_type text NOT NULL,
  target_id   text,
  request_id  text,
  data        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

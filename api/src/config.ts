// The only reader of process.env: validated with TypeBox at start-up and frozen.
import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';

const Csv = Type.String({ default: '' });

export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], {
    default: 'development',
  }),
  HOST: Type.String({ default: '127.0.0.1' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  LOG_LEVEL: Type.Union(
    [
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ],
    { default: 'info' },
  ),
  DATABASE_URL: Type.String({ minLength: 1 }),
  REDIS_URL: Type.String({ default: '' }),
  /** Browser origins allowed by CORS and the WebSocket handshake, comma-separated. */
  CORS_ORIGINS: Csv,
  PUBLIC_WEB_URL: Type.String({ default: 'http://localhost:5173' }),
  /** This API's public base URL, for links in credentials (never taken from the Host header). */
  PUBLIC_API_URL: Type.String({ default: 'http://localhost:3000' }),
  /**
   * Which proxies' X-Forwarded-For to believe: "" (none), "true" (any: only behind a proxy that
   * overwrites the header), or comma-separated addresses/CIDRs such as "127.0.0.1" for the site's server.
   */
  TRUST_PROXY: Type.String({ default: '' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1_048_576 }),

  JWT_SECRET: Type.String({ minLength: 32 }),
  JWT_ISSUER: Type.String({ default: 'starling' }),
  JWT_AUDIENCE: Type.String({ default: 'starling-api' }),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 30, default: 900 }),
  REFRESH_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, default: 30 * 24 * 3600 }),
  MFA_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 30, default: 300 }),
  /** Argon2id memory in KiB; OWASP's floor is 19 MiB. */
  ARGON2_MEMORY_KIB: Type.Integer({ minimum: 19_456, default: 19_456 }),

  /** Custodial wallet keys: "1:<base64 32 bytes>,2:<…>"; secrets are encrypted under WALLET_KEY_VERSION. */
  WALLET_KEYS: Type.String({ minLength: 1 }),
  WALLET_KEY_VERSION: Type.Integer({ minimum: 1, default: 1 }),

  STELLAR_NETWORK_PASSPHRASE: Type.String({ default: 'Standalone Network ; February 2017' }),
  STELLAR_RPC_URL: Type.String({ default: '' }),
  SEP10_SIGNING_SECRET: Type.String({ pattern: '^S[A-Z2-7]{55}$' }),
  SEP10_HOME_DOMAIN: Type.String({ default: 'localhost' }),
  SEP10_WEB_AUTH_DOMAIN: Type.String({ default: 'localhost' }),
  SEP10_CHALLENGE_TTL_SECONDS: Type.Integer({ minimum: 30, maximum: 900, default: 300 }),

  /** The network name the deployment manifest and the chain proofs carry (local, testnet, mainnet). */
  STELLAR_NETWORK: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$', default: 'local' }),
  /** The certificate contract (C…), shown in Open Badges; chain proofs carry the id ingest saw. */
  CERTIFICATE_CONTRACT_ID: Type.String({ pattern: '^(C[A-Z2-7]{55})?$', default: '' }),
  /** The governance contract and the BST token whose votes it counts (wallet holders vote through the API). */
  GOVERNANCE_CONTRACT_ID: Type.String({ pattern: '^(C[A-Z2-7]{55})?$', default: '' }),
  TOKEN_CONTRACT_ID: Type.String({ pattern: '^(C[A-Z2-7]{55})?$', default: '' }),

  /** How long each instance reuses a serialized public credential (0: never); revocations through it clear it. */
  CREDENTIAL_CACHE_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 5000 }),

  /** WebSocket caps: open sockets per user on one instance, and the largest client message. */
  WS_MAX_CONNECTIONS_PER_USER: Type.Integer({ minimum: 1, default: 5 }),
  WS_MAX_MESSAGE_BYTES: Type.Integer({ minimum: 64, default: 4096 }),

  RATE_LIMIT_AUTH_MAX: Type.Integer({ minimum: 1, default: 20 }),
  RATE_LIMIT_AUTH_WINDOW_MS: Type.Integer({ minimum: 1000, default: 60_000 }),
  /**
   * TOTP/recovery code attempts per account and route (sign-in's second step, enable, disable,
   * new recovery codes), whatever the IP: a per-IP limit alone lets many addresses guess one
   * account's codes (RFC 6238 §5.2).
   */
  MFA_ACCOUNT_ATTEMPTS_MAX: Type.Integer({ minimum: 1, default: 10 }),
  MFA_ACCOUNT_WINDOW_MS: Type.Integer({ minimum: 1000, default: 900_000 }),
});

export type RawConfig = Static<typeof ConfigSchema>;

export interface Config extends Omit<RawConfig, 'CORS_ORIGINS' | 'WALLET_KEYS' | 'TRUST_PROXY'> {
  CORS_ORIGINS: readonly string[];
  TRUST_PROXY: boolean | string[];
  WALLET_KEYS: ReadonlyMap<number, Buffer>;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseWalletKeys(raw: string): Map<number, Buffer> {
  const keys = new Map<number, Buffer>();
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [version, b64] = part.split(':');
    const key = Buffer.from(b64 ?? '', 'base64');
    if (!/^\d+$/.test(version ?? '') || key.length !== 32) {
      throw new ConfigError('WALLET_KEYS must be "<version>:<base64 of 32 bytes>", comma-separated');
    }
    keys.set(Number(version), key);
  }
  return keys;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<Config> {
  const known = Object.fromEntries(
    Object.keys(ConfigSchema.properties)
      .filter((k) => env[k] !== undefined && env[k] !== '')
      .map((k) => [k, env[k]]),
  );
  const value = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, known));
  if (!Value.Check(ConfigSchema, value)) {
    const problems = [...Value.Errors(ConfigSchema, value)].map(
      (e) => `${e.instancePath.slice(1) || e.keyword}: ${e.message}`,
    );
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const raw = value as RawConfig;
  const walletKeys = parseWalletKeys(raw.WALLET_KEYS);
  if (!walletKeys.has(raw.WALLET_KEY_VERSION)) {
    throw new ConfigError(`WALLET_KEYS has no key for WALLET_KEY_VERSION ${raw.WALLET_KEY_VERSION}`);
  }
  const trust = raw.TRUST_PROXY.trim();
  return Object.freeze({
    ...raw,
    TRUST_PROXY:
      trust === '' || trust === 'false'
        ? false
        : trust === 'true'
          ? true
          : trust
              .split(',')
              .map((a) => a.trim())
              .filter(Boolean),
    CORS_ORIGINS: Object.freeze(
      raw.CORS_ORIGINS.split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    ),
    WALLET_KEYS: walletKeys,
  });
}

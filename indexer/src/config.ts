// The only reader of process.env: validated with TypeBox at start-up and frozen. Contract ids
// come from the variables, else from the deployment manifest (contracts/deployments/<network>.json).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keypair, StrKey } from '@stellar/stellar-sdk';
import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import type { ContractKind } from './decode/spec.ts';
import { ConfigError } from './errors.ts';

const ContractId = Type.String({ pattern: '^(C[A-Z2-7]{55})?$', default: '' });

export const ConfigSchema = Type.Object({
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  DATABASE_URL: Type.String({ minLength: 1 }),
  STELLAR_RPC_URL: Type.String({ minLength: 1 }),
  /** The manifest name (local, testnet, mainnet). */
  STELLAR_NETWORK: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$', default: 'local' }),
  /** When set, the RPC's passphrase must equal it (a wrong or reset network stops the daemon). */
  STELLAR_NETWORK_PASSPHRASE: Type.String({ default: '' }),
  DEPLOYMENT_MANIFEST: Type.String({ default: '' }),
  ANALYTICS_CONTRACT_ID: ContractId,
  TOKEN_CONTRACT_ID: ContractId,
  CERTIFICATE_CONTRACT_ID: ContractId,
  GOVERNANCE_CONTRACT_ID: ContractId,
  /** The key that holds the contracts' recorder/issuer/minter roles and authorises calls. */
  PLATFORM_SECRET: Type.String({ pattern: '^(S[A-Z2-7]{55})?$', default: '' }),
  /** Channel accounts: transaction sources, comma-separated secrets; default the platform key. */
  CHANNEL_SECRETS: Type.String({ default: '' }),
  /** First ledger to ingest when no cursor exists yet; default the manifest's deploy ledger. */
  INDEXER_START_LEDGER: Type.Integer({ minimum: 0, default: 0 }),
  INDEXER_HTTP_HOST: Type.String({ default: '127.0.0.1' }),
  /** 0 picks a free port; -1 disables the HTTP server. */
  INDEXER_HTTP_PORT: Type.Integer({ minimum: -1, maximum: 65535, default: 9100 }),
  INDEXER_PAGE_LIMIT: Type.Integer({ minimum: 1, maximum: 10_000, default: 2000 }),
  /** After a page with at least this many events (catching up), pages are built on a worker thread. */
  INDEXER_PAGE_WORKER_MIN_EVENTS: Type.Integer({ minimum: 1, default: 300 }),
  /** Pause between polls once caught up. */
  INDEXER_POLL_MS: Type.Integer({ minimum: 10, default: 500 }),
  INDEXER_RPC_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 15_000 }),
  /** Lag (ledgers) under which the indexer counts as caught up for /readyz. */
  INDEXER_READY_LAG_LEDGERS: Type.Integer({ minimum: 0, default: 5 }),
  INDEXER_SUBMIT: Type.Boolean({ default: true }),
  INDEXER_INGEST: Type.Boolean({ default: true }),
  INDEXER_SUBMIT_POLL_MS: Type.Integer({ minimum: 10, default: 250 }),
  INDEXER_MAX_ATTEMPTS: Type.Integer({ minimum: 1, default: 8 }),
  /** Transaction validity window; a sent transaction that has not landed by then is dead. */
  INDEXER_TX_TIMEOUT_SECONDS: Type.Integer({ minimum: 5, default: 60 }),
  INDEXER_LOCK_KEY: Type.Integer({ default: 7_260_001 }),
  /** How often a standby tries to take the lock, and the leader checks it still holds it. */
  INDEXER_LOCK_POLL_MS: Type.Integer({ minimum: 50, default: 1000 }),
  INDEXER_ID: Type.String({ default: '' }),
  /** Tests only: `point=probability,…` where the process SIGKILLs itself (after_store, ingest_commit, …). */
  INDEXER_CRASH_AT: Type.String({ default: '' }),
});

export type RawConfig = Static<typeof ConfigSchema>;

export interface Config extends RawConfig {
  contracts: Readonly<Record<ContractKind, string>>;
  /** Source accounts (channel accounts), each with its own sequence number. */
  channels: readonly Keypair[];
  platform: Keypair | null;
  manifestLedger: number;
  instanceId: string;
  crashAt: ReadonlyMap<string, number>;
}

interface Manifest {
  ledger?: number;
  networkPassphrase?: string;
  platform?: { publicKey: string; secret?: string };
  contracts?: Partial<Record<ContractKind, { contractId: string }>>;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

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
  const manifestPath =
    raw.DEPLOYMENT_MANIFEST || join(repoRoot, 'contracts', 'deployments', `${raw.STELLAR_NETWORK}.json`);
  let manifest: Manifest = {};
  if (existsSync(manifestPath)) manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  else if (raw.DEPLOYMENT_MANIFEST)
    throw new ConfigError(`DEPLOYMENT_MANIFEST ${manifestPath} does not exist`);

  const pick = (kind: ContractKind, explicit: string): string =>
    explicit || manifest.contracts?.[kind]?.contractId || '';
  const contracts = Object.freeze({
    analytics: pick('analytics', raw.ANALYTICS_CONTRACT_ID),
    token: pick('token', raw.TOKEN_CONTRACT_ID),
    certificate: pick('certificate', raw.CERTIFICATE_CONTRACT_ID),
    governance: pick('governance', raw.GOVERNANCE_CONTRACT_ID),
  });
  for (const [k, id] of Object.entries(contracts)) {
    if (id && !StrKey.isValidContract(id))
      throw new ConfigError(`${k} contract id ${id} is not a C… address`);
  }
  if (!Object.values(contracts).some(Boolean)) {
    throw new ConfigError(`no contract ids: set *_CONTRACT_ID or deploy to write ${manifestPath}`);
  }
  const secret = raw.PLATFORM_SECRET || manifest.platform?.secret || '';
  const platform = secret ? Keypair.fromSecret(secret) : null;
  const channelSecrets = raw.CHANNEL_SECRETS.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of channelSecrets)
    if (!StrKey.isValidEd25519SecretSeed(s))
      throw new ConfigError('CHANNEL_SECRETS must be S… secrets, comma-separated');
  const channels =
    channelSecrets.length > 0 ? channelSecrets.map((s) => Keypair.fromSecret(s)) : platform ? [platform] : [];
  return Object.freeze({
    ...raw,
    STELLAR_NETWORK_PASSPHRASE: raw.STELLAR_NETWORK_PASSPHRASE || manifest.networkPassphrase || '',
    contracts,
    channels: Object.freeze(channels),
    platform,
    manifestLedger: manifest.ledger ?? 0,
    instanceId: raw.INDEXER_ID || `${process.pid}@${Date.now().toString(36)}`,
    crashAt: new Map(
      raw.INDEXER_CRASH_AT.split(',')
        .map((p) => p.trim())
        .filter(Boolean)
        .map((p) => [p.split('=')[0]!, Number(p.split('=')[1] ?? '1')] as const),
    ),
  });
}

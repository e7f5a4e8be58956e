// The start command's chain half: builds and starts the local chain (state kept in .starling/),
// deploys the contracts once (contracts/deployments/local.json, reused while the chain still
// has them), then runs the indexer against both. "When possible": without a Rust toolchain the
// rest of the system still starts, and this says why the chain did not.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Address, xdr } from '@stellar/stellar-sdk';
import { startLocalnet, type Localnet } from '../localnet/localnet.ts';
import { deploy, type Manifest } from '../deploy/deploy.ts';

export interface LocalChain {
  localnet: Localnet;
  manifest: Manifest;
  manifestPath: string;
  /** Environment for the API and the indexer. */
  env: Record<string, string>;
}

function buildOrNull(root: string, script: string, log: (l: string) => void): string | null {
  const r = spawnSync('bash', [join(root, 'ops/scripts', script)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) {
    log(
      `chain                  not started: ops/scripts/${script} failed (${(r.stderr || '').trim().split('\n').pop() ?? ''})`,
    );
    return null;
  }
  return r.stdout.trim().split('\n').pop() ?? '';
}

async function contractsLive(url: string, m: Manifest): Promise<boolean> {
  const key = xdr.LedgerKey.contractData(
    new xdr.LedgerKeyContractData({
      contract: Address.fromString(m.contracts.certificate.contractId).toScAddress(),
      key: xdr.ScVal.scvLedgerKeyContractInstance(),
      durability: xdr.ContractDataDurability.persistent,
    }),
  ).toXDR('base64');
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getLedgerEntries', params: { keys: [key] } }),
  });
  const body = (await res.json()) as { result?: { entries?: unknown[] } };
  return (body.result?.entries?.length ?? 0) > 0;
}

export async function startLocalChain(
  root: string,
  stateDir: string,
  log: (l: string) => void,
): Promise<LocalChain | null> {
  try {
    return await startOrThrow(root, stateDir, log);
  } catch (e) {
    log(`chain                  not started: ${(e as Error).message}`);
    return null;
  }
}

async function startOrThrow(
  root: string,
  stateDir: string,
  log: (l: string) => void,
): Promise<LocalChain | null> {
  const bin =
    process.env.LOCALNET_BIN && existsSync(process.env.LOCALNET_BIN)
      ? process.env.LOCALNET_BIN
      : buildOrNull(root, 'build-localnet.sh', log);
  if (!bin) return null;
  const wasmDir = join(root, 'contracts/build');
  const names = ['analytics', 'token', 'certificate', 'governance'];
  if (!names.every((n) => existsSync(join(wasmDir, `${n}.wasm`)))) {
    log('building contract Wasm (ops/scripts/build-wasm.sh)…');
    if (buildOrNull(root, 'build-wasm.sh', log) === null) return null;
  }
  const localnet = await startLocalnet(bin, {
    ledgerIntervalMs: Number(process.env.LOCALNET_LEDGER_INTERVAL_MS ?? 1000),
    stateFile: join(stateDir, 'localnet.state'),
  });
  const manifestPath = join(root, 'contracts/deployments/local.json');
  let manifest: Manifest | null = null;
  if (existsSync(manifestPath)) {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    if (m.platform.secret && (await contractsLive(localnet.url, m).catch(() => false))) manifest = m;
  }
  if (!manifest) {
    log('deploying contracts to the local chain…');
    manifest = await deploy({
      rpcUrl: localnet.url,
      network: 'local',
      wasmDir,
      out: manifestPath,
      fund: true,
      log: () => undefined,
    });
  }
  return {
    localnet,
    manifest,
    manifestPath,
    env: {
      STELLAR_RPC_URL: localnet.url,
      STELLAR_NETWORK: 'local',
      STELLAR_NETWORK_PASSPHRASE: manifest.networkPassphrase,
      CERTIFICATE_CONTRACT_ID: manifest.contracts.certificate.contractId,
      GOVERNANCE_CONTRACT_ID: manifest.contracts.governance.contractId,
      TOKEN_CONTRACT_ID: manifest.contracts.token.contractId,
    },
  };
}

/** The indexer's environment for `starling-indexer run` against the local chain. */
export function indexerEnv(chain: LocalChain, databaseUrl: string, port: string): Record<string, string> {
  return {
    ...chain.env,
    DATABASE_URL: databaseUrl,
    DEPLOYMENT_MANIFEST: chain.manifestPath,
    PLATFORM_SECRET: chain.manifest.platform.secret ?? '',
    INDEXER_HTTP_PORT: port,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
}

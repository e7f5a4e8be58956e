// The start command's chain half: builds and starts the local chain (state kept in .starling/),
// deploys the contracts once (contracts/deployments/local.json, reused while the chain still
// has them), then runs the indexer against both. The README promises the chain, so a chain that
// cannot be built or started stops the start command with the reason (STELLAR_RPC_URL skips it).
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

/** Runs an ops/scripts build script and returns the last line it prints (a path), or throws. */
function build(root: string, script: string): string {
  const r = spawnSync('bash', [join(root, 'ops/scripts', script)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) {
    const tail = (r.stderr || '').trim().split('\n').slice(-5).join('\n');
    throw new Error(`ops/scripts/${script} failed (exit ${r.status ?? r.signal}):\n${tail}`);
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

/** Builds (when needed) and starts the local chain and deploys the contracts; throws why not. */
export async function startLocalChain(
  root: string,
  stateDir: string,
  log: (l: string) => void,
): Promise<LocalChain> {
  try {
    return await startOrThrow(root, stateDir, log);
  } catch (e) {
    throw new Error(
      `the local chain could not be started: ${(e as Error).message}\n` +
        '(install a Rust toolchain, or set STELLAR_RPC_URL to use another network)',
    );
  }
}

async function startOrThrow(root: string, stateDir: string, log: (l: string) => void): Promise<LocalChain> {
  // Wasm first: build-wasm.sh can install a Rust toolchain on a fresh machine, which the
  // chain's own build then needs.
  const wasmDir = join(root, 'contracts/build');
  const names = ['analytics', 'token', 'certificate', 'governance'];
  if (!names.every((n) => existsSync(join(wasmDir, `${n}.wasm`)))) {
    log('building contract Wasm (ops/scripts/build-wasm.sh)…');
    build(root, 'build-wasm.sh');
  }
  let bin = process.env.LOCALNET_BIN;
  if (!bin || !existsSync(bin)) {
    log('building the local chain (ops/scripts/build-localnet.sh)…');
    bin = build(root, 'build-localnet.sh');
  }
  if (!existsSync(bin)) throw new Error(`ops/scripts/build-localnet.sh printed no binary (${bin})`);
  const localnet = await startLocalnet(bin, {
    ledgerIntervalMs: Number(process.env.LOCALNET_LEDGER_INTERVAL_MS ?? 1000),
    stateFile: join(stateDir, 'localnet.state'),
  });
  try {
    return await deployOnce(root, localnet, wasmDir, log);
  } catch (e) {
    await localnet.stop();
    throw e;
  }
}

/** Deploys the contracts unless contracts/deployments/local.json names live ones. */
async function deployOnce(
  root: string,
  localnet: Localnet,
  wasmDir: string,
  log: (l: string) => void,
): Promise<LocalChain> {
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

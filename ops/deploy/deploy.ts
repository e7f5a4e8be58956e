// Deploys Starling's contracts to any Stellar network: uploads each Wasm, creates and
// initialises the contracts (the platform key is admin, recorder, issuer and minter) and writes
// contracts/deployments/<network>.json.
//
//   node ops/deploy/deploy.ts --rpc-url http://127.0.0.1:8000 --network local [--fund]
//   STELLAR_RPC_URL=https://soroban-testnet.stellar.org PLATFORM_SECRET=S… node ops/deploy/deploy.ts --network testnet
//
// Flags win over environment: --rpc-url (STELLAR_RPC_URL), --secret (PLATFORM_SECRET),
// --network (STELLAR_NETWORK, the manifest name), --wasm-dir (default contracts/build),
// --out (default contracts/deployments/<network>.json), --fund (friendbot when the key is new).
// Without a secret, a new key is made and funded through friendbot, and its secret is written
// to the manifest only for local networks.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Address,
  Keypair,
  Operation,
  TransactionBuilder,
  contract,
  hash,
  rpc,
  scValToNative,
  xdr,
} from '@stellar/stellar-sdk';

export const CONTRACTS = ['analytics', 'token', 'certificate', 'governance'] as const;
export type ContractName = (typeof CONTRACTS)[number];

export interface DeployOptions {
  rpcUrl: string;
  network: string;
  secret?: string;
  wasmDir: string;
  out?: string;
  fund?: boolean;
  log?: (line: string) => void;
}

export interface DeployedContract {
  contractId: string;
  wasmHash: string;
}

export interface Manifest {
  network: string;
  networkPassphrase: string;
  rpcUrl: string;
  deployedAt: string;
  ledger: number;
  platform: { publicKey: string; secret?: string };
  contracts: Record<ContractName, DeployedContract>;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Signs, sends and waits for one transaction; returns its return value (if any). */
async function submit(
  server: rpc.Server,
  kp: Keypair,
  passphrase: string,
  op: xdr.Operation,
): Promise<xdr.ScVal | undefined> {
  const account = await server.getAccount(kp.publicKey());
  const draft = new TransactionBuilder(account, { fee: '100', networkPassphrase: passphrase })
    .addOperation(op)
    .setTimeout(60)
    .build();
  const tx = await server.prepareTransaction(draft);
  tx.sign(kp);
  const sent = await server.sendTransaction(tx);
  if (sent.status !== 'PENDING') {
    throw new Error(`sendTransaction ${sent.status}: ${sent.errorResult?.toXDR('base64') ?? ''}`);
  }
  const done = await server.pollTransaction(sent.hash, { attempts: 60 });
  if (done.status !== 'SUCCESS') {
    throw new Error(`transaction ${sent.hash} ${done.status}`);
  }
  return done.returnValue;
}

async function ensureFunded(server: rpc.Server, kp: Keypair, allowFriendbot: boolean): Promise<void> {
  try {
    await server.getAccount(kp.publicKey());
  } catch {
    if (!allowFriendbot) throw new Error(`account ${kp.publicKey()} does not exist; fund it or pass --fund`);
    const { friendbotUrl } = await server.getNetwork();
    if (!friendbotUrl) throw new Error('this network has no friendbot; fund the platform key first');
    const res = await fetch(`${friendbotUrl}?addr=${encodeURIComponent(kp.publicKey())}`, { method: 'POST' });
    if (!res.ok) throw new Error(`friendbot: HTTP ${res.status} ${await res.text()}`);
  }
}

async function uploadWasm(
  server: rpc.Server,
  kp: Keypair,
  passphrase: string,
  wasm: Buffer,
): Promise<Buffer> {
  const wasmHash = Buffer.from(hash(wasm));
  const key = xdr.LedgerKey.contractCode(new xdr.LedgerKeyContractCode({ hash: wasmHash }));
  const existing = await server.getLedgerEntries(key);
  const entry = existing.entries[0];
  if (entry && (entry.liveUntilLedgerSeq ?? 1) > 0) return wasmHash;
  const rv = await submit(server, kp, passphrase, Operation.uploadContractWasm({ wasm }));
  return Buffer.from(scValToNative(rv!) as Uint8Array);
}

function client(
  contractId: string,
  opts: { rpcUrl: string; passphrase: string; kp: Keypair },
): Promise<contract.Client> {
  return contract.Client.from({
    contractId,
    rpcUrl: opts.rpcUrl,
    allowHttp: opts.rpcUrl.startsWith('http://'),
    networkPassphrase: opts.passphrase,
    publicKey: opts.kp.publicKey(),
    signTransaction: contract.basicNodeSigner(opts.kp, opts.passphrase).signTransaction,
  });
}

/** Calls a state-changing contract method and waits for it to land. */
export async function call(
  c: contract.Client,
  method: string,
  args: Record<string, unknown>,
): Promise<unknown> {
  const fn = (
    c as unknown as Record<
      string,
      (a: Record<string, unknown>) => Promise<contract.AssembledTransaction<unknown>>
    >
  )[method];
  if (typeof fn !== 'function') throw new Error(`contract has no method ${method}`);
  const tx = await fn.call(c, args);
  if (tx.isReadCall) return tx.result;
  const sent = await tx.signAndSend();
  return sent.result;
}

export async function deploy(opts: DeployOptions): Promise<Manifest> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const server = new rpc.Server(opts.rpcUrl, { allowHttp: opts.rpcUrl.startsWith('http://') });
  const { passphrase } = await server.getNetwork();
  const generated = !opts.secret;
  const kp = opts.secret ? Keypair.fromSecret(opts.secret) : Keypair.random();
  await ensureFunded(server, kp, opts.fund || generated);
  log(`platform key ${kp.publicKey()} on "${passphrase}"`);
  const me = new Address(kp.publicKey());
  const ctx = { rpcUrl: opts.rpcUrl, passphrase, kp };
  const deployed = {} as Record<ContractName, DeployedContract>;

  for (const name of CONTRACTS) {
    const wasm = readFileSync(join(opts.wasmDir, `${name}.wasm`));
    const wasmHash = await uploadWasm(server, kp, passphrase, wasm);
    const spec = await contract.Spec.fromWasm(wasm);
    const ctorArgs =
      name === 'governance'
        ? spec.funcArgsToScVals('__constructor', {
            config: {
              token: deployed.token.contractId,
              quorum_bps: 1000,
              majority_bps: 5001,
              min_voting_period: 10,
              max_voting_period: 100_000,
              proposal_threshold: 0n,
            },
          })
        : spec.funcArgsToScVals('__constructor', { admin: kp.publicKey() });
    const rv = await submit(
      server,
      kp,
      passphrase,
      Operation.createCustomContract({
        address: me,
        wasmHash,
        salt: hash(Buffer.from(`starling:${name}:${Date.now()}:${Math.random()}`)),
        constructorArgs: ctorArgs,
      }),
    );
    const contractId = Address.fromScVal(rv!).toString();
    deployed[name] = { contractId, wasmHash: wasmHash.toString('hex') };
    log(`${name}: ${contractId}`);
  }

  const roles: [ContractName, string][] = [
    ['analytics', 'recorder'],
    ['certificate', 'issuer'],
    ['token', 'minter'],
  ];
  for (const [name, role] of roles) {
    const c = await client(deployed[name].contractId, ctx);
    await call(c, 'grant_role', { account: kp.publicKey(), role, caller: kp.publicKey() });
    log(`${name}: granted ${role}`);
  }

  const latest = await server.getLatestLedger();
  const local =
    opts.network === 'local' || opts.rpcUrl.includes('127.0.0.1') || opts.rpcUrl.includes('localhost');
  const manifest: Manifest = {
    network: opts.network,
    networkPassphrase: passphrase,
    rpcUrl: opts.rpcUrl,
    deployedAt: new Date().toISOString(),
    ledger: latest.sequence,
    platform: { publicKey: kp.publicKey(), ...(generated && local ? { secret: kp.secret() } : {}) },
    contracts: deployed,
  };
  const out = opts.out ?? join(repoRoot, 'contracts', 'deployments', `${opts.network}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(manifest, null, 2)}\n`);
  log(`wrote ${out}`);
  return manifest;
}

function parseArgs(argv: string[]): DeployOptions {
  const flags = new Map<string, string>();
  const bools = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--fund') bools.add('fund');
    else if (a.startsWith('--') && a.includes('='))
      flags.set(a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1));
    else if (a.startsWith('--')) flags.set(a.slice(2), argv[++i] ?? '');
    else throw new Error(`unexpected argument ${a}`);
  }
  const rpcUrl = flags.get('rpc-url') ?? process.env.STELLAR_RPC_URL;
  if (!rpcUrl) throw new Error('--rpc-url or STELLAR_RPC_URL is required');
  return {
    rpcUrl,
    network: flags.get('network') ?? process.env.STELLAR_NETWORK ?? 'local',
    secret: flags.get('secret') ?? process.env.PLATFORM_SECRET,
    wasmDir: flags.get('wasm-dir') ?? join(repoRoot, 'contracts', 'build'),
    out: flags.get('out'),
    fund: bools.has('fund'),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  deploy(parseArgs(process.argv.slice(2))).then(
    (m) => console.log(JSON.stringify(m.contracts)),
    (e: unknown) => {
      console.error(`deploy failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}

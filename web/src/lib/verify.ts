// The browser-side check of a certificate, step by step: recompute the document's hash, read the
// certificate contract's record straight from a Stellar RPC, compare, and check revocation.
// Pure functions plus one RPC reader with an injectable fetch (unit-tested against fixtures).
import { contractDataKey, decodeContractData, toHex, type ScValue } from './stellar/xdr.ts';

export interface OnChainCertificate {
  id: string;
  student: string;
  courseIdHex: string;
  metadataHashHex: string;
  issuer: string;
  issuedLedger: number;
  revoked: boolean;
  revokedLedger: number | null;
  revokeReason: string | null;
}

const addr = (v: ScValue | undefined): string =>
  v && typeof v === 'object' && 'address' in v ? String(v.address) : '';
const hex = (v: ScValue | undefined): string => (v instanceof Uint8Array ? toHex(v) : '');
const num = (v: ScValue | undefined): number | null =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null;

/** Reads CertificateRecord in either layout the contract has had (nested `revocation` or flat fields). */
export function parseCertificateRecord(val: ScValue): OnChainCertificate {
  if (
    !val ||
    typeof val !== 'object' ||
    Array.isArray(val) ||
    val instanceof Uint8Array ||
    'address' in val
  ) {
    throw new Error('the entry is not a certificate record');
  }
  const m = val as Record<string, ScValue>;
  const nested =
    m.revocation && typeof m.revocation === 'object' && !Array.isArray(m.revocation)
      ? (m.revocation as Record<string, ScValue>)
      : null;
  const reason = nested ? nested.reason : m.revoke_reason;
  return {
    id: String(m.id ?? ''),
    student: addr(m.student),
    courseIdHex: hex(m.course_id),
    metadataHashHex: hex(m.metadata_hash),
    issuer: addr(m.issuer),
    issuedLedger: num(m.issued_ledger) ?? 0,
    revoked: m.revoked === true,
    revokedLedger: num(nested ? nested.ledger : m.revoked_ledger),
    revokeReason: typeof reason === 'string' ? reason : null,
  };
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return toHex(new Uint8Array(digest));
}

type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

async function rpc<T>(url: string, method: string, params: unknown, f: FetchLike): Promise<T> {
  const res = await f(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  if (!res.ok) throw new Error(`the RPC answered HTTP ${res.status}`);
  const body = (await res.json()) as { result?: T; error?: { message?: string } };
  if (body.error) throw new Error(`the RPC refused ${method}: ${body.error.message ?? 'error'}`);
  if (body.result === undefined) throw new Error(`the RPC sent no result for ${method}`);
  return body.result;
}

export interface ChainRead {
  record: OnChainCertificate | null;
  latestLedger: number;
  lastModifiedLedger: number | null;
  networkPassphrase: string;
}

/** The certificate contract's `Certificate(id)` persistent entry, read from the RPC directly. */
export async function readCertificate(
  rpcUrl: string,
  contractId: string,
  chainId: string,
  f: FetchLike = fetch,
): Promise<ChainRead> {
  const key = contractDataKey(contractId, [{ symbol: 'Certificate' }, { u64: BigInt(chainId) }]);
  const [network, entries] = await Promise.all([
    rpc<{ passphrase: string }>(rpcUrl, 'getNetwork', {}, f),
    rpc<{ entries?: { xdr: string; lastModifiedLedgerSeq?: number }[] | null; latestLedger: number }>(
      rpcUrl,
      'getLedgerEntries',
      { keys: [key] },
      f,
    ),
  ]);
  const entry = entries.entries?.[0];
  return {
    record: entry ? parseCertificateRecord(decodeContractData(entry.xdr).val) : null,
    latestLedger: entries.latestLedger,
    lastModifiedLedger: entry?.lastModifiedLedgerSeq ?? null,
    networkPassphrase: network.passphrase,
  };
}

export const PASSPHRASES: Record<string, string> = {
  mainnet: 'Public Global Stellar Network ; September 2015',
  public: 'Public Global Stellar Network ; September 2015',
  testnet: 'Test SDF Network ; September 2015',
  futurenet: 'Test SDF Future Network ; October 2022',
  local: 'Standalone Network ; February 2017',
};

export interface Expected {
  documentHash: string;
  learnerAddress: string;
  courseId: string;
  network: string;
}

export interface Finding {
  ok: boolean;
  label: string;
  detail: string;
}

/** Compares what the chain holds with what the document and the issuer claim. */
export function compareRecord(computedHash: string, read: ChainRead, expected: Expected): Finding[] {
  const r = read.record;
  if (!r)
    return [
      { ok: false, label: 'Record on chain', detail: 'The certificate contract has no record with this id.' },
    ];
  const wantPassphrase = PASSPHRASES[expected.network];
  return [
    {
      ok: !wantPassphrase || wantPassphrase === read.networkPassphrase,
      label: 'Network',
      detail: `The RPC serves “${read.networkPassphrase}”${wantPassphrase && wantPassphrase !== read.networkPassphrase ? `, not ${expected.network}` : ''}.`,
    },
    {
      ok: r.metadataHashHex === computedHash,
      label: 'Document hash',
      detail:
        r.metadataHashHex === computedHash
          ? 'The hash on chain equals the hash computed in your browser.'
          : `The chain holds ${r.metadataHashHex}, the document hashes to ${computedHash}.`,
    },
    {
      ok: r.student === expected.learnerAddress,
      label: 'Learner',
      detail:
        r.student === expected.learnerAddress
          ? `Issued to ${r.student}.`
          : `Issued to ${r.student}, not ${expected.learnerAddress}.`,
    },
    {
      ok: r.courseIdHex === expected.courseId.replace(/-/g, '').toLowerCase(),
      label: 'Course',
      detail: 'The course id on chain matches the document.',
    },
  ];
}

/** The canonical document must be this certificate's (a document of another one would hash fine). */
export function documentIsFor(canonical: string, id: string): boolean {
  try {
    return (JSON.parse(canonical) as { id?: unknown }).id === id;
  } catch {
    return false;
  }
}

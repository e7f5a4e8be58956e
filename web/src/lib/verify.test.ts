import { createHash } from 'node:crypto';
import { Address, Keypair, StrKey, xdr, nativeToScVal } from '@stellar/stellar-sdk';
import { describe, expect, it } from 'vitest';
import {
  PASSPHRASES,
  compareRecord,
  documentIsFor,
  parseCertificateRecord,
  readCertificate,
  sha256Hex,
} from './verify.ts';
import { decodeContractData } from './stellar/xdr.ts';

const contract = StrKey.encodeContract(Buffer.alloc(32, 3));
const student = Keypair.random().publicKey();
const issuer = Keypair.random().publicKey();
const courseId = '0f8fad5b-d9cb-469f-a165-70867728950e';
const canonical = '{"course":{"title":"Stellar"},"id":"c1","learner":{"name":"Ada"}}';
const hash = createHash('sha256').update(canonical).digest();

function entry(fields: Record<string, xdr.ScVal>): string {
  const val = xdr.ScVal.scvMap(
    Object.keys(fields)
      .sort()
      .map((k) => new xdr.ScMapEntry({ key: xdr.ScVal.scvSymbol(k), val: fields[k]! })),
  );
  return xdr.LedgerEntryData.contractData(
    new xdr.ContractDataEntry({
      ext: xdr.ExtensionPoint.v0(),
      contract: new Address(contract).toScAddress(),
      key: xdr.ScVal.scvVec([xdr.ScVal.scvSymbol('Certificate'), nativeToScVal(7n, { type: 'u64' })]),
      durability: xdr.ContractDataDurability.persistent,
      val,
    }),
  ).toXDR('base64');
}

const base = {
  id: nativeToScVal(7n, { type: 'u64' }),
  student: new Address(student).toScVal(),
  course_id: xdr.ScVal.scvBytes(Buffer.from(courseId.replace(/-/g, ''), 'hex')),
  metadata_hash: xdr.ScVal.scvBytes(hash),
  issuer: new Address(issuer).toScVal(),
  issued_ledger: xdr.ScVal.scvU32(99),
  revoked: xdr.ScVal.scvBool(false),
};
const flat = entry({
  ...base,
  revoked_ledger: xdr.ScVal.scvVoid(),
  revoked_by: xdr.ScVal.scvVoid(),
  revoke_reason: xdr.ScVal.scvVoid(),
});

function fakeRpc(entries: { xdr: string }[] | null, passphrase = PASSPHRASES.local!) {
  const calls: string[] = [];
  const f = async (_url: string, init: RequestInit) => {
    const body = JSON.parse(String(init.body)) as { method: string; params: { keys?: string[] } };
    calls.push(body.method);
    const result = body.method === 'getNetwork' ? { passphrase } : { entries, latestLedger: 120 };
    return new Response(JSON.stringify({ jsonrpc: '2.0', id: 1, result }));
  };
  return { f, calls };
}

describe('certificate record', () => {
  it('reads the flat layout (revoked_ledger / revoke_reason)', () => {
    const r = parseCertificateRecord(decodeContractData(flat).val);
    expect(r).toMatchObject({
      id: '7',
      student,
      issuer,
      issuedLedger: 99,
      revoked: false,
      revokedLedger: null,
      revokeReason: null,
    });
    expect(r.metadataHashHex).toBe(hash.toString('hex'));
  });

  it('reads the nested layout (revocation: {ledger, reason})', () => {
    const nested = entry({
      ...base,
      revoked: xdr.ScVal.scvBool(true),
      revocation: xdr.ScVal.scvMap([
        new xdr.ScMapEntry({ key: xdr.ScVal.scvSymbol('issuer'), val: new Address(issuer).toScVal() }),
        new xdr.ScMapEntry({ key: xdr.ScVal.scvSymbol('ledger'), val: xdr.ScVal.scvU32(150) }),
        new xdr.ScMapEntry({ key: xdr.ScVal.scvSymbol('reason'), val: xdr.ScVal.scvString('copied work') }),
      ]),
    });
    expect(parseCertificateRecord(decodeContractData(nested).val)).toMatchObject({
      revoked: true,
      revokedLedger: 150,
      revokeReason: 'copied work',
    });
  });
});

describe('the browser check', () => {
  it('hashes the canonical document with Web Crypto', async () => {
    expect(await sha256Hex(canonical)).toBe(hash.toString('hex'));
    expect(documentIsFor(canonical, 'c1')).toBe(true);
    expect(documentIsFor(canonical, 'c2')).toBe(false);
  });

  it('reads the record through getLedgerEntries and agrees when everything matches', async () => {
    const { f, calls } = fakeRpc([{ xdr: flat }]);
    const read = await readCertificate('http://rpc', contract, '7', f);
    expect(calls.sort()).toEqual(['getLedgerEntries', 'getNetwork']);
    const findings = compareRecord(hash.toString('hex'), read, {
      documentHash: hash.toString('hex'),
      learnerAddress: student,
      courseId,
      network: 'local',
    });
    expect(findings.every((x) => x.ok)).toBe(true);
  });

  it('flags a different hash, learner or network', async () => {
    const read = await readCertificate(
      'http://rpc',
      contract,
      '7',
      fakeRpc([{ xdr: flat }], PASSPHRASES.testnet).f,
    );
    const findings = compareRecord('00'.repeat(32), read, {
      documentHash: '00'.repeat(32),
      learnerAddress: Keypair.random().publicKey(),
      courseId,
      network: 'local',
    });
    expect(
      findings
        .filter((x) => !x.ok)
        .map((x) => x.label)
        .sort(),
    ).toEqual(['Document hash', 'Learner', 'Network']);
  });

  it('reports a missing record', async () => {
    const read = await readCertificate('http://rpc', contract, '8', fakeRpc([]).f);
    expect(read.record).toBeNull();
    expect(
      compareRecord('x', read, { documentHash: 'x', learnerAddress: student, courseId, network: 'local' })[0]!
        .ok,
    ).toBe(false);
  });

  it('surfaces RPC errors', async () => {
    const f = async () =>
      new Response(JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32600, message: 'bad key' } }));
    await expect(readCertificate('http://rpc', contract, '7', f)).rejects.toThrow(/bad key/);
  });
});

import { Address, Keypair, StrKey, xdr, nativeToScVal } from '@stellar/stellar-sdk';
import { describe, expect, it } from 'vitest';
import { VERSION_ACCOUNT, VERSION_CONTRACT, decodeStrkey, encodeStrkey } from './strkey.ts';
import { contractDataKey, decodeContractData, toBase64 } from './xdr.ts';

const contract = StrKey.encodeContract(Buffer.alloc(32, 7));

describe('strkeys', () => {
  it('round-trips accounts and contracts the way the SDK does', () => {
    const kp = Keypair.random();
    const raw = decodeStrkey(VERSION_ACCOUNT, kp.publicKey());
    expect(Buffer.from(raw).equals(kp.rawPublicKey())).toBe(true);
    expect(encodeStrkey(VERSION_ACCOUNT, raw)).toBe(kp.publicKey());
    expect(encodeStrkey(VERSION_CONTRACT, new Uint8Array(32).fill(7))).toBe(contract);
  });

  it('refuses a key with a wrong checksum or version', () => {
    const g = Keypair.random().publicKey();
    const bad = g.slice(0, -1) + (g.endsWith('A') ? 'B' : 'A');
    expect(() => decodeStrkey(VERSION_ACCOUNT, bad)).toThrow();
    expect(() => decodeStrkey(VERSION_CONTRACT, g)).toThrow(/contract/);
  });
});

describe('contract data XDR', () => {
  it('encodes the Certificate(id) ledger key byte for byte like the SDK', () => {
    const sdkKey = xdr.LedgerKey.contractData(
      new xdr.LedgerKeyContractData({
        contract: new Address(contract).toScAddress(),
        key: xdr.ScVal.scvVec([xdr.ScVal.scvSymbol('Certificate'), nativeToScVal(42n, { type: 'u64' })]),
        durability: xdr.ContractDataDurability.persistent,
      }),
    );
    expect(contractDataKey(contract, [{ symbol: 'Certificate' }, { u64: 42n }])).toBe(sdkKey.toXDR('base64'));
  });

  it('decodes a certificate record written by the SDK', () => {
    const student = Keypair.random().publicKey();
    const issuer = Keypair.random().publicKey();
    const hash = Buffer.alloc(32, 0xab);
    const record = xdr.ScVal.scvMap(
      [
        ['course_id', xdr.ScVal.scvBytes(Buffer.alloc(16, 1))],
        ['id', nativeToScVal(42n, { type: 'u64' })],
        ['issued_ledger', xdr.ScVal.scvU32(1234)],
        ['issuer', new Address(issuer).toScVal()],
        ['metadata_hash', xdr.ScVal.scvBytes(hash)],
        ['revoke_reason', xdr.ScVal.scvString('fraud')],
        ['revoked', xdr.ScVal.scvBool(true)],
        ['revoked_by', new Address(issuer).toScVal()],
        ['revoked_ledger', xdr.ScVal.scvU32(1300)],
        ['student', new Address(student).toScVal()],
      ].map(([k, v]) => new xdr.ScMapEntry({ key: xdr.ScVal.scvSymbol(k as string), val: v as xdr.ScVal })),
    );
    const data = xdr.LedgerEntryData.contractData(
      new xdr.ContractDataEntry({
        ext: xdr.ExtensionPoint.v0(),
        contract: new Address(contract).toScAddress(),
        key: xdr.ScVal.scvVec([xdr.ScVal.scvSymbol('Certificate'), nativeToScVal(42n, { type: 'u64' })]),
        durability: xdr.ContractDataDurability.persistent,
        val: record,
      }),
    );
    const d = decodeContractData(data.toXDR('base64'));
    expect(d.contract).toBe(contract);
    expect(d.key).toEqual(['Certificate', 42n]);
    const v = d.val as Record<string, unknown>;
    expect(v.student).toEqual({ address: student });
    expect(v.revoked).toBe(true);
    expect(v.revoke_reason).toBe('fraud');
    expect(Buffer.from(v.metadata_hash as Uint8Array).equals(hash)).toBe(true);
  });

  it('refuses something that is not a contract data entry', () => {
    expect(() => decodeContractData(toBase64(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0])))).toThrow(
      /contract data/,
    );
  });
});

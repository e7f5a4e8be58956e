// Just enough XDR to read a Soroban contract's persistent entry: encode a LedgerKey::ContractData,
// decode LedgerEntryData into plain values. Hand-rolled so the verification page stays small.
import { VERSION_ACCOUNT, VERSION_CONTRACT, decodeStrkey, encodeStrkey } from './strkey.ts';

export type ScValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | ScValue[]
  | { [k: string]: ScValue }
  | { address: string };

const SCV = {
  BOOL: 0,
  VOID: 1,
  ERROR: 2,
  U32: 3,
  I32: 4,
  U64: 5,
  I64: 6,
  TIMEPOINT: 7,
  DURATION: 8,
  U128: 9,
  I128: 10,
  U256: 11,
  I256: 12,
  BYTES: 13,
  STRING: 14,
  SYMBOL: 15,
  VEC: 16,
  MAP: 17,
  ADDRESS: 18,
} as const;
const LEDGER_ENTRY_CONTRACT_DATA = 6;
export const DURABILITY_PERSISTENT = 1;

class Writer {
  private parts: number[] = [];
  u32(n: number) {
    this.parts.push((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  }
  u64(n: bigint) {
    this.u32(Number((n >> 32n) & 0xffffffffn));
    this.u32(Number(n & 0xffffffffn));
  }
  fixed(b: Uint8Array) {
    for (const x of b) this.parts.push(x);
  }
  opaque(b: Uint8Array) {
    this.u32(b.length);
    this.fixed(b);
    for (let i = b.length; i % 4; i++) this.parts.push(0);
  }
  bytes() {
    return Uint8Array.from(this.parts);
  }
}

class Reader {
  private off = 0;
  private view: DataView;
  constructor(private buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  u32() {
    if (this.off + 4 > this.buf.length) throw new Error('XDR ends early');
    const v = this.view.getUint32(this.off);
    this.off += 4;
    return v;
  }
  i32() {
    const v = this.view.getInt32(this.off);
    this.off += 4;
    return v;
  }
  u64() {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  i64() {
    return BigInt.asIntN(64, this.u64());
  }
  fixed(n: number) {
    if (this.off + n > this.buf.length) throw new Error('XDR ends early');
    const v = this.buf.slice(this.off, this.off + n);
    this.off += n;
    return v;
  }
  opaque() {
    const n = this.u32();
    const v = this.fixed(n);
    this.off += (4 - (n % 4)) % 4;
    return v;
  }
  done() {
    return this.off === this.buf.length;
  }
}

export function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toBase64(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Key of a contracttype enum tuple variant, e.g. DataKey::Certificate(7): Vec[Symbol, U64]. */
export type KeyPart = { symbol: string } | { u64: bigint } | { u32: number };

function writeScVal(w: Writer, v: KeyPart | KeyPart[]) {
  if (Array.isArray(v)) {
    w.u32(SCV.VEC);
    w.u32(1);
    w.u32(v.length);
    for (const p of v) writeScVal(w, p);
  } else if ('symbol' in v) {
    w.u32(SCV.SYMBOL);
    w.opaque(utf8.encode(v.symbol));
  } else if ('u64' in v) {
    w.u32(SCV.U64);
    w.u64(v.u64);
  } else {
    w.u32(SCV.U32);
    w.u32(v.u32);
  }
}

/** base64 XDR of LedgerKey::ContractData { contract, key, durability } for getLedgerEntries. */
export function contractDataKey(
  contractId: string,
  key: KeyPart | KeyPart[],
  durability = DURABILITY_PERSISTENT,
): string {
  const w = new Writer();
  w.u32(LEDGER_ENTRY_CONTRACT_DATA);
  w.u32(1); // SC_ADDRESS_TYPE_CONTRACT
  w.fixed(decodeStrkey(VERSION_CONTRACT, contractId));
  writeScVal(w, key);
  w.u32(durability);
  return toBase64(w.bytes());
}

function readAddress(r: Reader): { address: string } {
  const t = r.u32();
  if (t === 0) {
    if (r.u32() !== 0) throw new Error('unknown public key type');
    return { address: encodeStrkey(VERSION_ACCOUNT, r.fixed(32)) };
  }
  if (t === 1) return { address: encodeStrkey(VERSION_CONTRACT, r.fixed(32)) };
  throw new Error(`unsupported address type ${t}`);
}

function readScVal(r: Reader): ScValue {
  const t = r.u32();
  switch (t) {
    case SCV.BOOL:
      return r.u32() !== 0;
    case SCV.VOID:
      return null;
    case SCV.U32:
      return r.u32();
    case SCV.I32:
      return r.i32();
    case SCV.U64:
    case SCV.TIMEPOINT:
    case SCV.DURATION:
      return r.u64();
    case SCV.I64:
      return r.i64();
    case SCV.U128: {
      const hi = r.u64();
      return (hi << 64n) | r.u64();
    }
    case SCV.I128: {
      const hi = r.i64();
      return (hi << 64n) | r.u64();
    }
    case SCV.BYTES:
      return r.opaque();
    case SCV.STRING:
    case SCV.SYMBOL:
      return fromUtf8.decode(r.opaque());
    case SCV.VEC: {
      if (!r.u32()) return [];
      const n = r.u32();
      const out: ScValue[] = [];
      for (let i = 0; i < n; i++) out.push(readScVal(r));
      return out;
    }
    case SCV.MAP: {
      if (!r.u32()) return {};
      const n = r.u32();
      const out: Record<string, ScValue> = {};
      for (let i = 0; i < n; i++) {
        const k = readScVal(r);
        out[typeof k === 'string' ? k : String(k)] = readScVal(r);
      }
      return out;
    }
    case SCV.ADDRESS:
      return readAddress(r);
    default:
      throw new Error(`unsupported ScVal type ${t}`);
  }
}

/** Decodes getLedgerEntries' `xdr` (LedgerEntryData) of a contract data entry into its value. */
export function decodeContractData(base64: string): {
  contract: string;
  key: ScValue;
  durability: number;
  val: ScValue;
} {
  const r = new Reader(fromBase64(base64));
  const type = r.u32();
  if (type !== LEDGER_ENTRY_CONTRACT_DATA) throw new Error(`not a contract data entry (type ${type})`);
  if (r.u32() !== 0) throw new Error('unsupported extension');
  const contract = readAddress(r).address;
  const key = readScVal(r);
  const durability = r.u32();
  const val = readScVal(r);
  return { contract, key, durability, val };
}

/** For tests: writes a ScVal map entry the way the host would (used to build fixtures). */
export const __test = { Writer, SCV };

// A small XDR reader for the ScVal shapes Starling's events use (symbols, addresses, integers,
// bytes, strings, bools, maps, vecs). Decoding with the SDK's generic XDR classes cost ~28 µs
// per event and dominated catch-up; this reads the bytes directly. Anything else (U256, muxed
// and other address kinds, errors, …) throws Unsupported and the caller falls back to the SDK.
import type { Decoded, ScType } from './scval.ts';

export type SV =
  | { t: 'bool'; v: boolean }
  | { t: 'void' }
  | { t: 'u32' | 'i32'; v: number }
  | { t: 'u64' | 'i64' | 'u128' | 'i128'; v: bigint }
  | { t: 'bytes'; v: Buffer }
  | { t: 'string' | 'symbol' | 'address'; v: string }
  | { t: 'vec'; v: SV[] }
  | { t: 'map'; v: [SV, SV][] };

export class Unsupported extends Error {}

// StrKey (SEP-23) for 32-byte keys: version byte, key, CRC16-XModem (little-endian), base32. The
// SDK's encoder allocates several arrays per address; a page of mints has one address per event.
const ACCOUNT_VERSION = 6 << 3; // 'G…'
const CONTRACT_VERSION = 2 << 3; // 'C…'
const BASE32 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 'latin1');
const CRC16 = Uint16Array.from({ length: 256 }, (_, i) => {
  let c = i << 8;
  for (let j = 0; j < 8; j++) c = (c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1) & 0xffff;
  return c;
});
// Scratch space: strKey runs synchronously to completion, so one pair serves every call.
const raw = new Uint8Array(35);
const text = Buffer.alloc(56);

export function strKey(version: number, key: Uint8Array): string {
  raw[0] = version;
  raw.set(key, 1);
  let crc = 0;
  for (let i = 0; i < 33; i++) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ raw[i]!) & 0xff]!;
  raw[33] = crc & 0xff;
  raw[34] = crc >> 8;
  // 35 bytes are seven 5-byte groups of eight base32 digits each.
  for (let i = 0, j = 0; i < 35; i += 5, j += 8) {
    const b0 = raw[i]!;
    const b1 = raw[i + 1]!;
    const b2 = raw[i + 2]!;
    const b3 = raw[i + 3]!;
    const b4 = raw[i + 4]!;
    text[j] = BASE32[b0 >> 3]!;
    text[j + 1] = BASE32[((b0 & 7) << 2) | (b1 >> 6)]!;
    text[j + 2] = BASE32[(b1 >> 1) & 31]!;
    text[j + 3] = BASE32[((b1 & 1) << 4) | (b2 >> 4)]!;
    text[j + 4] = BASE32[((b2 & 15) << 1) | (b3 >> 7)]!;
    text[j + 5] = BASE32[(b3 >> 2) & 31]!;
    text[j + 6] = BASE32[((b3 & 3) << 3) | (b4 >> 5)]!;
    text[j + 7] = BASE32[b4 & 31]!;
  }
  return text.toString('latin1', 0, 56);
}

function reader(buf: Buffer) {
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > buf.length) throw new Unsupported('truncated');
  };
  const u32 = () => (need(4), (pos += 4), buf.readUInt32BE(pos - 4));
  const i32 = () => (need(4), (pos += 4), buf.readInt32BE(pos - 4));
  const u64 = () => (need(8), (pos += 8), buf.readBigUInt64BE(pos - 8));
  const i64 = () => (need(8), (pos += 8), buf.readBigInt64BE(pos - 8));
  const opaque = () => {
    const n = u32();
    need(n);
    const b = buf.subarray(pos, pos + n);
    pos += n + ((4 - (n % 4)) % 4);
    return b;
  };
  const fixed = (n: number) => {
    need(n);
    pos += n;
    return buf.subarray(pos - n, pos);
  };
  const val = (): SV => {
    const type = i32();
    switch (type) {
      case 0:
        return { t: 'bool', v: u32() !== 0 };
      case 1:
        return { t: 'void' };
      case 3:
        return { t: 'u32', v: u32() };
      case 4:
        return { t: 'i32', v: i32() };
      case 5:
        return { t: 'u64', v: u64() };
      case 6:
        return { t: 'i64', v: i64() };
      case 9: {
        const hi = u64();
        return { t: 'u128', v: (hi << 64n) | u64() };
      }
      case 10: {
        const hi = i64();
        return { t: 'i128', v: (hi << 64n) | u64() };
      }
      case 13:
        return { t: 'bytes', v: Buffer.from(opaque()) };
      case 14:
        return { t: 'string', v: opaque().toString('utf8') };
      case 15:
        return { t: 'symbol', v: opaque().toString('latin1') };
      case 16:
      case 17: {
        if (u32() === 0) throw new Unsupported('absent vec/map');
        const n = u32();
        if (type === 16) return { t: 'vec', v: Array.from({ length: n }, () => val()) };
        const entries: [SV, SV][] = [];
        for (let i = 0; i < n; i++) entries.push([val(), val()]);
        return { t: 'map', v: entries };
      }
      case 18: {
        const kind = i32();
        if (kind === 0) {
          if (i32() !== 0) throw new Unsupported('public key type');
          return { t: 'address', v: strKey(ACCOUNT_VERSION, fixed(32)) };
        }
        if (kind === 1) return { t: 'address', v: strKey(CONTRACT_VERSION, fixed(32)) };
        throw new Unsupported(`address kind ${kind}`);
      }
      default:
        throw new Unsupported(`ScVal type ${type}`);
    }
  };
  return {
    val,
    done: () => pos === buf.length,
  };
}

export function parseFast(b64: string): SV {
  const r = reader(Buffer.from(b64, 'base64'));
  const v = r.val();
  if (!r.done()) throw new Unsupported('trailing bytes');
  return v;
}

const SCALAR: Partial<Record<ScType, SV['t']>> = {
  address: 'address',
  u32: 'u32',
  i32: 'i32',
  u64: 'u64',
  i64: 'i64',
  i128: 'i128',
  u128: 'u128',
  bool: 'bool',
  symbol: 'symbol',
  string: 'string',
};

/** Same contract as decodeTyped, on a fast-parsed value; any mismatch throws (caller falls back). */
export function decodeTypedFast(v: SV, type: ScType): Decoded {
  const want = SCALAR[type] ?? 'bytes';
  if (v.t !== want) throw new Unsupported(`expected ${want}, got ${v.t}`);
  switch (v.t) {
    case 'u64':
    case 'i64':
    case 'u128':
    case 'i128':
      return v.v.toString();
    case 'bytes': {
      const n = type === 'bytes' ? null : Number(type.slice(5));
      if (n !== null && v.v.length !== n) throw new Unsupported('length');
      return v.v.toString('hex');
    }
    case 'u32':
    case 'i32':
    case 'bool':
    case 'string':
    case 'symbol':
    case 'address':
      return v.v;
    default:
      throw new Unsupported(v.t);
  }
}

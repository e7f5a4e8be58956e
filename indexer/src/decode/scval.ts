// ScVal → the decoded form of contracts/EVENTS.md: addresses as strkeys, U64/I64/I128/U128 as
// decimal strings, U32/I32 as numbers, bytes as lowercase hex, symbols and strings as text.
// SDK 17's XDR values are tagged by `type`; scValToNative does the per-type conversion.
import { scValToNative, xdr } from '@stellar/stellar-sdk';
import { DecodeError } from '../errors.ts';

export type ScType =
  | 'address'
  | 'u32'
  | 'i32'
  | 'u64'
  | 'i64'
  | 'i128'
  | 'u128'
  | 'bool'
  | 'symbol'
  | 'string'
  | `bytes${number}`
  | 'bytes';

export type Decoded = string | number | boolean;

const ARM: Record<string, string> = {
  address: 'scvAddress',
  u32: 'scvU32',
  i32: 'scvI32',
  u64: 'scvU64',
  i64: 'scvI64',
  i128: 'scvI128',
  u128: 'scvU128',
  bool: 'scvBool',
  symbol: 'scvSymbol',
  string: 'scvString',
};

export function parseScVal(b64: string): xdr.ScVal {
  try {
    return xdr.ScVal.fromXDR(b64, 'base64');
  } catch (e) {
    throw new DecodeError(`not a base64 ScVal: ${(e as Error).message}`);
  }
}

/** Decodes one ScVal that must have the given type; anything else is a DecodeError. */
export function decodeTyped(v: xdr.ScVal, type: ScType, field: string): Decoded {
  const arm = ARM[type] ?? 'scvBytes';
  if (v.type !== arm) throw new DecodeError(`${field}: expected ${arm}, got ${v.type}`);
  const native: unknown = scValToNative(v);
  switch (type) {
    case 'address':
    case 'symbol':
    case 'string':
      return String(native);
    case 'u32':
    case 'i32':
      return Number(native);
    case 'u64':
    case 'i64':
    case 'i128':
    case 'u128':
      return (native as bigint).toString();
    case 'bool':
      return native as boolean;
    default: {
      const bytes = Buffer.from(native as Uint8Array);
      const n = type === 'bytes' ? null : Number(type.slice(5));
      if (n !== null && bytes.length !== n)
        throw new DecodeError(`${field}: expected ${n} bytes, got ${bytes.length}`);
      return bytes.toString('hex');
    }
  }
}

/** The Symbol text of a ScVal, or null when it is not a Symbol. */
export function symbolOf(v: xdr.ScVal): string | null {
  return v.type === 'scvSymbol' ? String(scValToNative(v)) : null;
}

/** Map entries of a Map ScVal, or null when it is not a map. */
export function mapEntries(v: xdr.ScVal): { key: xdr.ScVal; val: xdr.ScVal }[] | null {
  return v.type === 'scvMap' ? (v.map ?? []) : null;
}

/** Best-effort JSON form of any ScVal, for events no decoder knows (kept raw, never projected). */
export function scValToJson(v: xdr.ScVal): unknown {
  try {
    return toJson(scValToNative(v));
  } catch {
    return v.toXDR('base64');
  }
}

function toJson(n: unknown): unknown {
  if (typeof n === 'bigint') return n.toString();
  if (n instanceof Uint8Array) return Buffer.from(n).toString('hex');
  if (Array.isArray(n)) return n.map(toJson);
  if (n && typeof n === 'object')
    return Object.fromEntries(Object.entries(n).map(([k, x]) => [k, toJson(x)]));
  return n ?? null;
}

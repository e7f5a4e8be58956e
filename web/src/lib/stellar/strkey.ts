// Stellar strkeys (G… accounts, C… contracts) without the SDK: RFC 4648 base32 of
// version byte + 32-byte payload + CRC16-XModem (little-endian).

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const VERSION_ACCOUNT = 6 << 3;
export const VERSION_CONTRACT = 2 << 3;

export function crc16xmodem(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function base32Encode(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function base32Decode(s: string): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of s) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new Error('not base32');
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

export function encodeStrkey(version: number, payload: Uint8Array): string {
  const data = new Uint8Array(1 + payload.length);
  data[0] = version;
  data.set(payload, 1);
  const crc = crc16xmodem(data);
  const full = new Uint8Array(data.length + 2);
  full.set(data);
  full[data.length] = crc & 0xff;
  full[data.length + 1] = crc >> 8;
  return base32Encode(full);
}

/** The 32-byte payload of a strkey, checking its version and checksum. */
export function decodeStrkey(version: number, key: string): Uint8Array {
  const raw = base32Decode(key);
  if (raw.length !== 35 || raw[0] !== version)
    throw new Error(`not a ${version === VERSION_CONTRACT ? 'contract' : 'account'} strkey`);
  const crc = crc16xmodem(raw.subarray(0, 33));
  if (raw[33] !== (crc & 0xff) || raw[34] !== crc >> 8) throw new Error('strkey checksum mismatch');
  return raw.slice(1, 33);
}

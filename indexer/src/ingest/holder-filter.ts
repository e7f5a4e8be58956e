// A Bloom filter of the addresses that have a bst_balances row. "No" is certain, "maybe" is not:
// the page worker sends a holder it has certainly never seen straight to COPY (a plain append,
// no index probe for an existing row), and everything else through the update-or-insert
// statement. A filter that wrongly says "no" would make that COPY fail on the primary key; the
// page is then retried without the filter (see ingest.ts), so a wrong answer costs time, never
// a row.
export class HolderFilter {
  readonly #bits: Uint32Array;
  readonly #mask: number;
  static readonly HASHES = 7;

  /** Sized for `expected` addresses at about 1 % false "maybe" (at least 2 MB, 1.6M addresses). */
  constructor(expected: number) {
    let m = 1 << 24;
    while (m < expected * 10 && m < 1 << 30) m *= 2;
    this.#bits = new Uint32Array(m / 32);
    this.#mask = m - 1;
  }

  add(address: string): void {
    const [first, h2] = hashes(address);
    let h1 = first;
    for (let i = 0; i < HolderFilter.HASHES; i++) {
      const b = h1 & this.#mask;
      this.#bits[b >>> 5]! |= 1 << (b & 31);
      h1 = (h1 + h2) >>> 0;
    }
  }

  mayHave(address: string): boolean {
    const [first, h2] = hashes(address);
    let h1 = first;
    for (let i = 0; i < HolderFilter.HASHES; i++) {
      const b = h1 & this.#mask;
      if ((this.#bits[b >>> 5]! & (1 << (b & 31))) === 0) return false;
      h1 = (h1 + h2) >>> 0;
    }
    return true;
  }
}

/** Two 32-bit FNV-1a hashes (different offsets) for double hashing. */
function hashes(s: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return [a >>> 0, (b >>> 0) | 1];
}

// The holder filter must never call a known holder new (that would send an existing balance to
// COPY), and should rarely call a new one known (that only costs the slower path).
import { describe, expect, it } from 'vitest';
import { StrKey } from '@stellar/stellar-sdk';
import { HolderFilter } from './holder-filter.ts';

const address = (i: number) => {
  const key = Buffer.alloc(32);
  key.writeUInt32BE(i, 0);
  key.writeUInt32BE(Math.imul(i, 2654435761) >>> 0, 28);
  return StrKey.encodeEd25519PublicKey(key);
};

describe('holder filter', () => {
  it('knows every address added, and calls few others known', () => {
    const f = new HolderFilter(200_000);
    for (let i = 0; i < 200_000; i++) f.add(address(i));
    for (let i = 0; i < 200_000; i++) expect(f.mayHave(address(i))).toBe(true);
    let falseMaybe = 0;
    for (let i = 200_000; i < 300_000; i++) if (f.mayHave(address(i))) falseMaybe++;
    expect(falseMaybe / 100_000).toBeLessThan(0.02);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTRACT_ERRORS, contractErrorCode, describeContractError } from './contract-call.ts';

const root = new URL('../../../contracts/', import.meta.url);

/** `Name = 12,` variants of every `#[contracterror]` enum in a Rust source. */
function contractErrors(path: string): Map<number, string> {
  const src = readFileSync(new URL(path, root), 'utf8');
  const out = new Map<number, string>();
  for (const m of src.matchAll(/#\[contracterror\][^{]*\{([^}]*)\}/g)) {
    for (const v of m[1]!.matchAll(/^\s*(\w+)\s*=\s*(\d+)\s*,/gm)) out.set(Number(v[2]), v[1]!);
  }
  return out;
}

describe('contract errors the submitter reports', () => {
  it('names every error of the contracts it calls (shared, analytics, certificate, token)', () => {
    const sources = [
      'shared/src/errors.rs',
      'analytics/src/lib.rs',
      'certificate/src/lib.rs',
      'token/src/lib.rs',
    ];
    const all = new Map<number, string>();
    for (const s of sources) for (const [code, name] of contractErrors(s)) all.set(code, name);
    expect(all.size).toBeGreaterThan(10);
    for (const [code, name] of all) expect({ code, name: CONTRACT_ERRORS[code] }).toEqual({ code, name });
  });

  it('reads the code out of a host error and names it', () => {
    const code = contractErrorCode('HostError: Error(Contract, #60)\nEvent log …');
    expect(code).toBe(60);
    expect(describeContractError(60)).toBe('contract error #60 (AlreadyIssued)');
    expect(describeContractError(999)).toBe('contract error #999');
  });
});

// The decoders against the events the real Soroban host emitted (contracts/vectors): every
// vector decodes to exactly its recorded meaning, so contract and indexer cannot drift apart.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeToScVal, xdr } from '@stellar/stellar-sdk';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../errors.ts';
import { decodeEvent, decodeFast, decodeWithSdk, EVENT_TABLES, type ContractKind } from './index.ts';

const VECTORS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../contracts/vectors');

interface Vector {
  call: string;
  contract: string;
  topics: string[];
  value: string;
  decoded: Record<string, unknown> & { event: string };
}

function kindOf(file: string, v: Vector): ContractKind {
  const prefix = file.split('_')[0]!;
  if (prefix in EVENT_TABLES) return prefix as ContractKind;
  // roles.json: access-control events shared by analytics, token and certificate.
  for (const k of ['analytics', 'token', 'certificate', 'governance'] as const)
    if (v.decoded.event in EVENT_TABLES[k]) return k;
  throw new Error(`no decoder for ${file}`);
}

const files = readdirSync(VECTORS).filter((f) => f.endsWith('.json'));

describe('decoders against contracts/vectors', () => {
  it('has vectors to check', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });
  for (const file of files) {
    const scenario = JSON.parse(readFileSync(join(VECTORS, file), 'utf8')) as { events: Vector[] };
    scenario.events.forEach((v, i) => {
      it(`${file} #${i} ${v.decoded.event}`, () => {
        const d = decodeEvent(kindOf(file, v), v.topics, v.value);
        expect(d.known).toBe(true);
        const { event, ...fields } = v.decoded;
        expect(d.name).toBe(event);
        expect(d.fields).toEqual(fields);
        // The fast reader handles it, and agrees exactly with the SDK path.
        expect(decodeFast(kindOf(file, v), v.topics, v.value)).toEqual(d);
        expect(decodeWithSdk(kindOf(file, v), v.topics, v.value)).toEqual(d);
      });
    });
  }
});

describe('decoder strictness', () => {
  const sym = (s: string) => xdr.ScVal.scvSymbol(s).toXDR('base64');
  const addr = 'GABQGAYDAMBQGAYDAMBQGAYDAMBQGAYDAMBQGAYDAMBQGAYDAMBQHGPC';
  it('rejects a known event whose layout changed', () => {
    const topics = [
      sym('certificate_issued'),
      nativeToScVal(1, { type: 'u32' }).toXDR('base64'),
      nativeToScVal(addr, { type: 'address' }).toXDR('base64'),
    ];
    const value = nativeToScVal(
      { course_id: Buffer.alloc(16), issuer: addr, metadata_hash: Buffer.alloc(32) },
      {
        type: {
          course_id: ['symbol', 'bytes'],
          issuer: ['symbol', 'address'],
          metadata_hash: ['symbol', 'bytes'],
        },
      },
    ).toXDR('base64');
    expect(() => decodeEvent('certificate', topics, value)).toThrow(DecodeError);
  });
  it('keeps unknown events raw', () => {
    const d = decodeEvent(
      'analytics',
      [sym('something_new')],
      nativeToScVal(7, { type: 'u32' }).toXDR('base64'),
    );
    expect(d).toMatchObject({
      name: 'something_new',
      known: false,
      raw: { topics: ['something_new'], value: 7 },
    });
  });
  it('decodes SEP-41 transfers, plain and muxed', () => {
    const other = 'GACAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAJJHP';
    const topics = [
      sym('transfer'),
      nativeToScVal(addr, { type: 'address' }).toXDR('base64'),
      nativeToScVal(other, { type: 'address' }).toXDR('base64'),
    ];
    expect(decodeEvent('token', topics, nativeToScVal(5n, { type: 'i128' }).toXDR('base64')).fields).toEqual({
      from: addr,
      to: other,
      amount: '5',
    });
    const muxed = nativeToScVal(
      { amount: 5n, to_muxed_id: 9n },
      { type: { amount: ['symbol', 'i128'], to_muxed_id: ['symbol', 'u64'] } },
    ).toXDR('base64');
    expect(decodeEvent('token', topics, muxed).fields).toEqual({
      from: addr,
      to: other,
      amount: '5',
      to_muxed_id: '9',
    });
  });
});

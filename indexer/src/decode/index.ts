// Turns a raw contract event (base64 XDR topics and value) into the decoded form of
// contracts/EVENTS.md, by the table of the contract that emitted it. A known event name with a
// different layout is a DecodeError (ingest stops and says so); an unknown name is kept raw.
import type { xdr } from '@stellar/stellar-sdk';
import { DecodeError } from '../errors.ts';
import { decodeTyped, mapEntries, parseScVal, scValToJson, symbolOf, type Decoded } from './scval.ts';
import type { ContractKind, EventSpec } from './spec.ts';
import { EVENT_TABLES, decodeFast, type DecodedEvent } from './fast.ts';
import { TRANSFER_MUXED } from './token.ts';

export { EVENT_TABLES, decodeFast, type DecodedEvent } from './fast.ts';

export type { ContractKind } from './spec.ts';

function applySpec(
  name: string,
  spec: EventSpec,
  topics: xdr.ScVal[],
  value: xdr.ScVal,
): Record<string, Decoded> {
  if (topics.length !== spec.topics.length + 1) {
    throw new DecodeError(`${name}: expected ${spec.topics.length + 1} topics, got ${topics.length}`);
  }
  const out: Record<string, Decoded> = {};
  spec.topics.forEach((f, i) => (out[f.name] = decodeTyped(topics[i + 1]!, f.type, `${name}.${f.name}`)));
  if ('single' in spec.data) {
    out[spec.data.single.name] = decodeTyped(
      value,
      spec.data.single.type,
      `${name}.${spec.data.single.name}`,
    );
    return out;
  }
  const list = mapEntries(value);
  if (!list) throw new DecodeError(`${name}: data is ${value.type}, expected a map`);
  const entries = new Map<string, xdr.ScVal>();
  for (const e of list) {
    const key = symbolOf(e.key);
    if (key === null) throw new DecodeError(`${name}: map key is not a symbol`);
    entries.set(key, e.val);
  }
  for (const f of spec.data.map) {
    const v = entries.get(f.name);
    if (v === undefined) {
      if (f.optional) continue;
      throw new DecodeError(`${name}: data lacks ${f.name}`);
    }
    out[f.name] = decodeTyped(v, f.type, `${name}.${f.name}`);
    entries.delete(f.name);
  }
  if (entries.size > 0)
    throw new DecodeError(`${name}: unexpected data fields ${[...entries.keys()].join(', ')}`);
  return out;
}

export function decodeEvent(
  kind: ContractKind,
  topicsXdr: readonly string[],
  valueXdr: string,
): DecodedEvent {
  return decodeFast(kind, topicsXdr, valueXdr) ?? decodeWithSdk(kind, topicsXdr, valueXdr);
}

/** The SDK path: every ScVal kind, exact DecodeErrors, unknown events kept raw. */
export function decodeWithSdk(
  kind: ContractKind,
  topicsXdr: readonly string[],
  valueXdr: string,
): DecodedEvent {
  const topics = topicsXdr.map((t) => parseScVal(t));
  const value = parseScVal(valueXdr);
  const name = topics[0] ? symbolOf(topics[0]) : null;
  if (name === null) {
    return {
      name: '',
      fields: {},
      known: false,
      raw: { topics: topics.map(scValToJson), value: scValToJson(value) },
    };
  }
  const spec = EVENT_TABLES[kind][name];
  if (!spec)
    return {
      name,
      fields: {},
      known: false,
      raw: { topics: topics.map(scValToJson), value: scValToJson(value) },
    };
  if (kind === 'token' && name === 'transfer' && value.type === 'scvMap') {
    return { name, fields: applySpec(name, TRANSFER_MUXED, topics, value), known: true };
  }
  return { name, fields: applySpec(name, spec, topics, value), known: true };
}

// The decoding tables and the fast path (fast-scval.ts): no SDK, so the page worker decodes
// with this alone and loads the SDK (decode/index.ts) only for a shape the fast reader declines.
import type { Decoded } from './scval.ts';
import type { ContractKind, EventSpec } from './spec.ts';
import { ANALYTICS_EVENTS } from './analytics.ts';
import { CERTIFICATE_EVENTS } from './certificate.ts';
import { GOVERNANCE_EVENTS } from './governance.ts';
import { decodeTypedFast, parseFast, type SV } from './fast-scval.ts';
import { TOKEN_EVENTS, TRANSFER_MUXED } from './token.ts';

export const EVENT_TABLES: Record<ContractKind, Record<string, EventSpec>> = {
  analytics: ANALYTICS_EVENTS,
  token: TOKEN_EVENTS,
  certificate: CERTIFICATE_EVENTS,
  governance: GOVERNANCE_EVENTS,
};

export interface DecodedEvent {
  name: string;
  /** Named topic fields (after the name) and data fields; EVENTS.md's decoded form minus `event`. */
  fields: Record<string, Decoded>;
  known: boolean;
  /** For unknown events: the JSON form of topics and value. */
  raw?: { topics: unknown[]; value: unknown };
}

/** Fast path: the hand-written reader; null when it cannot decode exactly (then the SDK path runs). */
export function decodeFast(
  kind: ContractKind,
  topicsXdr: readonly string[],
  valueXdr: string,
): DecodedEvent | null {
  try {
    const topics = topicsXdr.map((t) => parseFast(t));
    const value = parseFast(valueXdr);
    const head = topics[0];
    if (!head || head.t !== 'symbol') return null;
    const name = head.v;
    let spec = EVENT_TABLES[kind][name];
    if (!spec) return null;
    if (kind === 'token' && name === 'transfer' && value.t === 'map') spec = TRANSFER_MUXED;
    if (topics.length !== spec.topics.length + 1) return null;
    const out: Record<string, Decoded> = {};
    spec.topics.forEach((f, i) => (out[f.name] = decodeTypedFast(topics[i + 1]!, f.type)));
    if ('single' in spec.data) {
      out[spec.data.single.name] = decodeTypedFast(value, spec.data.single.type);
      return { name, fields: out, known: true };
    }
    if (value.t !== 'map') return null;
    const entries = new Map<string, SV>();
    for (const [k, v] of value.v) {
      if (k.t !== 'symbol') return null;
      entries.set(k.v, v);
    }
    for (const f of spec.data.map) {
      const v = entries.get(f.name);
      if (v === undefined) {
        if (f.optional) continue;
        return null;
      }
      out[f.name] = decodeTypedFast(v, f.type);
      entries.delete(f.name);
    }
    return entries.size === 0 ? { name, fields: out, known: true } : null;
  } catch {
    return null;
  }
}

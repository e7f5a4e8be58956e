// Turning a getEvents page into what its commit writes: the page's bulk rows, the big row sets
// already encoded as COPY text, and its other known events decoded. Pure and synchronous, with no
// database or SDK imports (the decoder is passed in), so it runs the same on the main thread
// (small pages, tests) and in the page worker (catch-up pages).
import type { DecodedEvent } from '../decode/fast.ts';
import type { ContractKind } from '../decode/spec.ts';
import { DecodeError, errorMessage } from '../errors.ts';
import { PageRowsBuilder, type ChainEvent, type PageRows } from '../project/page-rows.ts';
import type { GetEventsResult, RpcEventWire } from '../rpc/rpc.client.ts';
import { CopyWriter, copyText } from '../store/copy-text.ts';
import type { HolderFilter } from './holder-filter.ts';

/** decodeEvent (decode/index.ts), or the page worker's fast-path-first stand-in for it. */
export type Decoder = (kind: ContractKind, topicsXdr: readonly string[], valueXdr: string) => DecodedEvent;

/** Thrown by a decoder that cannot decode an event by itself: passed through, not a DecodeError. */
export class NeedsFullDecoder extends Error {}

/** The contract events of the watched contracts, decoded by the table of each one's kind. */
export function decodePage(
  kinds: ReadonlyMap<string, ContractKind>,
  wire: readonly RpcEventWire[],
  decode: Decoder,
): ChainEvent[] {
  const events: ChainEvent[] = [];
  for (const w of wire) {
    const e = decodeWire(kinds, w, decode);
    if (e) events.push(e);
  }
  return events;
}

/** One event of a watched contract, decoded by its contract's table; null for any other. */
function decodeWire(
  kinds: ReadonlyMap<string, ContractKind>,
  w: RpcEventWire,
  decode: Decoder,
): ChainEvent | null {
  const kind = kinds.get(w.contractId);
  if (!kind || w.type !== 'contract') return null;
  let decoded;
  try {
    decoded = decode(kind, w.topic, w.value);
  } catch (err) {
    if (err instanceof NeedsFullDecoder) throw err;
    throw new DecodeError(`event ${w.id} (${kind}, tx ${w.txHash}): ${errorMessage(err)}`);
  }
  return {
    id: w.id,
    ledger: w.ledger,
    ledgerClosedAt: w.ledgerClosedAt,
    contractId: w.contractId,
    kind,
    txHash: w.txHash,
    topicsXdr: w.topic,
    valueXdr: w.value,
    decoded,
  };
}

/** A getEvents result without its events (what the sync stage reads besides the rows). */
export type PageMeta = Omit<GetEventsResult, 'events'> & { eventCount: number };

export interface BuiltPage {
  page: PageMeta;
  /** The page's rows, the raw events encoded as COPY text. */
  rows: PageRows;
  /** The close time of each ledger among the events, in page order (the last is the last event's). */
  closedAt: string[];
}

/**
 * With `holders` (the page worker's filter, ready), a credit to an address the filter has never
 * seen goes to rows.newHolders as COPY text; every credited address is added to the filter.
 */
export function buildPage(
  kinds: ReadonlyMap<string, ContractKind>,
  result: GetEventsResult,
  decode: Decoder,
  holders?: HolderFilter,
): BuiltPage {
  const { events: wire, ...meta } = result;
  // One event at a time, straight into COPY text: no page of decoded events stays alive.
  const text = new CopyWriter(wire.length * 768);
  const builder = new PageRowsBuilder((row) => text.row(row));
  const closedAt: string[] = [];
  for (const w of wire) {
    const e = decodeWire(kinds, w, decode);
    if (!e) continue;
    builder.add(e);
    if (closedAt.at(-1) !== e.ledgerClosedAt) closedAt.push(e.ledgerClosedAt);
  }
  return {
    page: { ...meta, eventCount: wire.length },
    rows: holders
      ? builder.finish(
          text.finish(),
          (a) => {
            const fresh = !holders.mayHave(a);
            holders.add(a);
            return fresh;
          },
          copyText,
        )
      : builder.finish(text.finish()),
    closedAt,
  };
}

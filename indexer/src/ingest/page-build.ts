// Turning a getEvents page into what its commit writes: the page's bulk rows, the big row sets
// already encoded as COPY text, and its other known events decoded. Pure and synchronous, so it
// runs the same on the main thread (small pages, tests) and in the page worker (catch-up pages).
import { decodeEvent } from '../decode/index.ts';
import type { ContractKind } from '../decode/spec.ts';
import { DecodeError, errorMessage } from '../errors.ts';
import { PageRowsBuilder, type ChainEvent, type PageRows } from '../project/project.ts';
import type { GetEventsResult, RpcEventWire } from '../rpc/rpc.client.ts';
import { CopyWriter, copyText } from '../store/page-transaction.ts';

/** The contract events of the watched contracts, decoded by the table of each one's kind. */
export function decodePage(
  kinds: ReadonlyMap<string, ContractKind>,
  wire: readonly RpcEventWire[],
): ChainEvent[] {
  const events: ChainEvent[] = [];
  for (const w of wire) {
    const e = decodeWire(kinds, w);
    if (e) events.push(e);
  }
  return events;
}

/** One event of a watched contract, decoded by its contract's table; null for any other. */
function decodeWire(kinds: ReadonlyMap<string, ContractKind>, w: RpcEventWire): ChainEvent | null {
  const kind = kinds.get(w.contractId);
  if (!kind || w.type !== 'contract') return null;
  let decoded;
  try {
    decoded = decodeEvent(kind, w.topic, w.value);
  } catch (err) {
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
  /** The page's rows, the raw events and balance deltas encoded as COPY text. */
  rows: PageRows;
  /** The close time of each ledger among the events, in page order (the last is the last event's). */
  closedAt: string[];
}

export function buildPage(kinds: ReadonlyMap<string, ContractKind>, result: GetEventsResult): BuiltPage {
  const { events: wire, ...meta } = result;
  // One event at a time, straight into COPY text: no page of decoded events stays alive.
  const text = new CopyWriter(wire.length * 768);
  const builder = new PageRowsBuilder((row) => text.row(row));
  const closedAt: string[] = [];
  for (const w of wire) {
    const e = decodeWire(kinds, w);
    if (!e) continue;
    builder.add(e);
    if (closedAt.at(-1) !== e.ledgerClosedAt) closedAt.push(e.ledgerClosedAt);
  }
  const rows = builder.finish(text.finish());
  return {
    page: { ...meta, eventCount: wire.length },
    rows: { ...rows, balanceDeltas: copyText(rows.balanceDeltas) },
    closedAt,
  };
}

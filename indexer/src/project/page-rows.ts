// A page's bulk rows (raw events as COPY rows, each holder's net BST change, the supply change)
// and its other known events. Pure, with no database imports: the page worker builds them.
import type { DecodedEvent } from '../decode/fast.ts';
import type { ContractKind } from '../decode/spec.ts';
import type { Row, RowSet } from '../store/copy-text.ts';

export interface ChainEvent {
  id: string;
  ledger: number;
  ledgerClosedAt: string;
  contractId: string;
  kind: ContractKind;
  txHash: string;
  topicsXdr: string[];
  valueXdr: string;
  decoded: DecodedEvent;
}

/** A text[] literal with every element quoted (base64 needs no escaping, but stay exact). */
function textArrayLiteral(xs: readonly string[]): string {
  return `{${xs.map((x) => `"${x.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

function rawEventRow(e: ChainEvent): Row {
  return [
    e.id,
    String(e.ledger),
    e.ledgerClosedAt,
    e.contractId,
    e.txHash,
    e.decoded.name,
    JSON.stringify(e.decoded.known ? topicFields(e) : (e.decoded.raw?.topics ?? [])),
    JSON.stringify(e.decoded.known ? e.decoded.fields : (e.decoded.raw?.value ?? null)),
    textArrayLiteral(e.topicsXdr),
    e.valueXdr,
  ];
}

/** Balance deltas as Postgres array literals, ready to unnest (built once, off the main thread). */
export interface BalanceDeltas {
  addresses: string;
  deltas: string;
  ledgers: string;
  count: number;
}

/** The decoded topics as an array in order (name first), as stored in chain_events.topics. */
function topicFields(e: ChainEvent): unknown[] {
  return [e.decoded.name, ...Object.values(e.decoded.fields).slice(0, Math.max(0, e.topicsXdr.length - 1))];
}

/**
 * A page's bulk rows: its raw events, and the SEP-41 moves among its known events (each
 * address's net balance change, the supply change). Pure, so ingest builds them for the next
 * page while this one commits, and the commit mostly waits on Postgres.
 */
export interface PageRows {
  /** How many events the rows were built from, and the lowest and highest of their ids. */
  count: number;
  firstId: string;
  lastId: string;
  /** As values, or as COPY text when built on the page worker (ingest/page-build.ts). */
  rawEvents: RowSet;
  /** Each address's net change on the page (and its last ledger), as array literals. */
  balanceDeltas: BalanceDeltas;
  /**
   * Holders certainly new (no bst_balances row: the page worker's filter said so), as COPY rows
   * (address, balance, ledger); their deltas are not in balanceDeltas. Empty without a filter.
   */
  newHolders: RowSet;
  supplyDelta: bigint;
  /** The last ledger among the known events (bst_supply.ledger). */
  lastLedger: number;
  /** The known events projected one by one: all but the SEP-41 moves, which the rows carry. */
  others: ChainEvent[];
}

export function pageRows(events: readonly ChainEvent[]): PageRows {
  const rawEvents: Row[] = [];
  const rows = new PageRowsBuilder((row) => rawEvents.push(row));
  for (const e of events) rows.add(e);
  return rows.finish(rawEvents);
}

/**
 * pageRows one event at a time: each raw event row goes to `sink` as soon as it is built, so a
 * caller that encodes it at once (the page worker) keeps no page of decoded events alive.
 */
export class PageRowsBuilder {
  #deltas = new Map<string, { delta: bigint; ledger: number }>();
  #supplyDelta = 0n;
  #lastLedger = 0;
  #firstId = '';
  #lastId = '';
  #count = 0;
  #others: ChainEvent[] = [];
  readonly #sink: (row: Row) => void;

  constructor(sink: (row: Row) => void) {
    this.#sink = sink;
  }

  add(e: ChainEvent): void {
    this.#sink(rawEventRow(e));
    this.#count++;
    if (this.#firstId === '' || e.id < this.#firstId) this.#firstId = e.id;
    if (e.id > this.#lastId) this.#lastId = e.id;
    if (!e.decoded.known) return;
    this.#lastLedger = Math.max(this.#lastLedger, e.ledger);
    const f = e.decoded.fields;
    const name = e.decoded.name;
    if (e.kind !== 'token' || (name !== 'mint' && name !== 'burn' && name !== 'transfer')) {
      this.#others.push(e);
      return;
    }
    const amount = BigInt(String(f.amount));
    if (name !== 'mint') this.#addDelta(String(f.from), -amount, e.ledger);
    if (name !== 'burn') this.#addDelta(String(f.to), amount, e.ledger);
    if (name === 'mint') this.#supplyDelta += amount;
    if (name === 'burn') this.#supplyDelta -= amount;
  }

  #addDelta(addr: string, d: bigint, ledger: number): void {
    const cur = this.#deltas.get(addr);
    if (cur) {
      cur.delta += d;
      if (ledger > cur.ledger) cur.ledger = ledger;
    } else this.#deltas.set(addr, { delta: d, ledger });
  }

  /** The rows, with the raw events as the sink collected them. */
  /**
   * The rows, with the raw events as the sink collected them. With `isNew`, a credit to an
   * address it calls new goes to `newHolders` (encoded by `encode`) instead of the deltas.
   */
  finish(
    rawEvents: RowSet,
    isNew?: (address: string) => boolean,
    encode: (rows: Row[]) => RowSet = (rows) => rows,
  ): PageRows {
    const addresses: string[] = [];
    const deltas: string[] = [];
    const ledgers: string[] = [];
    const fresh: Row[] = [];
    for (const [a, v] of this.#deltas) {
      if (isNew && v.delta >= 0n && isNew(a)) {
        fresh.push([a, v.delta.toString(), String(v.ledger)]);
        continue;
      }
      addresses.push(a);
      deltas.push(v.delta.toString());
      ledgers.push(String(v.ledger));
    }
    const balanceDeltas: BalanceDeltas = {
      addresses: textArrayLiteral(addresses),
      deltas: `{${deltas.join(',')}}`,
      ledgers: `{${ledgers.join(',')}}`,
      count: addresses.length,
    };
    return {
      count: this.#count,
      firstId: this.#firstId,
      lastId: this.#lastId,
      rawEvents,
      balanceDeltas,
      newHolders: encode(fresh),
      supplyDelta: this.#supplyDelta,
      lastLedger: this.#lastLedger,
      others: this.#others,
    };
  }
}

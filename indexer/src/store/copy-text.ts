// Rows as COPY text (the text format of COPY … FROM STDIN). Pure, with no database imports, so
// the page worker can encode a page's rows without loading the database stack.

/** A row as the text forms of its values (null for NULL), in column order. */
export type Row = readonly (string | null)[];

/** Rows already encoded as COPY text (UTF-8): built off the main thread, written as they are. */
export interface EncodedRows {
  copy: Uint8Array;
  count: number;
}
/** Rows to write: as values, or already encoded. */
export type RowSet = readonly Row[] | EncodedRows;

export function isEncoded(rows: RowSet): rows is EncodedRows {
  return !Array.isArray(rows);
}

export function rowCount(rows: RowSet): number {
  return isEncoded(rows) ? rows.count : rows.length;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function copyLine(row: Row): string {
  let line = '';
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    const text =
      v === null || v === undefined
        ? '\\N'
        : COPY_SPECIAL.test(v)
          ? v.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!)
          : v;
    line += i === 0 ? text : `\t${text}`;
  }
  return `${line}\n`;
}

const utf8 = new TextEncoder();

/** Appends rows as COPY text into one growing UTF-8 buffer, without keeping the rows. */
export class CopyWriter {
  #buf: Uint8Array;
  #pos = 0;
  #count = 0;

  constructor(initialBytes = 1 << 20) {
    this.#buf = new Uint8Array(initialBytes);
  }

  row(row: Row): void {
    const line = copyLine(row);
    for (;;) {
      const r = utf8.encodeInto(line, this.#buf.subarray(this.#pos));
      if (r.read === line.length) {
        this.#pos += r.written;
        break;
      }
      const bigger = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos + line.length * 3));
      bigger.set(this.#buf.subarray(0, this.#pos));
      this.#buf = bigger;
    }
    this.#count++;
  }

  /** The text so far (a view on this writer's own buffer: transferable between threads). */
  finish(): EncodedRows {
    return { copy: this.#buf.subarray(0, this.#pos), count: this.#count };
  }
}

/** The rows as COPY text, UTF-8 (a fresh buffer: it can be transferred between threads). */
export function copyText(rows: RowSet): EncodedRows {
  if (isEncoded(rows)) return rows;
  return { copy: utf8.encode(copyString(rows)), count: rows.length };
}

export function copyString(rows: readonly Row[]): string {
  let data = '';
  for (const row of rows) data += copyLine(row);
  return data;
}

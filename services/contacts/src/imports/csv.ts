import { parse, type Options, type Parser } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { cellDecoder, type TextEncodingName } from './encoding';

/**
 * CSV reading for imports. The parser works on the raw bytes read as latin1 (one character per byte):
 * delimiters, quotes and line ends are ASCII in both UTF-8 and Windows-1251, so records split exactly
 * as in the decoded text, the parser's `info.bytes` is the byte offset in the file (the checkpoint a
 * restart resumes from), and each cell is decoded afterwards (cellDecoder).
 */
export const MAX_RECORD_BYTES = 1024 * 1024;
export const DELIMITERS = [',', ';', '\t'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

export function isDelimiter(d: string): d is Delimiter {
  return (DELIMITERS as readonly string[]).includes(d);
}

export function parserOptions(delimiter: Delimiter): Options {
  return {
    encoding: 'latin1',
    delimiter,
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_BYTES,
    info: true,
  };
}

export function createParser(delimiter: Delimiter): Parser {
  return parse(parserOptions(delimiter));
}

/** A record as the parser yields it with `info: true`. */
export interface ParsedRecord {
  record: string[];
  info: { bytes: number; records: number };
}

/** The row a parser error names (1-based, counting the header line), given the records read before it. */
export function errorRow(err: unknown, recordsBefore: number): number {
  const records = (err as { records?: unknown }).records;
  return recordsBefore + (typeof records === 'number' ? records : 0) + 1;
}

/** A parser error as a person reads it. */
export function describeParseError(err: unknown, row: number): string {
  const code = (err as { code?: string }).code;
  if (code === 'CSV_MAX_RECORD_SIZE') return `row ${row} is over ${MAX_RECORD_BYTES} bytes (1 MiB): a cell that large is not contact data`;
  if (code === 'CSV_QUOTE_NOT_CLOSED') return `row ${row}: a quoted cell is never closed`;
  if (code === 'CSV_INVALID_CLOSING_QUOTE' || code === 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE') return `row ${row}: a quote inside a cell is not doubled ("")`;
  return `row ${row}: the CSV cannot be read (${code ?? (err as Error).message})`;
}

/**
 * The separator: of `,` `;` and tab, the one that splits the first lines (up to 50 complete ones) into a
 * consistent number of columns, more than one; among those the one giving the most columns (ties: the
 * order `;` `,` tab, since a `;` file often has commas inside names). When none is consistent, the one
 * whose most frequent column count covers most lines; `,` when nothing splits at all.
 */
export function detectDelimiter(prefixLatin1: string): Delimiter {
  const cut = prefixLatin1.lastIndexOf('\n');
  const text = cut > 0 ? prefixLatin1.slice(0, cut + 1) : prefixLatin1;
  const scored: { d: Delimiter; consistent: boolean; columns: number; share: number }[] = [];
  for (const d of [';', ',', '\t'] as const) {
    let rows: string[][];
    try {
      rows = parseSync(text, { ...parserOptions(d), info: false, to_line: 50 }) as string[][];
    } catch {
      continue;
    }
    if (rows.length === 0) continue;
    const counts = new Map<number, number>();
    for (const r of rows) counts.set(r.length, (counts.get(r.length) ?? 0) + 1);
    let modal = 0;
    let modalCount = 0;
    for (const [n, c] of counts) if (c > modalCount || (c === modalCount && n > modal)) [modal, modalCount] = [n, c];
    scored.push({ d, consistent: counts.size === 1 && modal > 1, columns: modal, share: modal > 1 ? modalCount / rows.length : 0 });
  }
  const consistent = scored.filter((s) => s.consistent).sort((a, b) => b.columns - a.columns);
  if (consistent.length) return consistent[0]!.d;
  const best = scored.filter((s) => s.share > 0).sort((a, b) => b.share - a.share || b.columns - a.columns);
  return best.length ? best[0]!.d : ',';
}

/** The first records of a prefix, decoded (for the analysis' sample). */
export function sampleRecords(prefixLatin1: string, delimiter: Delimiter, encoding: TextEncodingName, count: number): Promise<string[][]> {
  const decode = cellDecoder(encoding);
  const rows: string[][] = [];
  const parser = parse({ ...parserOptions(delimiter), info: false, to: count });
  return new Promise<string[][]>((resolve) => {
    parser.on('readable', () => {
      let r: string[] | null;
      while ((r = parser.read() as string[] | null) !== null) if (rows.length < count) rows.push(r.map(decode));
    });
    // The prefix may end inside a record: what was read before is the sample.
    parser.on('error', () => resolve(rows));
    parser.on('end', () => resolve(rows));
    parser.end(Buffer.from(prefixLatin1, 'latin1'));
  });
}

/**
 * Counts the records of a file fed chunk by chunk, as the parser splits them (a quote toggles quoting, so
 * `""` inside a quoted cell is two toggles; CR, LF and CRLF end a record outside quotes; empty lines are
 * not records), their largest column count, and the first record over MAX_RECORD_BYTES — a byte loop,
 * ~50× faster than parsing, so the analysis of a 64 MB file stays within a call's deadline. A malformed
 * quote the parser would refuse is found by the job, which fails the import naming the row.
 */
export class RecordScanner {
  records = 0;
  columns = 0;
  /** The row (1-based) of the first record over MAX_RECORD_BYTES; 0 when none. */
  oversizeRow = 0;
  private inQuotes = false;
  private length = 0;
  private fields = 1;
  private readonly delimiter: number;

  constructor(delimiter: Delimiter) {
    this.delimiter = delimiter.charCodeAt(0);
  }

  feed(chunk: Uint8Array): void {
    if (this.oversizeRow) return;
    const d = this.delimiter;
    let inQuotes = this.inQuotes;
    let length = this.length;
    let fields = this.fields;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === 0x22) {
        inQuotes = !inQuotes;
      } else if (!inQuotes && (b === 0x0a || b === 0x0d)) {
        if (length > 0) {
          this.records++;
          if (fields > this.columns) this.columns = fields;
        }
        length = 0;
        fields = 1;
        continue;
      } else if (!inQuotes && b === d) {
        fields++;
      }
      if (++length > MAX_RECORD_BYTES) {
        this.oversizeRow = this.records + 1;
        return;
      }
    }
    this.inQuotes = inQuotes;
    this.length = length;
    this.fields = fields;
  }

  /** Ends the file; the reason it cannot be imported, or null. */
  end(): string | null {
    if (this.oversizeRow) return `row ${this.oversizeRow} is over ${MAX_RECORD_BYTES} bytes (1 MiB): a cell that large is not contact data`;
    if (this.inQuotes) return `row ${this.records + 1}: a quoted cell is never closed`;
    if (this.length > 0) {
      this.records++;
      if (this.fields > this.columns) this.columns = this.fields;
      this.length = 0;
    }
    return null;
  }
}

import { isCountry } from '@crm/contact-points';
import type {
  AnalyseImportRequest,
  AnalyseImportResponse,
  AppendImportChunkRequest,
  CreateImportRequest,
  ImportError,
  ListImportErrorsRequest,
  ListImportsRequest,
  SampleRow,
  StartImportRequest,
} from '@crm/contracts/crm/contacts/v1/imports';
import { uuidv7, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError, ValidationError } from '@crm/errors';
import type { CountryCode } from 'libphonenumber-js';
import { decodeKeyset, page, pageSize, tsKeySql, TS_KEY_RE } from '../cards/keyset';
import type { ContactsEnv } from '../config';
import { detectDelimiter, isDelimiter, RecordScanner, sampleRecords, type Delimiter } from './csv';
import { EncodingDetector, NEITHER, type TextEncodingName } from './encoding';
import { suggestMapping, validateMapping } from './mapping';
import { exec } from './sql';
import { importMessage, loadImport, readFile, type ImportRow } from './store';

export const CHUNK_MAX = 1024 * 1024;
export const IMPORTS_CHANNEL = 'contacts_imports';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PREFIX_BYTES = 64 * 1024;
const SAMPLE_ROWS = 10;
const ERRORS_PAGE_MAX = 100;

function importId(raw: string, field = 'import_id'): string {
  if (!UUID_RE.test(raw)) throw new ValidationError('invalid import id', [{ field, message: 'must be a UUID' }]);
  return raw.toLowerCase();
}

function precondition(message: string, details: Record<string, unknown> = {}): DomainError {
  return new DomainError('FAILED_PRECONDITION', message, { details });
}

/** The upload, analysis and control of CSV imports (the job itself runs in ImportRunner). */
export class ImportsService {
  constructor(
    private readonly orm: MikroORM,
    private readonly env: Pick<ContactsEnv, 'CONTACTS_DEFAULT_COUNTRY' | 'CONTACTS_IMPORT_MAX_BYTES'>,
  ) {}

  async create(tenantId: string, callerId: string, req: CreateImportRequest): Promise<ImportRow> {
    const violations = [];
    const fileName = req.fileName.trim();
    // eslint-disable-next-line no-control-regex
    if (!fileName || [...fileName].length > 255 || /[\u0000-\u001f\u007f]/.test(fileName)) {
      violations.push({ field: 'file_name', message: 'must be 1..255 characters without control characters' });
    }
    const size = Number(req.sizeBytes);
    if (!Number.isSafeInteger(size) || size < 1) violations.push({ field: 'size_bytes', message: 'must be a positive number of bytes' });
    const country = (req.defaultCountry || this.env.CONTACTS_DEFAULT_COUNTRY).trim().toUpperCase();
    if (!isCountry(country)) violations.push({ field: 'default_country', message: 'must be a supported ISO 3166-1 alpha-2 country code' });
    if (violations.length) throw new ValidationError('invalid import', violations);
    const max = this.env.CONTACTS_IMPORT_MAX_BYTES;
    if (size > max) {
      throw new DomainError('RESOURCE_EXHAUSTED', `the file is ${size} bytes; at most ${max} bytes can be imported (split it into smaller files)`, {
        details: { size_bytes: size, max_bytes: max },
        violations: [{ field: 'size_bytes', message: `must be at most ${max}` }],
      });
    }
    const rows = await this.orm.em.fork().execute<ImportRow[]>(
      `INSERT INTO imports (id, tenant_id, status, file_name, size_bytes, default_country, created_by, created_at)
       VALUES (?, ?, 'uploading', ?, ?, ?, ?, now()) RETURNING *`,
      [uuidv7(), tenantId, fileName, size, country, callerId],
    );
    return rows[0]!;
  }

  /** Idempotent by seq: the same chunk again is a no-op; chunks arrive in order; never past size_bytes. */
  async append(tenantId: string, req: AppendImportChunkRequest): Promise<number> {
    const id = importId(req.importId);
    const data = Buffer.from(req.data);
    if (!Number.isInteger(req.seq) || req.seq < 0) throw new ValidationError('invalid chunk', [{ field: 'seq', message: 'must be 0 or more' }]);
    if (data.length < 1 || data.length > CHUNK_MAX) throw new ValidationError('invalid chunk', [{ field: 'data', message: `must be 1..${CHUNK_MAX} bytes` }]);
    return this.orm.em.fork().transactional(async (em) => {
      const row = await loadImport(em, tenantId, id, true);
      if (!row) throw new NotFoundError('import', id);
      const [existing] = await em.execute<{ data: Buffer }[]>('SELECT data FROM import_chunks WHERE import_id = ? AND seq = ?', [id, req.seq]);
      if (existing) {
        if (Buffer.compare(existing.data, data) !== 0) throw precondition(`chunk ${req.seq} was already received with different content`, { seq: req.seq });
        return Number(row.received_bytes);
      }
      if (row.status !== 'uploading') throw precondition(`the import is ${row.status}; chunks are accepted only while uploading`, { status: row.status });
      const [{ n }] = await em.execute<{ n: number }[]>('SELECT count(*)::int AS n FROM import_chunks WHERE import_id = ?', [id]);
      if (req.seq !== n) throw precondition(`chunk ${req.seq} is out of order: chunk ${n} is expected next`, { expected_seq: n });
      const received = Number(row.received_bytes) + data.length;
      if (received > Number(row.size_bytes)) {
        throw new ValidationError(`the chunk would make ${received} bytes, more than the declared size_bytes ${row.size_bytes}`, [
          { field: 'data', message: `at most ${Number(row.size_bytes) - Number(row.received_bytes)} more bytes` },
        ]);
      }
      // The 1 MiB parameter goes as a parameter, not inlined into the SQL text (see ./sql.ts).
      await exec(em, 'INSERT INTO import_chunks (import_id, seq, data) VALUES (?, ?, ?)', [id, req.seq, data]);
      await em.execute('UPDATE imports SET received_bytes = ? WHERE id = ?', [received, id]);
      return received;
    });
  }

  /** Marks the import failed with the reason and returns the INVALID_ARGUMENT to throw. */
  private async fail(id: string, reason: string, violations: { field: string; message: string }[]): Promise<DomainError> {
    await this.orm.em.fork().transactional(async (em) => {
      const failed = await em.execute<{ id: string }[]>(
        `UPDATE imports SET status = 'failed', error = ?, finished_at = now() WHERE id = ? AND status IN ('uploading','analysed') RETURNING id`,
        [reason, id],
      );
      if (failed.length) await em.execute('DELETE FROM import_chunks WHERE import_id = ?', [id]);
    });
    return new ValidationError(reason, violations);
  }

  async analyse(tenantId: string, req: AnalyseImportRequest): Promise<AnalyseImportResponse> {
    const id = importId(req.importId);
    const encodingOverride = req.encoding.trim().toLowerCase().replace(/^cp-?1251$/, 'windows-1251');
    if (encodingOverride && encodingOverride !== 'utf-8' && encodingOverride !== 'windows-1251') {
      throw new ValidationError('invalid encoding', [{ field: 'encoding', message: 'must be empty (detect), utf-8 or windows-1251' }]);
    }
    if (req.delimiter && !isDelimiter(req.delimiter)) {
      throw new ValidationError('invalid delimiter', [{ field: 'delimiter', message: 'must be empty (detect), ",", ";" or a tab' }]);
    }
    const hasHeader = req.hasHeader ?? true;
    const before = await loadImport(this.orm.em.fork(), tenantId, id);
    if (!before) throw new NotFoundError('import', id);
    if (before.status !== 'uploading' && before.status !== 'analysed') throw precondition(`the import is ${before.status}; only an uploaded file can be analysed`, { status: before.status });
    if (Number(before.received_bytes) !== Number(before.size_bytes)) {
      throw precondition(`the upload is incomplete: ${before.received_bytes} of ${before.size_bytes} bytes received`, {
        received_bytes: Number(before.received_bytes),
        size_bytes: Number(before.size_bytes),
      });
    }

    // One pass over the file: the encoding rule sees every byte; the record scanner (once the prefix
    // fixed the separator) counts the records and finds one over 1 MiB.
    const detector = new EncodingDetector();
    const prefixParts: Buffer[] = [];
    let prefixLength = 0;
    let delimiter: Delimiter | undefined;
    let scanner: RecordScanner | undefined;
    let bom = 0;
    const startScanner = () => {
      const prefix = Buffer.concat(prefixParts);
      bom = prefix[0] === 0xef && prefix[1] === 0xbb && prefix[2] === 0xbf ? 3 : 0;
      delimiter = req.delimiter ? (req.delimiter as Delimiter) : detectDelimiter(prefix.subarray(bom).toString('latin1'));
      scanner = new RecordScanner(delimiter);
      scanner.feed(prefix.subarray(bom));
    };
    for await (const chunk of readFile(this.orm, id)) {
      detector.feed(chunk);
      if (scanner) {
        scanner.feed(chunk);
      } else {
        prefixParts.push(chunk);
        prefixLength += chunk.length;
        if (prefixLength >= PREFIX_BYTES) startScanner();
      }
    }
    if (!scanner) startScanner();
    const unreadable = scanner!.end();
    const records = scanner!.records;
    const columns = scanner!.columns;

    const verdict = detector.verdict();
    let encoding: TextEncodingName;
    if (!verdict.ok) {
      throw await this.fail(id, verdict.reason, [{ field: 'file', message: NEITHER }]);
    } else if (encodingOverride === 'utf-8' && verdict.encoding !== 'utf-8') {
      throw new ValidationError('the file is not valid UTF-8: analyse it as windows-1251 or leave the encoding empty', [{ field: 'encoding', message: 'the file is not valid UTF-8' }]);
    } else {
      encoding = (encodingOverride || verdict.encoding) as TextEncodingName;
    }
    if (unreadable) throw await this.fail(id, unreadable, [{ field: 'file', message: unreadable }]);
    if (records === 0) throw await this.fail(id, 'the file has no rows', [{ field: 'file', message: 'has no rows' }]);

    const prefix = Buffer.concat(prefixParts).subarray(bom).toString('latin1');
    const first = await sampleRecords(prefix, delimiter!, encoding, SAMPLE_ROWS + 1);
    const header = hasHeader ? (first[0] ?? []).map((h) => h.trim()) : null;
    const body = hasHeader ? first.slice(1) : first.slice(0, SAMPLE_ROWS);
    const sample: SampleRow[] = body.slice(0, SAMPLE_ROWS).map((cells, i) => ({ rowNumber: i + 1 + (hasHeader ? 1 : 0), cells }));
    const totalRows = records - (hasHeader ? 1 : 0);

    const updated = await this.orm.em.fork().transactional(async (em) => {
      const row = await loadImport(em, tenantId, id, true);
      if (!row) throw new NotFoundError('import', id);
      if (row.status !== 'uploading' && row.status !== 'analysed') throw precondition(`the import is ${row.status}; only an uploaded file can be analysed`, { status: row.status });
      const rows = await em.execute<ImportRow[]>(
        `UPDATE imports SET status = 'analysed', encoding = ?, delimiter = ?, has_header = ?, header = ?::jsonb, total_rows = ?, checkpoint = ?::jsonb, error = NULL
         WHERE id = ? RETURNING *`,
        [encoding, delimiter, hasHeader, header ? JSON.stringify(header) : null, totalRows, JSON.stringify({ row: 0, byte: bom, bom, columns }), id],
      );
      return rows[0]!;
    });
    return {
      import: importMessage(updated),
      sample,
      suggestedMapping: suggestMapping(header, body, columns, updated.default_country as CountryCode),
    };
  }

  /** Sets the mapping and queues the job (a dry run, or the real import; a dry run's import may be started again). */
  async start(tenantId: string, req: StartImportRequest): Promise<ImportRow> {
    const id = importId(req.importId);
    return this.orm.em.fork().transactional(async (em) => {
      const row = await loadImport(em, tenantId, id, true);
      if (!row) throw new NotFoundError('import', id);
      const rerun = row.status === 'done' && row.dry_run;
      if (row.status !== 'analysed' && !rerun) throw precondition(`the import is ${row.status}; start it after AnalyseImport (or again after a dry run)`, { status: row.status });
      const columns = row.checkpoint?.columns ?? 0;
      const mapping = validateMapping(req.mapping, columns);
      const bom = row.checkpoint?.bom ?? 0;
      await em.execute('DELETE FROM import_errors WHERE import_id = ?', [id]);
      const rows = await em.execute<ImportRow[]>(
        `UPDATE imports SET status = 'running', mapping = ?::jsonb, dry_run = ?, processed_rows = 0, created_count = 0, duplicate_count = 0,
           invalid_count = 0, bytes_processed = 0, checkpoint = ?::jsonb, lease_owner = NULL, lease_until = NULL, error = NULL,
           started_at = now(), finished_at = NULL
         WHERE id = ? RETURNING *`,
        [JSON.stringify(mapping), req.dryRun, JSON.stringify({ row: 0, byte: bom, bom, columns }), id],
      );
      await em.execute(`SELECT pg_notify('${IMPORTS_CHANNEL}', ?)`, [id]);
      return rows[0]!;
    });
  }

  async get(tenantId: string, rawId: string): Promise<ImportRow> {
    const id = importId(rawId, 'id');
    const row = await loadImport(this.orm.em.fork(), tenantId, id);
    if (!row) throw new NotFoundError('import', id);
    return row;
  }

  /** Newest first, keyset-paginated. */
  async list(tenantId: string, req: ListImportsRequest): Promise<{ items: ImportRow[]; nextCursor: string }> {
    const size = pageSize(req.pageSize);
    const after = req.cursor ? decodeKeyset('imports', req.cursor, TS_KEY_RE) : null;
    const rows = await this.orm.em.fork().execute<(ImportRow & { k: string })[]>(
      `SELECT *, ${tsKeySql('created_at')} AS k FROM imports WHERE tenant_id = ?
       ${after ? `AND (created_at, id) < (?::timestamptz, ?::uuid)` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      after ? [tenantId, after.key, after.id, size + 1] : [tenantId, size + 1],
    );
    return page(rows, size, 'imports', (r) => ({ key: r.k, id: r.id }));
  }

  async errors(tenantId: string, req: ListImportErrorsRequest): Promise<{ errors: ImportError[]; total: number; nextAfterRow: number }> {
    const id = importId(req.importId);
    const n = req.pageSize ?? 0;
    if (!Number.isInteger(n) || n < 0 || n > ERRORS_PAGE_MAX) {
      throw new ValidationError(`page_size must be 1..${ERRORS_PAGE_MAX} (0 means 25)`, [{ field: 'page_size', message: `must be 0..${ERRORS_PAGE_MAX}` }]);
    }
    if (!Number.isInteger(req.afterRow) || req.afterRow < 0) throw new ValidationError('invalid after_row', [{ field: 'after_row', message: 'must be 0 or more' }]);
    const size = n || 25;
    const em = this.orm.em.fork();
    const row = await loadImport(em, tenantId, id);
    if (!row) throw new NotFoundError('import', id);
    const rows = await em.execute<{ row_number: number; reason: string }[]>(
      'SELECT row_number, reason FROM import_errors WHERE import_id = ? AND row_number > ? ORDER BY row_number LIMIT ?',
      [id, req.afterRow, size + 1],
    );
    const items = rows.slice(0, size);
    return {
      errors: items.map((r) => ({ rowNumber: r.row_number, reason: r.reason })),
      total: row.invalid_count,
      nextAfterRow: rows.length > size ? items[items.length - 1]!.row_number : 0,
    };
  }

  /** Stops an upload or a job; rows already written stay. Cancelling a cancelled import is a no-op. */
  async cancel(tenantId: string, rawId: string): Promise<ImportRow> {
    const id = importId(rawId, 'id');
    return this.orm.em.fork().transactional(async (em) => {
      const row = await loadImport(em, tenantId, id, true);
      if (!row) throw new NotFoundError('import', id);
      if (row.status === 'cancelled') return row;
      if (row.status === 'done' || row.status === 'failed') throw precondition(`the import is already ${row.status}`, { status: row.status });
      await em.execute('DELETE FROM import_chunks WHERE import_id = ?', [id]);
      const rows = await em.execute<ImportRow[]>(
        `UPDATE imports SET status = 'cancelled', lease_owner = NULL, lease_until = NULL, finished_at = now() WHERE id = ? RETURNING *`,
        [id],
      );
      return rows[0]!;
    });
  }
}


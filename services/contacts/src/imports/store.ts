import { ImportStatus, type Import } from '@crm/contracts/crm/contacts/v1/imports';
import type { EntityManager, MikroORM } from '@crm/db';
import type { Delimiter } from './csv';
import type { TextEncodingName } from './encoding';
import { mappingToProto, type Mapping } from './mapping';

/** The imports table as the import code reads it (raw SQL, snake_case columns). */
export type ImportState = 'uploading' | 'analysed' | 'running' | 'done' | 'failed' | 'cancelled';

export interface Checkpoint {
  /** Records consumed so far, the header included (the next record is row `row + 1`). */
  row: number;
  /** Byte offset in the file where the next record starts. */
  byte: number;
}

export interface ImportRow {
  id: string;
  tenant_id: string;
  status: ImportState;
  file_name: string;
  size_bytes: string | number;
  received_bytes: string | number;
  default_country: string;
  encoding: TextEncodingName | null;
  delimiter: Delimiter | null;
  has_header: boolean;
  header: string[] | null;
  mapping: Mapping | null;
  dry_run: boolean;
  total_rows: number;
  processed_rows: number;
  created_count: number;
  duplicate_count: number;
  invalid_count: number;
  bytes_processed: string | number;
  checkpoint: (Checkpoint & { bom?: number; columns?: number }) | null;
  lease_owner: string | null;
  lease_until: Date | null;
  error: string | null;
  created_by: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const STATUS: Record<ImportState, ImportStatus> = {
  uploading: ImportStatus.IMPORT_STATUS_UPLOADING,
  analysed: ImportStatus.IMPORT_STATUS_ANALYSED,
  running: ImportStatus.IMPORT_STATUS_RUNNING,
  done: ImportStatus.IMPORT_STATUS_DONE,
  failed: ImportStatus.IMPORT_STATUS_FAILED,
  cancelled: ImportStatus.IMPORT_STATUS_CANCELLED,
};

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : '');

export function importMessage(row: ImportRow, now = new Date()): Import {
  const size = Number(row.size_bytes);
  const bytes = Number(row.bytes_processed);
  const percent = row.status === 'done' ? 100 : size > 0 ? Math.min(100, Math.floor((bytes * 100) / size)) : 0;
  let rowsPerSecond = 0;
  if (row.started_at && row.processed_rows > 0) {
    const end = row.finished_at ? new Date(row.finished_at) : now;
    const seconds = Math.max(0.001, (end.getTime() - new Date(row.started_at).getTime()) / 1000);
    rowsPerSecond = Math.round((row.processed_rows / seconds) * 10) / 10;
  }
  const header = row.header ?? [];
  const columns = row.checkpoint?.columns ?? header.length;
  return {
    id: row.id,
    status: STATUS[row.status],
    fileName: row.file_name,
    sizeBytes: size,
    encoding: row.encoding ?? '',
    delimiter: row.delimiter ?? '',
    hasHeader: row.has_header,
    header,
    mapping: row.mapping ? mappingToProto(row.mapping, columns) : [],
    dryRun: row.dry_run,
    counts: {
      totalRows: row.total_rows,
      processedRows: row.processed_rows,
      created: row.created_count,
      duplicates: row.duplicate_count,
      invalid: row.invalid_count,
      bytesProcessed: bytes,
    },
    percent,
    rowsPerSecond,
    error: row.error ?? '',
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    defaultCountry: row.default_country,
  };
}

type Executor = Pick<EntityManager, 'execute'>;

/**
 * The uploaded file's bytes from `fromByte` on, chunk by chunk in seq order: one chunk in memory at a
 * time. Chunk sizes come from octet_length (read from the TOAST pointer, the data is not fetched).
 */
export async function* readFile(orm: MikroORM, importId: string, fromByte = 0): AsyncGenerator<Buffer> {
  const em = orm.em.fork();
  const sizes = await em.execute<{ seq: number; len: number }[]>('SELECT seq, octet_length(data)::int AS len FROM import_chunks WHERE import_id = ? ORDER BY seq', [importId]);
  let offset = 0;
  for (const { seq, len } of sizes) {
    const end = offset + len;
    if (end > fromByte) {
      const skip = Math.max(0, fromByte - offset);
      const [chunk] = await em.execute<{ data: Buffer }[]>(
        skip > 0 ? 'SELECT substring(data FROM ?::int) AS data FROM import_chunks WHERE import_id = ? AND seq = ?' : 'SELECT data FROM import_chunks WHERE import_id = ? AND seq = ?',
        skip > 0 ? [skip + 1, importId, seq] : [importId, seq],
      );
      if (chunk) yield chunk.data;
    }
    offset = end;
  }
}

export async function loadImport(em: Executor, tenantId: string, id: string, forUpdate = false): Promise<ImportRow | undefined> {
  const rows = await em.execute<ImportRow[]>(`SELECT * FROM imports WHERE id = ? AND tenant_id = ?${forUpdate ? ' FOR UPDATE' : ''}`, [id, tenantId]);
  return rows[0];
}

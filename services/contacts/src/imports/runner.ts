import type { MikroORM } from '@crm/db';
import type { Logger } from '@crm/logger';
import type { Worker } from '@crm/service';
import type { CountryCode } from 'libphonenumber-js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Readable } from 'node:stream';
import { Client } from 'pg';
import { prepareRows, processBatch, type PreparedRows } from './batch';
import { createParser, describeParseError, errorRow, type ParsedRecord } from './csv';
import { cellDecoder } from './encoding';
import { IMPORTS_CHANNEL } from './imports.service';
import { readFile, type Checkpoint, type ImportRow } from './store';

export interface ImportRunnerOptions {
  orm: MikroORM;
  databaseUrl: string;
  logger: Logger;
  /** Rows per transaction (default 1000). */
  batchRows?: number;
  /** How often running imports with an expired lease are looked for (default 1000 ms). */
  pollMs?: number;
  /** How long a claim lasts without a committed batch (default 15 s). */
  leaseSeconds?: number;
}

/** The batch's transaction found the import no longer ours (cancelled, or the lease taken over). */
class LeaseLost extends Error {}

/**
 * Runs imports: claims one `running` import at a time with a lease (FOR UPDATE SKIP LOCKED, so
 * replicas never share one), wakes on NOTIFY from StartImport and polls every second for leases that
 * expired (a replica that died). Each batch of rows commits with the import's checkpoint (row and byte
 * offset), counts and a renewed lease in one transaction, so a restart resumes exactly after the last
 * committed row: no row twice, no contact twice.
 */
export class ImportRunner implements Worker {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly batchRows: number;
  private readonly pollMs: number;
  private readonly leaseSeconds: number;
  private listener: Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private again = false;
  private stopping = false;
  private current: string | undefined;

  constructor(private readonly opts: ImportRunnerOptions) {
    this.batchRows = opts.batchRows ?? 1000;
    this.pollMs = opts.pollMs ?? 1000;
    this.leaseSeconds = opts.leaseSeconds ?? 15;
  }

  async start(): Promise<void> {
    await this.listen().catch((err: unknown) => this.opts.logger.warn({ err }, 'import runner: LISTEN failed; polling only'));
    this.timer = setInterval(() => {
      if (!this.listener) void this.listen().catch(() => undefined);
      this.wake();
    }, this.pollMs);
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.loop;
    const l = this.listener;
    this.listener = undefined;
    await l?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    if (this.stopping) return;
    const client = new Client({ connectionString: this.opts.databaseUrl, keepAlive: true });
    client.on('error', (err) => {
      this.opts.logger.warn({ err }, 'import runner: LISTEN connection lost');
      if (this.listener === client) this.listener = undefined;
      void client.end().catch(() => undefined);
    });
    client.on('notification', () => this.wake());
    await client.connect();
    await client.query(`LISTEN ${IMPORTS_CHANNEL}`);
    if (this.stopping) {
      await client.end();
      return;
    }
    this.listener = client;
  }

  private wake(): void {
    if (this.stopping) return;
    if (this.loop) {
      this.again = true;
      return;
    }
    this.loop = (async () => {
      do {
        this.again = false;
        try {
          for (let job = await this.claim(); job && !this.stopping; job = await this.claim()) await this.run(job);
        } catch (err) {
          this.opts.logger.warn({ err }, 'import runner: claim failed');
        }
      } while (this.again && !this.stopping);
    })().finally(() => (this.loop = undefined));
  }

  private async claim(): Promise<ImportRow | undefined> {
    if (this.stopping) return undefined;
    const rows = await this.opts.orm.em.fork().execute<ImportRow[]>(
      `UPDATE imports SET lease_owner = ?, lease_until = now() + make_interval(secs => ?)
       WHERE id = (SELECT id FROM imports WHERE status = 'running' AND (lease_until IS NULL OR lease_until < now())
                   ORDER BY started_at, id FOR UPDATE SKIP LOCKED LIMIT 1)
       RETURNING *`,
      [this.owner, this.leaseSeconds],
    );
    return rows[0];
  }

  /** Updates the import only while this runner holds it; false when it no longer does. */
  private async fenced(id: string, set: string, params: unknown[] = []): Promise<boolean> {
    const rows = await this.opts.orm.em
      .fork()
      .execute<{ id: string }[]>(`UPDATE imports SET ${set} WHERE id = ? AND lease_owner = ? AND status = 'running' RETURNING id`, [...params, id, this.owner]);
    return rows.length > 0;
  }

  private async run(job: ImportRow): Promise<void> {
    const log = this.opts.logger.child({ importId: job.id, tenantId: job.tenant_id });
    this.current = job.id;
    try {
      if (job.dry_run && job.processed_rows > 0) {
        // A dry run keeps its in-file dedup in memory: taken over half-way, it starts again from the top.
        const bom = job.checkpoint?.bom ?? 0;
        await this.opts.orm.em.fork().transactional(async (em) => {
          await em.execute('DELETE FROM import_errors WHERE import_id = ?', [job.id]);
          await em.execute(
            `UPDATE imports SET processed_rows = 0, created_count = 0, duplicate_count = 0, invalid_count = 0, bytes_processed = 0,
               checkpoint = jsonb_set(jsonb_set(checkpoint, '{row}', '0'), '{byte}', to_jsonb(?::int)) WHERE id = ? AND lease_owner = ?`,
            [bom, job.id, this.owner],
          );
        });
        job = { ...job, processed_rows: 0, created_count: 0, duplicate_count: 0, invalid_count: 0, checkpoint: { ...job.checkpoint!, row: 0, byte: bom } };
      }
      log.info({ checkpoint: job.checkpoint, dryRun: job.dry_run }, 'import claimed');
      await this.process(job);
    } catch (err) {
      if (err instanceof LeaseLost) {
        log.info('import no longer held (cancelled or taken over)');
        return;
      }
      log.warn({ err }, 'import batch failed; releasing it for a retry');
      await this.fenced(job.id, 'lease_owner = NULL, lease_until = NULL').catch(() => undefined);
      await new Promise((r) => setTimeout(r, this.pollMs).unref());
    } finally {
      this.current = undefined;
    }
  }

  private async process(job: ImportRow): Promise<void> {
    const start: Checkpoint = { row: job.checkpoint?.row ?? 0, byte: job.checkpoint?.byte ?? 0 };
    const decode = cellDecoder(job.encoding ?? 'utf-8');
    const seen = job.dry_run ? new Set<string>() : undefined;
    let errorsBefore = job.invalid_count;
    const source = Readable.from(readFile(this.opts.orm, job.id, start.byte));
    const parser = createParser(job.delimiter ?? ',');
    source.on('error', (err) => parser.destroy(err));
    source.pipe(parser);
    let batch: { rowNumber: number; cells: string[] }[] = [];
    let at: Checkpoint = start;
    const mapping = job.mapping ?? [];
    const country = job.default_country as CountryCode;

    const commit = async (rows: PreparedRows, ck: Checkpoint) => {
      await this.opts.orm.em.fork().transactional(async (em) => {
        const counts = await processBatch(em, { importId: job.id, tenantId: job.tenant_id, createdBy: job.created_by, dryRun: job.dry_run, rows, errorsBefore, seen });
        const updated = await em.execute<{ invalid_count: number }[]>(
          `UPDATE imports SET processed_rows = processed_rows + ?, created_count = created_count + ?, duplicate_count = duplicate_count + ?,
             invalid_count = invalid_count + ?, bytes_processed = ?, checkpoint = checkpoint || ?::jsonb, lease_until = now() + make_interval(secs => ?)
           WHERE id = ? AND lease_owner = ? AND status = 'running' RETURNING invalid_count`,
          [counts.processed, counts.created, counts.duplicates, counts.invalid, ck.byte, JSON.stringify(ck), this.leaseSeconds, job.id, this.owner],
        );
        if (!updated.length) throw new LeaseLost();
        errorsBefore = updated[0]!.invalid_count;
      });
    };
    // One batch commits while the next is parsed and converted (CPU work overlapping the database's):
    // commits stay strictly in order, at most two batches are in memory.
    let pending: Promise<void> = Promise.resolve();
    let failed: unknown;
    const flush = (): Promise<void> => {
      const rows = prepareRows(batch, mapping, country);
      const ck = at;
      batch = [];
      const previous = pending;
      pending = previous.then(() => commit(rows, ck));
      pending.catch((err: unknown) => (failed ??= err));
      return previous;
    };

    try {
      for await (const rec of parser as AsyncIterable<ParsedRecord>) {
        if (this.stopping || failed) break;
        at = { row: start.row + rec.info.records, byte: start.byte + rec.info.bytes };
        if (at.row === 1 && job.has_header) continue;
        batch.push({ rowNumber: at.row, cells: rec.record.map(decode) });
        if (batch.length >= this.batchRows) await flush().catch(() => undefined);
      }
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('CSV_')) {
        // Rows before the bad one are committed; the import stops with the reason.
        const reason = describeParseError(err, errorRow(err, start.row));
        if (batch.length) void flush();
        await pending;
        await this.fenced(job.id, `status = 'failed', error = ?, finished_at = now(), lease_owner = NULL, lease_until = NULL`, [reason]);
        this.opts.logger.warn({ importId: job.id, reason }, 'import failed');
        return;
      }
      await pending.catch(() => undefined);
      throw err;
    } finally {
      source.destroy();
      parser.destroy();
    }
    if (this.stopping || failed) {
      await pending;
      await this.fenced(job.id, 'lease_owner = NULL, lease_until = NULL');
      return;
    }
    if (batch.length) void flush();
    await pending;
    await this.opts.orm.em.fork().transactional(async (em) => {
      const done = await em.execute<{ id: string }[]>(
        `UPDATE imports SET status = 'done', finished_at = now(), bytes_processed = size_bytes, lease_owner = NULL, lease_until = NULL
         WHERE id = ? AND lease_owner = ? AND status = 'running' RETURNING id`,
        [job.id, this.owner],
      );
      if (!done.length) throw new LeaseLost();
      if (!job.dry_run) await em.execute('DELETE FROM import_chunks WHERE import_id = ?', [job.id]);
    });
    this.opts.logger.info({ importId: job.id }, 'import done');
  }
}

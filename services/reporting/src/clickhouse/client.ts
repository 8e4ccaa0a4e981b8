/**
 * A thin wrapper over `@clickhouse/client` that only accepts `Sql` built by ./sql (no query
 * parameters: ClickHouse 18.16, used in tests, has none). Checked against 18.16: `command`, `query`
 * with `JSONEachRow` and `insert` with `JSONEachRow` work; the client sends no settings by default.
 * Per-query settings go as URL parameters (18.16 cannot parse a `SETTINGS` clause after SELECT).
 */
import { createClient, ClickHouseLogLevel, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { DomainError } from '@crm/errors';
import { tracer } from '@crm/telemetry';
import { ident, sql, type Sql } from './sql';

export interface ClickHouseOptions {
  /** HTTP interface, e.g. http://127.0.0.1:8123 (credentials may be in the URL). */
  url: string;
  /** Database the queries run in; omit for `default` (used to create the service's database). */
  database?: string;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
}

/** Connection-level failures: the server is down or unreachable, as opposed to a SQL error. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code;
  return (code !== undefined && CONNECTION_CODES.has(code)) || /socket hang up|Timeout error/i.test(err.message);
}

export class ClickHouse {
  private readonly client: ClickHouseClient;
  readonly database: string;

  constructor(opts: ClickHouseOptions) {
    this.database = opts.database ?? 'default';
    ident(this.database); // validates
    this.client = createClient({
      url: opts.url,
      database: this.database,
      request_timeout: opts.requestTimeoutMs ?? 30_000,
      // Errors reach the caller, who logs them once with context; the client's own logger would
      // print every failed attempt to the console a second time.
      log: { level: ClickHouseLogLevel.OFF },
      tracer: tracer('crm.clickhouse'),
    });
  }

  /** DDL and other statements without a result. */
  async command(query: Sql, opts: { settings?: Record<string, string | number>; signal?: AbortSignal } = {}): Promise<void> {
    await this.client.command({
      query: query.text,
      clickhouse_settings: opts.settings as ClickHouseSettings | undefined,
      abort_signal: opts.signal,
    });
  }

  /** A SELECT; rows come back as JSON objects (64-bit integers arrive as strings in JSONEachRow). */
  async query<T>(query: Sql, opts: { signal?: AbortSignal } = {}): Promise<T[]> {
    const rs = await this.client.query({ query: query.text, format: 'JSONEachRow', abort_signal: opts.signal });
    return rs.json<T>();
  }

  /** `INSERT INTO <table> FORMAT JSONEachRow` with the rows in the body. */
  async insert(table: string, rows: object[]): Promise<void> {
    if (!rows.length) return;
    await this.client.insert({ table: ident(table).text, values: rows, format: 'JSONEachRow' });
  }

  async ping(): Promise<boolean> {
    return (await this.client.ping()).success;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Creates the database when missing (run before opening a client on it). */
export async function ensureDatabase(url: string, database: string): Promise<void> {
  const admin = new ClickHouse({ url });
  try {
    await admin.command(sql`CREATE DATABASE IF NOT EXISTS ${ident(database)}`);
  } finally {
    await admin.close();
  }
}

export async function dropDatabase(url: string, database: string): Promise<void> {
  const admin = new ClickHouse({ url });
  try {
    await admin.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`);
  } finally {
    await admin.close();
  }
}

/** Maps a failed read to what a gRPC caller should see: UNAVAILABLE when the store is unreachable. */
export function readFailure(err: unknown): unknown {
  if (err instanceof DomainError) return err;
  if (isConnectionError(err)) return new DomainError('UNAVAILABLE', 'the analytics store is unavailable', { cause: err });
  return err;
}

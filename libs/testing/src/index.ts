import { dropDatabase, databaseUrl, ensureDatabase } from '@crm/db';
import { createLogger, type Logger } from '@crm/logger';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

/**
 * Helpers for integration tests against the real engines. The engines come from the local stack
 * (`npm run stack:up`, or started by `npm test`), or from DATABASE_URL / KAFKA_BROKERS / CLICKHOUSE_URL.
 */
export interface StackUrls {
  databaseUrl: string;
  kafkaBrokers: string[];
  clickhouseUrl: string;
}

export function stackUrls(env: NodeJS.ProcessEnv = process.env): StackUrls {
  const missing = ['DATABASE_URL', 'KAFKA_BROKERS', 'CLICKHOUSE_URL'].filter((k) => !env[k]);
  if (missing.length) {
    throw new Error(
      `${missing.join(', ')} not set: run integration tests with \`npm run test:integration\` (it starts the local stack) or set them to running engines`,
    );
  }
  return {
    databaseUrl: env.DATABASE_URL!,
    kafkaBrokers: env.KAFKA_BROKERS!.split(',').map((s) => s.trim()),
    clickhouseUrl: env.CLICKHOUSE_URL!,
  };
}

/** A short id unique to this test run, for database and topic names. */
export const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** `<prefix>_<runId>_<n>`: unique per call; lower-case and safe as a database or topic name. */
let counter = 0;
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}_${runId}_${counter}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates a fresh database for one test file; drop() removes it. */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const { databaseUrl: base } = stackUrls();
  const name = uniqueName(prefix);
  await ensureDatabase(base, name);
  return { name, url: databaseUrl(base, name), drop: () => dropDatabase(base, name) };
}

/** Polls `probe` until it returns without throwing (and, if given, `until` holds); returns its value. */
export async function eventually<T>(
  probe: () => Promise<T> | T,
  opts: { timeoutMs?: number; intervalMs?: number; until?: (value: T) => boolean; message?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let lastError: unknown;
  let lastValue: T | undefined;
  for (;;) {
    try {
      lastValue = await probe();
      if (!opts.until || opts.until(lastValue)) return lastValue;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError ? `last error: ${(lastError as Error).message}` : `last value: ${JSON.stringify(lastValue)}`;
      throw new Error(`eventually: ${opts.message ?? 'condition'} not met within ${opts.timeoutMs ?? 20_000} ms (${why})`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

/** A logger for tests: silent unless TEST_LOG_LEVEL is set. */
export function testLogger(service = 'test'): Logger {
  return createLogger({ service, level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}
export * from './kafka';

/** A TCP port free on 127.0.0.1 right now (for a process the test starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

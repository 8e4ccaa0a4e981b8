/**
 * An import survives a SIGKILL of the service: contacts runs as a real process (`node --import tsx
 * services/contacts/src/main.ts`, what `npm start` runs), is killed with SIGKILL at ~40 % of a generated
 * list, and started again on the same database; the new process takes the import over once the dead
 * one's lease expires and resumes at the last committed checkpoint. The counts are exact and no contact
 * is written twice — rows with a name only (no point the unique index could catch) included.
 */
import { ImportStatus, ImportsServiceService } from '@crm/contracts/crm/contacts/v1/imports';
import { createClient, type TenantContext } from '@crm/grpc';
import { createRunTopics, createTestDatabase, freePort, kafkaFor, stackUrls, testLogger, uniqueName, type TestDatabase } from '@crm/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'pg';
import { finished, generateList, runImport, type ImportsClient } from './imports-fixture';

const ROOT = join(__dirname, '..', '..', '..');
const ROWS = Number(process.env.IMPORT_CRASH_ROWS ?? 40_000);
const tenant: TenantContext = { tenantId: uniqueName('tenant_crash'), callerId: 'user-1', callerKind: 'user' };
const other: TenantContext = { tenantId: uniqueName('tenant_other'), callerId: 'user-2', callerKind: 'user' };
const logger = testLogger('imports-crash');
let db: TestDatabase;
let suffix: string;
let pool: Pool;
const children: ChildProcess[] = [];

interface Proc {
  child: ChildProcess;
  client: ImportsClient;
  exited: Promise<void>;
}

async function startProcess(name: string): Promise<Proc> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services', 'contacts', 'src', 'main.ts')], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: db.url, KAFKA_BROKERS: stackUrls().kafkaBrokers.join(','), GRPC_HOST: '127.0.0.1', GRPC_PORT: String(port), TOPIC_SUFFIX: suffix, LOG_LEVEL: 'info', OTEL_SERVICE_NAME: name },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  let started: () => void;
  const ready = new Promise<void>((r) => (started = r));
  child.stdout!.on('data', (chunk) => {
    out += String(chunk);
    const lines = out.split('\n');
    out = lines.pop()!;
    for (const line of lines) {
      if (process.env.DEBUG_IMPORTS) process.stderr.write(`${name}: ${line.slice(0, 300)}\n`);
      if (line.includes('"msg":"service started"')) started();
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await Promise.race([ready, exited.then(() => Promise.reject(new Error(`${name} exited before it started`)))]);
  return { child, client: createClient(ImportsServiceService, { address: `127.0.0.1:${port}`, defaultDeadlineMs: 60_000 }), exited };
}

async function one(sql: string, params: unknown[] = []): Promise<number> {
  return Number(Object.values((await pool.query(sql, params)).rows[0] as Record<string, unknown>)[0]);
}

beforeAll(async () => {
  db = await createTestDatabase('imports_crash');
  suffix = `.${uniqueName('imports_crash')}`;
  await createRunTopics(kafkaFor(stackUrls().kafkaBrokers, logger), suffix);
  pool = new Pool({ connectionString: db.url, max: 2 });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await pool?.end();
  await db?.drop();
});

describe('an import and a SIGKILL of the service', () => {
  it('resumes at the checkpoint after a restart: exact counts, no contact twice', async () => {
    const list = generateList({ rows: ROWS, existing: 0 });
    const first = await startProcess('contacts-1');
    const id = await runImport(first.client, tenant, list.csv, { fileName: 'crash.csv' });

    // Kill it at ~40 % (the committed progress, read from the database).
    let atKill = 0;
    for (;;) {
      const r = (await pool.query('SELECT bytes_processed, size_bytes, status FROM imports WHERE id = $1', [id])).rows[0] as { bytes_processed: string; size_bytes: string; status: string };
      expect(r.status).toBe('running');
      if (Number(r.bytes_processed) >= 0.4 * Number(r.size_bytes)) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    first.client.close();
    atKill = await one('SELECT processed_rows FROM imports WHERE id = $1', [id]);
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(ROWS);
    expect(await one(`SELECT count(*) FROM imports WHERE id = $1 AND status = 'running'`, [id])).toBe(1);

    const second = await startProcess('contacts-2');
    try {
      const done = await finished(second.client, tenant, id, 300_000);
      process.stdout.write(`crash test: killed at ${atKill}/${ROWS} rows; finished by the restarted process\n`);
      expect(done.status).toBe(ImportStatus.IMPORT_STATUS_DONE);
      expect(done.counts).toEqual({
        totalRows: ROWS,
        processedRows: ROWS,
        created: list.expected.created,
        duplicates: list.expected.duplicates,
        invalid: list.expected.invalid,
        bytesProcessed: list.csv.length,
      });
      // Nothing twice: contacts (name-only ones included), points, cards, errors.
      expect(await one(`SELECT count(*) FROM contacts WHERE provenance_kind = 'import' AND provenance_ref = $1`, [id])).toBe(list.expected.created);
      expect(await one(`SELECT count(*) FROM contacts WHERE provenance_ref = $1 AND NOT EXISTS (SELECT 1 FROM contact_points p WHERE p.contact_id = contacts.id)`, [id])).toBe(
        list.expected.created - list.expected.withPoints,
      );
      expect(await one('SELECT count(*) FROM contact_points WHERE provenance_ref = $1', [id])).toBe(list.expected.points);
      expect(await one('SELECT count(*) FROM client_cards k JOIN contacts c ON c.id = k.contact_id WHERE c.provenance_ref = $1', [id])).toBe(list.expected.created);
      expect(await one(`SELECT count(*) FROM (SELECT name FROM contacts WHERE provenance_ref = $1 GROUP BY name HAVING count(*) > 1) d`, [id])).toBe(0);
      expect(await one('SELECT count(*) FROM import_errors WHERE import_id = $1', [id])).toBe(list.expected.invalid);
      expect(await one('SELECT count(*) FROM contacts WHERE tenant_id = $1', [other.tenantId])).toBe(0);
    } finally {
      second.client.close();
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 420_000);
});

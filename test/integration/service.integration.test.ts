import { parseConfig } from '@crm/config';
import { baseServiceEnv, startService } from '@crm/service';
import { createTestDatabase, eventually, stackUrls, testLogger, type TestDatabase } from '@crm/testing';
import { Client } from 'pg';
import { ItemSchema, probeService } from '../support/probe';
import { Migration } from '@crm/db';

class Items extends Migration {
  override up(): void {
    this.addSql('CREATE TABLE items (id uuid PRIMARY KEY, tenant_id text NOT NULL, name text NOT NULL, created_at timestamptz NOT NULL)');
  }
}

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('svc');
});
afterAll(async () => {
  await db?.drop();
});

async function connections(): Promise<number> {
  const c = new Client({ connectionString: stackUrls().databaseUrl });
  await c.connect();
  try {
    return Number((await c.query('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name])).rows[0].n);
  } finally {
    await c.end();
  }
}

function env() {
  return parseConfig(baseServiceEnv, { DATABASE_URL: db.url, KAFKA_BROKERS: stackUrls().kafkaBrokers.join(','), GRPC_HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
}

const database = { entities: [ItemSchema], migrations: [{ name: 'svc_0001_items', class: Items }] };

describe('startService', () => {
  it('starts with its database migrated, serves gRPC, and stop() releases every connection', async () => {
    const svc = await startService({ name: 'svc-test', env: env(), logger: testLogger(), database, build: ({ orm }) => ({ grpc: [probeService(orm!)] }) });
    expect(svc.grpc.port).toBeGreaterThan(0);
    const tables = await svc.orm!.em.getConnection().execute<{ t: string }[]>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'");
    expect(tables.map((r) => r.t)).toEqual(expect.arrayContaining(['items', 'outbox', 'processed_events', 'mikro_orm_migrations']));
    expect(await connections()).toBeGreaterThan(0);
    await svc.stop();
    await eventually(() => connections(), { until: (n) => n === 0, message: 'connections closed' });
  });

  it('a start that fails half-way undoes what it started (no connection or worker left behind)', async () => {
    let workerStopped = false;
    const failing = startService({
      name: 'svc-test',
      env: env(),
      logger: testLogger(),
      database,
      build: () => ({
        grpc: [],
        workers: [
          { start: async () => undefined, stop: async () => void (workerStopped = true) },
          {
            start: async () => {
              throw new Error('worker cannot start');
            },
            stop: async () => undefined,
          },
        ],
      }),
    });
    await expect(failing).rejects.toThrow('worker cannot start');
    expect(workerStopped).toBe(true);
    await eventually(() => connections(), { until: (n) => n === 0, message: 'connections closed after the failed start' });
  });
});

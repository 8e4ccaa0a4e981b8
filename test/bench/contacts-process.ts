/**
 * The contacts service as a real process for the contacts benchmarks: `node --import tsx
 * services/contacts/src/main.ts` (what `npm start` runs) on a given database, with per-run Kafka
 * topics, waited for until grpc.health.v1 says SERVING; its log goes to a temporary file.
 */
import { createOrm, migrate } from '@crm/db';
import { eventingEntities, eventingMigrations } from '@crm/kafka';
import { createRunTopics, freePort, kafkaFor, stackUrls, testLogger, uniqueName } from '@crm/testing';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * Migrates a contacts database exactly as startService does on start (the runtime's outbox migrations,
 * then contacts' own), without starting the service.
 */
export async function migrateContactsDb(databaseUrl: string): Promise<string[]> {
  const { contactsEntities, contactsMigrations } = await import('../../services/contacts/src/db');
  const orm = await createOrm({ clientUrl: databaseUrl, entities: [...contactsEntities, ...eventingEntities], migrations: [...eventingMigrations, ...contactsMigrations] });
  try {
    return await migrate(orm);
  } finally {
    await orm.close(true);
  }
}

/** The benchmark's tenants: the big one and the few-thousand one. */
export const BENCH_TENANT_A = 'bench-contacts-a';
export const BENCH_TENANT_B = 'bench-contacts-b';

export interface ContactsProcess {
  address: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

function serving(address: string, timeoutMs: number): Promise<void> {
  const Health = grpc.makeGenericClientConstructor(healthService, 'health');
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const c = new Health(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
        check(r: { service: string }, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void): void;
      };
      c.check({ service: '' }, { deadline: Date.now() + 1000 }, (err, res) => {
        c.close();
        if (!err && res?.status === 'SERVING') return resolve();
        if (Date.now() > deadline) return reject(new Error(`contacts at ${address} not SERVING after ${timeoutMs} ms`));
        setTimeout(attempt, 200);
      });
    };
    attempt();
  });
}

let topicSuffix: string | undefined;

/** Starts contacts on databaseUrl (migrating it on the first start); stop() sends SIGTERM and waits. */
export async function startContactsProcess(databaseUrl: string, extraEnv: Record<string, string> = {}): Promise<ContactsProcess> {
  const urls = stackUrls();
  if (!topicSuffix) {
    topicSuffix = `.${uniqueName('bench')}`;
    await createRunTopics(kafkaFor(urls.kafkaBrokers, testLogger()), topicSuffix);
  }
  const port = await freePort();
  const logFile = join(mkdtempSync(join(tmpdir(), 'crm-bench-contacts-')), 'contacts.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services/contacts/src/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      KAFKA_BROKERS: urls.kafkaBrokers.join(','),
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(port),
      TOPIC_SUFFIX: topicSuffix,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      OTEL_SERVICE_NAME: 'contacts',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const address = `127.0.0.1:${port}`;
  await Promise.race([
    serving(address, 90_000),
    exited.then(() => {
      throw new Error(`contacts exited during start; see ${logFile}`);
    }),
  ]);
  return {
    address,
    pid: child.pid!,
    logFile,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Deletes the per-run topics created by startContactsProcess. */
export async function dropBenchTopics(): Promise<void> {
  if (!topicSuffix) return;
  const kafka = kafkaFor(stackUrls().kafkaBrokers, testLogger());
  const admin = kafka.admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.endsWith(topicSuffix!) || t.endsWith(`${topicSuffix}.dlq`));
    if (mine.length) await admin.deleteTopics({ topics: mine });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Starts intake in-process against the real engines for one test file: a fresh database, the registry's
 * topics with a per-run suffix, the real gRPC server, and a promise client over a real connection.
 *
 * intake needs contacts (MatchOrCreate on every create). A service may not import another (Nx module
 * boundaries), so contacts runs as a child process of its own `src/main.ts` on its own fresh database,
 * the same topics and a fixed port — which lets a test stop it (down), freeze it (SIGSTOP: slow) and
 * start it again on the same address.
 */
import { IntakeServiceService } from '@crm/contracts/crm/intake/v1/intake';
import { parseConfig } from '@crm/config';
import { createClient, type PromiseClient, type ServiceError, type TenantContext } from '@crm/grpc';
import { createKafka, createTopics, loadRegistry, type Kafka } from '@crm/kafka';
import type { RunningService } from '@crm/service';
import { createTestDatabase, freePort, stackUrls, testLogger, uniqueName, type TestDatabase } from '@crm/testing';
import type { KafkaMessage } from 'kafkajs';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'pg';
import { intakeEnv, startIntake } from '../src/app';

const ROOT = join(__dirname, '..', '..', '..');

/** contacts as a separate process on a fixed address. */
export interface ContactsProcess {
  addr: string;
  /** contacts' own database (to look at what it stored). */
  dbUrl: string;
  /** Starts it (again) and resolves once it serves. */
  start(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** SIGSTOP: it keeps its port but answers nothing (a hung process). */
  freeze(): void;
  thaw(): void;
}

export interface Harness {
  service: RunningService;
  client: PromiseClient<typeof IntakeServiceService>;
  pool: Pool;
  kafka: Kafka;
  contacts: ContactsProcess;
  /** The registry topic name with this run's suffix. */
  topic: (name: string) => string;
  suffix: string;
  stop(): Promise<void>;
}

function contactsProcess(dbUrl: string, port: number, suffix: string): ContactsProcess {
  let child: ChildProcess | undefined;
  const addr = `127.0.0.1:${port}`;
  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const c = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services', 'contacts', 'src', 'main.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: dbUrl,
        KAFKA_BROKERS: stackUrls().kafkaBrokers.join(','),
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: String(port),
        TOPIC_SUFFIX: suffix,
        LOG_LEVEL: 'info',
        OTEL_SERVICE_NAME: 'contacts',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    const tail: string[] = [];
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`contacts did not start in 60 s:\n${tail.join('\n')}`)), 60_000);
      const onData = (chunk: Buffer) => {
        buffered += String(chunk);
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          tail.push(line.slice(0, 500));
          if (tail.length > 30) tail.shift();
          if (process.env.DEBUG_CONTACTS) process.stderr.write(`contacts: ${line.slice(0, 300)}\n`);
          if (line.includes('"msg":"service started"')) {
            clearTimeout(timer);
            resolve();
          }
        }
      };
      c.stdout!.on('data', onData);
      c.stderr!.on('data', onData);
      c.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`contacts exited (${code ?? signal}) before it started:\n${tail.join('\n')}`));
      });
    });
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGCONT');
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  };
  return { addr, dbUrl, start, stop, freeze: () => child?.kill('SIGSTOP'), thaw: () => child?.kill('SIGCONT') };
}

/** The MatchOrCreate deadline in tests: above the default 800 ms, so a loaded machine does not make a request miss its contact. */
export const TEST_CONTACTS_TIMEOUT_MS = 3000;

export async function startHarness(opts: { backfillIntervalMs?: number; identityAddr?: string } = {}): Promise<Harness> {
  const urls = stackUrls();
  const logger = testLogger('intake-test');
  const db: TestDatabase = await createTestDatabase('intake');
  const contactsDb: TestDatabase = await createTestDatabase('intake_contacts');
  const suffix = `.${uniqueName('intake')}`;
  const topic = (name: string) => `${name}${suffix}`;
  const kafka = createKafka({ clientId: 'intake-test', brokers: urls.kafkaBrokers, logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopics(admin, loadRegistry(join(ROOT, 'proto', 'topics')), { rename: topic });
  } finally {
    await admin.disconnect();
  }
  const contacts = contactsProcess(contactsDb.url, await freePort(), suffix);
  await contacts.start();
  let service: RunningService;
  try {
    const env = parseConfig(intakeEnv, {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: urls.kafkaBrokers.join(','),
      TOPIC_SUFFIX: suffix,
      GRPC_HOST: '127.0.0.1',
      CONTACTS_GRPC_ADDR: contacts.addr,
      IDENTITY_GRPC_ADDR: opts.identityAddr ?? '127.0.0.1:1',
      INTAKE_TEAM_CACHE_MS: '0',
      INTAKE_CONTACTS_TIMEOUT_MS: String(TEST_CONTACTS_TIMEOUT_MS),
      INTAKE_BACKFILL_INTERVAL_MS: String(opts.backfillIntervalMs ?? 200),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
    service = await startIntake(env);
  } catch (err) {
    await contacts.stop();
    throw err;
  }
  const client = createClient(IntakeServiceService, { address: `127.0.0.1:${service.grpc.port}`, defaultDeadlineMs: 15_000 });
  const pool = new Pool({ connectionString: db.url, max: 2 });
  return {
    service,
    client,
    pool,
    kafka,
    contacts,
    topic,
    suffix,
    stop: async () => {
      client.close();
      await pool.end();
      await service.stop();
      await contacts.stop();
      await db.drop();
      await contactsDb.drop();
    },
  };
}

/** A user of the tenant; an admin unless roles say otherwise (who-sees-what scopes other roles). */
export function tenant(tenantId: string, callerId = 'user-1', roles: TenantContext['roles'] = ['admin']): TenantContext {
  return { tenantId, callerId, callerKind: 'user', roles };
}

/** ListRequests' filters added by issue 8, all unset (spread into a literal ListRequestsRequest). */
export const NO_LIST_FILTERS = {
  departmentIds: [],
  assigneeIds: [],
  projectIds: [],
  meanings: [],
  qualifications: [],
  contactAxes: [],
  numberAxes: [],
  utmSource: '',
  order: '',
};

/** CreateRequest's fields added by issue 8, unset. */
export const NO_ROUTING_FIELDS = { projectId: '', dialedNumberKind: '', missed: false };

/** The gRPC error of a call that must fail (fails the test if it succeeds). */
export async function grpcError(call: Promise<unknown>): Promise<ServiceError & { violations: { field: string; message: string }[] }> {
  try {
    await call;
  } catch (err) {
    const e = err as ServiceError;
    const raw = e.metadata?.get('x-error-violations')[0];
    return Object.assign(e, { violations: raw ? JSON.parse(raw.toString()) : [] });
  }
  throw new Error('expected the call to fail');
}

/** A plain kafkajs consumer collecting every message of a topic from the beginning. */
export async function collect(kafka: Kafka, topic: string, groupId: string): Promise<{ messages: KafkaMessage[]; stop(): Promise<void> }> {
  const messages: KafkaMessage[] = [];
  // A short fetch wait: disconnect() waits for the fetch in flight (5 s by default).
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
  return { messages, stop: () => consumer.disconnect() };
}

/**
 * Starts intake in-process against the real engines for one test file: a fresh database, the registry's
 * topics with a per-run suffix, the real gRPC server, and a promise client over a real connection.
 *
 * intake needs contacts (MatchOrCreate on every create). A service may not import another (Nx module
 * boundaries), so contacts runs as a child process of its own `src/main.ts` on its own fresh database,
 * the same topics and a fixed port — which lets a test stop it (down), freeze it (SIGSTOP: slow) and
 * start it again on the same address.
 */
import { IdentityServiceService, Role } from '@crm/contracts/crm/identity/v1/identity';
import { DepartmentKind, TeamServiceService, type TeamDepartment, type WorkSchedule } from '@crm/contracts/crm/identity/v1/team';
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
  /** identity as a child process (`startHarness({ identity: true })`), with TeamService helpers. */
  identity: (ContactsProcess & { team: TeamHelper }) | null;
  /** The registry topic name with this run's suffix. */
  topic: (name: string) => string;
  suffix: string;
  stop(): Promise<void>;
}

function contactsProcess(dbUrl: string, port: number, suffix: string, service = 'contacts'): ContactsProcess {
  let child: ChildProcess | undefined;
  const addr = `127.0.0.1:${port}`;
  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const c = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services', service, 'src', 'main.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: dbUrl,
        KAFKA_BROKERS: stackUrls().kafkaBrokers.join(','),
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: String(port),
        TOPIC_SUFFIX: suffix,
        LOG_LEVEL: 'info',
        OTEL_SERVICE_NAME: service,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    const tail: string[] = [];
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${service} did not start in 60 s:\n${tail.join('\n')}`)), 60_000);
      const onData = (chunk: Buffer) => {
        buffered += String(chunk);
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          tail.push(line.slice(0, 500));
          if (tail.length > 30) tail.shift();
          if (process.env.DEBUG_CONTACTS) process.stderr.write(`${service}: ${line.slice(0, 300)}\n`);
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
        reject(new Error(`${service} exited (${code ?? signal}) before it started:\n${tail.join('\n')}`));
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

/**
 * Making a tenant's team through identity's real API (IdentityService / TeamService): a tenant,
 * departments (SLA, schedule), users in departments, shifts, away. Every call as a service of the tenant.
 */
export class TeamHelper {
  readonly identity: PromiseClient<typeof IdentityServiceService>;
  readonly team: PromiseClient<typeof TeamServiceService>;

  constructor(addr: string) {
    this.identity = createClient(IdentityServiceService, { address: addr, defaultDeadlineMs: 15_000 });
    this.team = createClient(TeamServiceService, { address: addr, defaultDeadlineMs: 15_000 });
  }

  static svc(tenantId: string): TenantContext {
    return { tenantId, callerId: 'test', callerKind: 'service' };
  }

  async tenant(name = 'Routing'): Promise<string> {
    const slug = `r-${uniqueName('t').replace(/_/g, '-')}`.slice(0, 60);
    const t = await this.identity.createTenant({ name, slug, locale: 'en' }, { tenantId: 'platform', callerId: 'test', callerKind: 'service' });
    return t.tenant!.id;
  }

  async department(tenantId: string, name: string, opts: { slaMinutes?: number; schedule?: WorkSchedule } = {}): Promise<TeamDepartment> {
    const res = await this.team.createTeamDepartment(
      { name, kind: DepartmentKind.DEPARTMENT_KIND_SALES, slaFirstResponseMinutes: opts.slaMinutes, schedule: opts.schedule },
      TeamHelper.svc(tenantId),
    );
    return res.department!;
  }

  /** An active seller in these departments (created with a password, so no invite to accept). */
  async seller(tenantId: string, name: string, departmentIds: string[]): Promise<string> {
    const email = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '.')}.${uniqueName('u').replace(/_/g, '')}@routing.test`.slice(0, 200);
    const u = await this.identity.createUser({ email, displayName: name, password: 'correct horse battery', roles: [Role.ROLE_SELLER] }, TeamHelper.svc(tenantId));
    const id = u.user!.id;
    await this.team.updateUser({ id, roles: [], updateRoles: false, departmentIds, updateDepartmentIds: true, headedDepartmentIds: [], updateHeadedDepartmentIds: false }, TeamHelper.svc(tenantId));
    return id;
  }

  async shift(tenantId: string, userId: string, startsAt: Date, endsAt: Date): Promise<void> {
    await this.team.addShift({ userId, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString() }, TeamHelper.svc(tenantId));
  }

  async away(tenantId: string, userId: string, away = true): Promise<void> {
    await this.team.setAway({ userId, away, until: '' }, TeamHelper.svc(tenantId));
  }

  async project(tenantId: string, name: string, code: string): Promise<string> {
    return (await this.team.createProject({ name, code }, TeamHelper.svc(tenantId))).project!.id;
  }

  close(): void {
    this.identity.close();
    this.team.close();
  }
}

/** The MatchOrCreate deadline in tests: above the default 800 ms, so a loaded machine does not make a request miss its contact. */
export const TEST_CONTACTS_TIMEOUT_MS = 3000;

/**
 * `identity: true` also starts identity (its own fresh database) as a child process of its
 * `src/main.ts`, like contacts (a service's tests may not import another service), and points intake at
 * it: `harness.identity` has its address and helpers to make tenants, departments, users and shifts.
 * `teamCacheMs` (default 0: identity asked on every create) is INTAKE_TEAM_CACHE_MS.
 */
export async function startHarness(opts: { backfillIntervalMs?: number; identityAddr?: string; identity?: boolean; teamCacheMs?: number } = {}): Promise<Harness> {
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
  const identityDb: TestDatabase | null = opts.identity ? await createTestDatabase('intake_identity') : null;
  const identity = identityDb ? contactsProcess(identityDb.url, await freePort(), suffix, 'identity') : null;
  if (identity) {
    try {
      await identity.start();
    } catch (err) {
      await contacts.stop();
      throw err;
    }
  }
  let service: RunningService;
  try {
    const env = parseConfig(intakeEnv, {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: urls.kafkaBrokers.join(','),
      TOPIC_SUFFIX: suffix,
      GRPC_HOST: '127.0.0.1',
      CONTACTS_GRPC_ADDR: contacts.addr,
      IDENTITY_GRPC_ADDR: identity?.addr ?? opts.identityAddr ?? '127.0.0.1:1',
      INTAKE_TEAM_CACHE_MS: String(opts.teamCacheMs ?? 0),
      INTAKE_CONTACTS_TIMEOUT_MS: String(TEST_CONTACTS_TIMEOUT_MS),
      INTAKE_BACKFILL_INTERVAL_MS: String(opts.backfillIntervalMs ?? 200),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
    service = await startIntake(env);
  } catch (err) {
    await contacts.stop();
    await identity?.stop();
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
    identity: identity ? { ...identity, team: new TeamHelper(identity.addr) } : null,
    topic,
    suffix,
    stop: async () => {
      client.close();
      await pool.end();
      await service.stop();
      await contacts.stop();
      await identity?.stop();
      await db.drop();
      await contactsDb.drop();
      await identityDb?.drop();
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
export const NO_ROUTING_FIELDS = { projectId: '', dialedNumberKind: '', missed: false, decided: undefined };

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

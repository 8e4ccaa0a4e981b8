/**
 * intake's durable timers across processes (services/intake/src/main.ts on one database, as the chart
 * runs replicas): with two replicas running, every SLA timer fires exactly once (one history row and one
 * RequestSlaBreached per request); and when the replicas are SIGKILLed while timers are pending and
 * another is started after their due times, every SLA and revisit timer fires exactly once.
 */
import { IntakeServiceService } from '@crm/contracts/crm/intake/v1/intake';
import { Channel } from '@crm/contracts/crm/intake/v1/request';
import { createOrm, type MikroORM } from '@crm/db';
import { createClient, type PromiseClient } from '@crm/grpc';
import { RequestSchema } from '@crm/intake/src/db/entities/request.entity';
import { scheduleRevisit, scheduleSlaBreach } from '@crm/intake/src/timers/scheduler';
import { decodeEvent } from '@crm/kafka';
import { collect, createRunTopics, createTestDatabase, eventually, freePort, kafkaFor, runId, stackUrls, testLogger, uniqueName, type TestDatabase } from '@crm/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'pg';
import { startTeamDouble, type TeamDouble } from '../../services/intake/test/team-double';

const ROOT = join(__dirname, '..', '..');
const tenant = { tenantId: 'tenant-timers-replicas', callerId: 'svc', callerKind: 'service' as const };
const logger = testLogger('timers-replicas');
let db: TestDatabase;
let suffix: string;
let pool: Pool;
let orm: MikroORM | undefined;
let team: TeamDouble;
const children: ChildProcess[] = [];

interface Replica {
  name: string;
  child: ChildProcess;
  client: PromiseClient<typeof IntakeServiceService>;
  exited: Promise<void>;
}

async function startReplica(name: string): Promise<Replica> {
  const port = await freePort();
  // Nobody listens on CONTACTS: these requests have no points (no contacts call). identity is the team
  // double with an empty roster (no department: a breach notifies the assignee only).
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services', 'intake', 'src', 'main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      KAFKA_BROKERS: stackUrls().kafkaBrokers.join(','),
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(port),
      TOPIC_SUFFIX: suffix,
      CONTACTS_GRPC_ADDR: '127.0.0.1:1',
      IDENTITY_GRPC_ADDR: team.addr,
      INTAKE_TIMER_POLL_MS: '500',
      LOG_LEVEL: 'info',
      OTEL_SERVICE_NAME: name,
    },
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
      if (process.env.DEBUG_REPLICAS) process.stderr.write(`${name}: ${line.slice(0, 300)}\n`);
      if (line.includes('"msg":"service started"')) started();
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await Promise.race([ready, exited.then(() => Promise.reject(new Error(`${name} exited before it started`)))]);
  return { name, child, client: createClient(IntakeServiceService, { address: `127.0.0.1:${port}`, defaultDeadlineMs: 15_000 }), exited };
}

async function stopAll(replicas: Replica[], signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  for (const r of replicas) {
    r.client.close();
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill(signal);
  }
  await Promise.all(replicas.map((r) => r.exited));
}

async function createRequests(via: Replica, n: number): Promise<string[]> {
  const ids: string[] = [];
  const writers = Array.from({ length: 8 }, async (_, w) => {
    for (let i = w; i < n; i += 8) {
      const res = await via.client.createRequest(
        { channel: Channel.CHANNEL_PHONE, name: `Timer ${i}`, phone: '', email: '', message: '', attribution: undefined, idempotencyKey: '', publicFormId: '', defaultCountry: '', extraFields: [], projectId: '', dialedNumberKind: '', missed: false, decided: undefined },
        tenant,
      );
      ids.push(res.request!.id);
    }
  });
  await Promise.all(writers);
  return ids;
}

/** SLA due times spread over [fromMs, toMs) from now, each set and scheduled in one transaction (as routing does). */
async function scheduleSla(ids: string[], fromMs: number, toMs: number): Promise<Map<string, Date>> {
  const dues = new Map<string, Date>();
  const now = Date.now();
  await Promise.all(
    ids.map((id, i) =>
      orm!.em.fork().transactional(async (em) => {
        const dueAt = new Date(now + fromMs + Math.floor(((toMs - fromMs) * i) / ids.length));
        await em.execute(`UPDATE requests SET sla_due_at = ?, assignee_id = gen_random_uuid(), state = 'assigned' WHERE id = ?`, [dueAt, id]);
        await scheduleSlaBreach(em, tenant.tenantId, id, dueAt);
        dues.set(id, dueAt);
      }),
    ),
  );
  return dues;
}

async function scheduleRevisits(ids: string[], inMs: number): Promise<void> {
  const at = new Date(Date.now() + inMs);
  for (const id of ids)
    await orm!.em.fork().transactional(async (em) => {
      await em.execute(`UPDATE requests SET state = 'deferred', revisit_at = ? WHERE id = ?`, [at, id]);
      await scheduleRevisit(em, tenant.tenantId, id, at);
    });
}

async function historyCounts(field: string, ids: string[]): Promise<Map<string, number>> {
  const { rows } = await pool.query('SELECT request_id::text AS id, count(*)::int AS n FROM request_history WHERE field = $1 AND request_id = ANY($2::uuid[]) GROUP BY request_id', [field, ids]);
  return new Map(rows.map((r) => [r.id as string, r.n as number]));
}

/** Distinct events (CloudEvents id) of a type per subject. */
function eventsBySubject(messages: { value: Buffer | null }[], type: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of messages) {
    const e = decodeEvent(m as never);
    if (e.type !== type) continue;
    const set = out.get(e.subject) ?? new Set<string>();
    set.add(e.id);
    out.set(e.subject, set);
  }
  return out;
}

beforeAll(async () => {
  db = await createTestDatabase('timers_replicas');
  suffix = `.${uniqueName('timers')}`;
  await createRunTopics(kafkaFor(stackUrls().kafkaBrokers, logger), suffix);
  pool = new Pool({ connectionString: db.url, max: 2 });
  team = await startTeamDouble();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await orm?.close(true);
  await pool?.end();
  await db?.drop();
  await team?.stop();
});

describe('intake timers across replicas', () => {
  it('fire each SLA timer exactly once with two replicas running, and again after every replica was SIGKILLed mid-wait', async () => {
    const kafka = kafkaFor(stackUrls().kafkaBrokers, logger);
    const watcher = await collect(kafka, `crm.intake.request.v1${suffix}`, `watch-${runId}-timers`);
    // One at a time: the first migrates (intake's and graphile-worker's schema), then the second.
    const first = await startReplica('intake-t1');
    const second = await startReplica('intake-t2');
    orm = await createOrm({ clientUrl: db.url, entities: [RequestSchema], migrations: [], poolMax: 8 });
    let third: Replica | undefined;
    try {
      // Part 1: both replicas up, 300 timers due over the next 2–6 s.
      const running = await createRequests(first, 300);
      const dues = await scheduleSla(running, 2000, 6000);
      await eventually(() => pool.query('SELECT count(*)::int AS n FROM requests WHERE id = ANY($1::uuid[]) AND sla_breached_at IS NOT NULL', [running]).then((r) => r.rows[0].n as number), {
        until: (n) => n === running.length,
        timeoutMs: 60_000,
        message: 'every request breached',
      });
      const late = (await pool.query('SELECT id::text, sla_breached_at FROM requests WHERE id = ANY($1::uuid[])', [running])).rows.map((r) => new Date(r.sla_breached_at).getTime() - dues.get(r.id)!.getTime());
      late.sort((a, b) => a - b);
      expect(late[0]).toBeGreaterThanOrEqual(0);

      // Part 2: timers pending, every replica SIGKILLed (one, then the other), due times pass with nobody
      // running, then a new replica starts.
      const killed = await createRequests(second, 200);
      const revisits = await createRequests(second, 20);
      await scheduleSla(killed, 3000, 7000);
      await scheduleRevisits(revisits, 4000);
      await new Promise((r) => setTimeout(r, 1000));
      first.child.kill('SIGKILL');
      await first.exited;
      await new Promise((r) => setTimeout(r, 1500));
      second.child.kill('SIGKILL');
      await second.exited;
      const firedBeforeKill = (await pool.query('SELECT count(*)::int AS n FROM requests WHERE id = ANY($1::uuid[]) AND sla_breached_at IS NOT NULL', [killed])).rows[0].n as number;
      await new Promise((r) => setTimeout(r, 6000));
      third = await startReplica('intake-t3');
      await eventually(() => pool.query('SELECT count(*)::int AS n FROM requests WHERE id = ANY($1::uuid[]) AND sla_breached_at IS NOT NULL', [killed]).then((r) => r.rows[0].n as number), {
        until: (n) => n === killed.length,
        timeoutMs: 60_000,
        message: 'every pending timer fired after the restart',
      });
      await eventually(() => pool.query(`SELECT count(*)::int AS n FROM requests WHERE id = ANY($1::uuid[]) AND state = 'new'`, [revisits]).then((r) => r.rows[0].n as number), {
        until: (n) => n === revisits.length,
        timeoutMs: 60_000,
        message: 'every deferred request came back',
      });
      await eventually(() => pool.query('SELECT count(*)::int AS n FROM graphile_worker.jobs').then((r) => r.rows[0].n as number), { until: (n) => n === 0, timeoutMs: 30_000, message: 'the queue drained' });

      // Exactly once: one history row per request and one event (distinct id) per request.
      const all = [...running, ...killed];
      const breaches = await historyCounts('sla_breached_at', all);
      expect(all.filter((id) => breaches.get(id) !== 1)).toEqual([]);
      const returns = await historyCounts('state', revisits);
      expect(revisits.filter((id) => returns.get(id) !== 1)).toEqual([]);
      await eventually(() => eventsBySubject(watcher.messages, 'crm.intake.request.sla_breached.v1').size, { until: (n) => n >= all.length, timeoutMs: 60_000, message: 'every breach on Kafka' });
      await eventually(() => eventsBySubject(watcher.messages, 'crm.intake.request.state_changed.v1').size, { until: (n) => n >= revisits.length, timeoutMs: 60_000 });
      await new Promise((r) => setTimeout(r, 1500));
      const events = eventsBySubject(watcher.messages, 'crm.intake.request.sla_breached.v1');
      expect(all.filter((id) => events.get(id)?.size !== 1)).toEqual([]);
      expect([...events.keys()].filter((k) => !all.includes(k))).toEqual([]);
      const changed = eventsBySubject(watcher.messages, 'crm.intake.request.state_changed.v1');
      expect(revisits.filter((id) => changed.get(id)?.size !== 1)).toEqual([]);
      process.stdout.write(
        `timers across replicas: ${running.length} SLA timers with two replicas, lateness p50 ${late[Math.floor(late.length / 2)]} ms, max ${late[late.length - 1]} ms; ` +
          `${killed.length} SLA + ${revisits.length} revisit timers pending when both replicas were SIGKILLed (${firedBeforeKill} fired before), all once after a restart\n`,
      );
    } finally {
      await stopAll([first, second, ...(third ? [third] : [])]);
      await watcher.stop();
    }
  }, 300_000);
});

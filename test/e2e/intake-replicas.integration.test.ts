/**
 * Two replicas of intake (two processes of services/intake/src/main.ts on one database, as the chart
 * runs them) under load: every request gets a creation and then comments numbered 1..N, written
 * through the standby replica, while the replica whose outbox relay leads is SIGKILLed mid-stream. A
 * consumer that checks per-request sequence numbers sees every event once (after dedup by ce_id) and
 * in order; the takeover time is printed.
 */
import { RequestCommented, RequestCreated } from '@crm/contracts/crm/intake/events/v1/request_events';
import { IntakeServiceService } from '@crm/contracts/crm/intake/v1/intake';
import { Channel } from '@crm/contracts/crm/intake/v1/request';
import { createClient, type PromiseClient } from '@crm/grpc';
import { decodeData, decodeEvent, type CloudEvent } from '@crm/kafka';
import { collect, createRunTopics, createTestDatabase, eventually, freePort, kafkaFor, runId, sequencesBySubject, stackUrls, testLogger, uniqueName, type TestDatabase } from '@crm/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'pg';

const REQUESTS = 60;
const COMMENTS = 9; // per request: 1 + 9 = 10 events, 600 in all
const ROOT = join(__dirname, '..', '..');
// An admin: who-sees-what lets a user without roles see only what is assigned to them.
const tenant = { tenantId: 'tenant-replicas', callerId: 'user-1', callerKind: 'user' as const, roles: ['admin' as const] };
const logger = testLogger('intake-replicas');
let db: TestDatabase;
let suffix: string;
const children: ChildProcess[] = [];

interface Replica {
  name: string;
  child: ChildProcess;
  client: PromiseClient<typeof IntakeServiceService>;
  /** Resolves with the time this replica's relay took the leadership. */
  leads: Promise<number>;
  exited: Promise<void>;
}

async function startReplica(name: string): Promise<Replica> {
  const port = await freePort();
  // CONTACTS_GRPC_ADDR: nobody listens; these requests have no phone or e-mail, so intake never calls contacts.
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services', 'intake', 'src', 'main.ts')], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: db.url, KAFKA_BROKERS: stackUrls().kafkaBrokers.join(','), GRPC_HOST: '127.0.0.1', GRPC_PORT: String(port), TOPIC_SUFFIX: suffix, CONTACTS_GRPC_ADDR: '127.0.0.1:1', IDENTITY_GRPC_ADDR: '127.0.0.1:1', LOG_LEVEL: 'info', OTEL_SERVICE_NAME: name },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  let started: () => void;
  const ready = new Promise<void>((r) => (started = r));
  const leads = new Promise<number>((resolve) =>
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        if (process.env.DEBUG_REPLICAS) process.stderr.write(`${name}: ${line.slice(0, 200)}\n`);
        if (line.includes('"msg":"service started"')) started();
        if (line.includes('"msg":"outbox relay leadership acquired"')) resolve(performance.now());
      }
    }),
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await Promise.race([ready, exited.then(() => Promise.reject(new Error(`${name} exited before it started`)))]);
  return { name, child, client: createClient(IntakeServiceService, { address: `127.0.0.1:${port}` }), leads, exited };
}

beforeAll(async () => {
  db = await createTestDatabase('replicas');
  suffix = `.${uniqueName('replicas')}`;
  await createRunTopics(kafkaFor(stackUrls().kafkaBrokers, logger), suffix);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await db?.drop();
});

describe('two replicas of intake', () => {
  it('keep every request’s events once and in order when the leading relay’s replica is SIGKILLed mid-stream', async () => {
    const kafka = kafkaFor(stackUrls().kafkaBrokers, logger);
    const watcher = await collect(kafka, `crm.intake.request.v1${suffix}`, `watch-${runId}-replicas`);
    // One at a time: the first applies the migrations, then the second starts on the same database.
    const first = await startReplica('intake-1');
    const second = await startReplica('intake-2');
    try {
      const leader = await Promise.race([first.leads.then(() => first), second.leads.then(() => second)]);
      const standby = leader === first ? second : first;

      // Writes go through the standby (a write in flight on the killed replica would be ambiguous).
      const ids: string[] = [];
      let killedAt = 0;
      const writers = Array.from({ length: 6 }, async (_, w) => {
        for (let i = w; i < REQUESTS; i += 6) {
          const created = await standby.client.createRequest(
            {
              channel: Channel.CHANNEL_PHONE,
              name: `Replica ${i}`,
              phone: '',
              email: '',
              message: '',
              attribution: undefined,
              idempotencyKey: '',
              publicFormId: '',
              defaultCountry: 'RU',
              extraFields: [],
              projectId: '',
              dialedNumberKind: '',
              missed: false,
              decided: undefined,
            },
            tenant,
          );
          const id = created.request!.id;
          ids.push(id);
          for (let n = 1; n <= COMMENTS; n++) await standby.client.addComment({ requestId: id, text: String(n) }, tenant);
          if (ids.length >= REQUESTS / 3 && !killedAt) {
            killedAt = performance.now();
            leader.child.kill('SIGKILL');
          }
        }
      });
      await Promise.all(writers);
      const tookOver = await standby.leads;
      await leader.exited;

      const pool = new Pool({ connectionString: db.url, max: 1 });
      try {
        await eventually(() => pool.query('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL').then((r) => r.rows[0].n as number), {
          until: (n) => n === 0,
          timeoutMs: 30_000,
          message: 'the new leader published the backlog',
        });
      } finally {
        await pool.end();
      }
      const total = REQUESTS * (1 + COMMENTS);
      await eventually(() => new Set(watcher.messages.map((m) => decodeEvent(m).id)).size, { until: (n) => n >= total, timeoutMs: 30_000, message: 'every event on Kafka' });

      const seqOf = (e: CloudEvent) => (e.type === 'crm.intake.request.created.v1' && decodeData(e, RequestCreated).request ? 0 : Number(decodeData(e, RequestCommented).comment?.text));
      const { distinct, duplicates, bySubject } = sequencesBySubject(watcher.messages, seqOf);
      expect(distinct).toBe(total);
      const expected = Array.from({ length: COMMENTS + 1 }, (_, i) => i);
      for (const id of ids) expect(bySubject.get(id)).toEqual(expected);
      process.stdout.write(`intake replicas: takeover ${(tookOver - killedAt).toFixed(0)} ms after SIGKILL of the leader; ${total} events once and in order (${duplicates} duplicates absorbed)\n`);
      expect(tookOver).toBeGreaterThan(killedAt);
    } finally {
      for (const r of [first, second]) {
        r.client.close();
        if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
      }
      await Promise.all([first.exited, second.exited]);
      await watcher.stop();
    }
  });
});

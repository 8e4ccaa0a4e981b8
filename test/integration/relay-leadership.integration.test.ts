/**
 * Two outbox relays on one database (two replicas of a service): only the leader publishes, so every
 * aggregate's events reach Kafka in commit order; SIGKILLing the leader mid-stream hands over to the
 * standby, which publishes the rest. A consumer that checks per-aggregate sequence numbers sees every
 * event once (after dedup by ce_id) and in order.
 */
import { ItemCreated } from '@crm/contracts/crm/testkit/events/v1/item_events';
import { createOrm, migrate, uuidv7 } from '@crm/db';
import { decodeData, decodeEvent, type Kafka } from '@crm/kafka';
import { collect, createRunTopics, createTestDatabase, eventually, kafkaFor, runId, sequencesBySubject, stackUrls, testLogger, uniqueName, type TestDatabase } from '@crm/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'pg';
import { ITEM_CREATED, ITEM_TOPIC, probeEntities, probeMigrations } from '../support/probe';

const logger = testLogger('relay-leadership-test');
const AGGREGATES = 20;
const ROUNDS = 150; // events per aggregate: 3,000 in all
let db: TestDatabase;
let pool: Pool;
let kafka: Kafka;
let topic: string;
let suffix: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase('relay_leader');
  const orm = await createOrm({ clientUrl: db.url, entities: probeEntities, migrations: probeMigrations });
  await migrate(orm);
  await orm.close(true);
  pool = new Pool({ connectionString: db.url, max: 4 });
  kafka = kafkaFor(stackUrls().kafkaBrokers, logger);
  suffix = `.${uniqueName('leader')}`;
  topic = (await createRunTopics(kafka, suffix))(ITEM_TOPIC);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await pool?.end();
  await db?.drop();
});

interface Relay {
  child: ChildProcess;
  leader: Promise<number>;
  exited: Promise<void>;
  /** Events this relay has had acked by Kafka so far. */
  sent: () => number;
}

/** A relay in its own process; `leader` resolves with the time it announced the leadership. */
function startRelay(): Relay {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'support', 'relay-process.ts')], {
    // Small batches: with a backlog, two relays without a leader would take neighbouring batches at once.
    env: { ...process.env, DATABASE_URL: db.url, TOPIC_SUFFIX: suffix, RELAY_BATCH_SIZE: '40' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  let sent = 0;
  const leader = new Promise<number>((resolve) =>
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        if (line === 'LEADER') resolve(performance.now());
        const m = /^SENT (\d+)$/.exec(line);
        if (m) sent += Number(m[1]);
      }
    }),
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, leader, exited, sent: () => sent };
}

/** One transaction per round: the next sequence number of every aggregate, in shuffled order. */
async function writeRound(aggregates: string[], seq: number): Promise<void> {
  const order = [...aggregates].sort(() => Math.random() - 0.5);
  const payloads = order.map((id) => Buffer.from(ItemCreated.encode({ itemId: id, tenantId: 't-order', name: String(seq) }).finish()));
  await pool.query(
    `INSERT INTO outbox (event_id, topic, event_type, subject, tenant_id, source, payload)
     SELECT e, $2, $3, s, 't-order', 'crm/testkit', p FROM unnest($1::uuid[], $4::text[], $5::bytea[]) AS u(e, s, p)`,
    [order.map(() => uuidv7()), ITEM_TOPIC, ITEM_CREATED, order, payloads],
  );
}

describe('outbox relays with two replicas', () => {
  it('publish each aggregate in order, and the standby takes over when the leader is SIGKILLed mid-stream', async () => {
    const aggregates = Array.from({ length: AGGREGATES }, () => uuidv7());
    const watcher = await collect(kafka, topic, `watch-${runId}-leader`);
    // A backlog first (the relays start behind), then writes while they publish.
    const BACKLOG = ROUNDS / 3;
    for (let seq = 1; seq <= BACKLOG; seq++) await writeRound(aggregates, seq);
    const a = startRelay();
    const b = startRelay();
    try {
      const first = await Promise.race([a.leader.then(() => a), b.leader.then(() => b)]);
      await new Promise((r) => setTimeout(r, 200)); // both relays up, the leader busy with the backlog
      const standby = first === a ? b : a;

      let killedAt = 0;
      for (let seq = BACKLOG + 1; seq <= ROUNDS; seq++) {
        await writeRound(aggregates, seq);
        if (seq === (2 * ROUNDS) / 3) {
          // Only the leader has published so far, although both relays were up with a backlog.
          expect(first.sent()).toBeGreaterThan(0);
          expect(standby.sent()).toBe(0);
          // Mid-stream: the leader dies with a backlog behind it.
          first.child.kill('SIGKILL');
          killedAt = performance.now();
        }
        if (seq % 10 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      const tookOver = await standby.leader;
      await first.exited;
      const total = AGGREGATES * ROUNDS;
      await eventually(() => pool.query('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL').then((r) => r.rows[0].n as number), {
        until: (n) => n === 0,
        timeoutMs: 60_000,
        message: 'the standby published the backlog',
      });
      await eventually(() => new Set(watcher.messages.map((m) => decodeEvent(m).id)).size, { until: (n) => n >= total, timeoutMs: 30_000, message: 'every event on Kafka' });

      // Dedup by ce_id (the leader may have been killed between the ack and the mark), then check order.
      const { distinct, duplicates, bySubject } = sequencesBySubject(watcher.messages, (e) => Number(decodeData(e, ItemCreated).name));
      expect(distinct).toBe(total);
      const expected = Array.from({ length: ROUNDS }, (_, i) => i + 1);
      for (const id of aggregates) expect(bySubject.get(id)).toEqual(expected);
      process.stdout.write(`relay takeover after SIGKILL: ${(tookOver - killedAt).toFixed(0)} ms; ${total} events, ${duplicates} re-published duplicates absorbed\n`);
      expect(tookOver - killedAt).toBeLessThan(5_000);
    } finally {
      for (const r of [a, b]) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
      await Promise.all([a.exited, b.exited]);
      await watcher.stop();
    }
  });
});

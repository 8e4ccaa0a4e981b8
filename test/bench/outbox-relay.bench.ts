/**
 * npm run bench:outbox — the outbox relay against the real PostgreSQL and Kafka of the local stack.
 * 1. Drain: BENCH_OUTBOX_BACKLOG rows already committed; the relay publishes them; events/s.
 * 2. Steady state: writers commit BENCH_OUTBOX_RATE events/s (in transactions of 20) for
 *    BENCH_OUTBOX_SECONDS; commit→ack latency per event (commit = COMMIT returned to the writer,
 *    ack = Kafka acknowledged the batch holding it): p50/p99, and the relay's events/s.
 * BENCH_OUTBOX_REPLICAS relays (default 1) run on the database, as replicas of a service would: one
 * leads and publishes, the others stand by (libs/kafka/README.md).
 */
import { ItemCreated } from '@crm/contracts/crm/testkit/events/v1/item_events';
import { createOrm, migrate, uuidv7 } from '@crm/db';
import { OutboxRelay } from '@crm/kafka';
import { createTestDatabase, stackUrls, testLogger, uniqueName, createRunTopics, kafkaFor } from '@crm/testing';
import { Pool } from 'pg';
import { ITEM_CREATED, ITEM_TOPIC, probeEntities, probeMigrations } from '../support/probe';
import { fmt, machine, percentile, postgresSettings } from './stats';

const BACKLOG = Number(process.env.BENCH_OUTBOX_BACKLOG ?? 50_000);
const RATE = Number(process.env.BENCH_OUTBOX_RATE ?? 5_000);
const SECONDS = Number(process.env.BENCH_OUTBOX_SECONDS ?? 20);
const REPLICAS = Number(process.env.BENCH_OUTBOX_REPLICAS ?? 1);
const TX_SIZE = 20;

const payload = Buffer.from(ItemCreated.encode({ itemId: uuidv7(), tenantId: 'bench', name: 'benchmark item with a name of ordinary length' }).finish());

async function insertEvents(pool: Pool, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => uuidv7());
  await pool.query(
    `INSERT INTO outbox (event_id, topic, event_type, subject, tenant_id, source, payload)
     SELECT id, $2, $3, id::text, 'bench', 'crm/bench', $4 FROM unnest($1::uuid[]) AS id`,
    [ids, ITEM_TOPIC, ITEM_CREATED, payload],
  );
  return ids;
}

async function main() {
  const logger = testLogger('bench-outbox');
  const urls = stackUrls();
  const db = await createTestDatabase('bench_outbox');
  const orm = await createOrm({ clientUrl: db.url, entities: probeEntities, migrations: probeMigrations });
  await migrate(orm);
  await orm.close(true);
  const kafka = kafkaFor(urls.kafkaBrokers, logger);
  const rename = await createRunTopics(kafka, `.${uniqueName('bench')}`);
  const pool = new Pool({ connectionString: db.url, max: 8 });
  const acked = new Map<string, number>();
  const relays = Array.from(
    { length: REPLICAS },
    () =>
      new OutboxRelay({
        databaseUrl: db.url,
        kafka,
        logger,
        topicName: rename,
        afterAck: async (ids) => {
          const now = performance.now();
          for (const id of ids) acked.set(id, now);
        },
      }),
  );

  // 1. Drain a committed backlog.
  for (let done = 0; done < BACKLOG; done += 5000) await insertEvents(pool, Math.min(5000, BACKLOG - done));
  const t0 = performance.now();
  await Promise.all(relays.map((r) => r.start()));
  while (acked.size < BACKLOG) await new Promise((r) => setTimeout(r, 20));
  const drainS = (performance.now() - t0) / 1000;
  const drainRate = BACKLOG / drainS;

  // 2. Steady state at a fixed arrival rate.
  acked.clear();
  const committed = new Map<string, number>();
  const txPerSecond = RATE / TX_SIZE;
  const total = Math.round(txPerSecond * SECONDS);
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / txPerSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const p = insertEvents(pool, TX_SIZE).then((ids) => {
      const at = performance.now();
      for (const id of ids) committed.set(id, at);
    });
    inflight.push(p);
    if (inflight.length > 64) await inflight.shift();
  }
  await Promise.all(inflight);
  const writeS = (performance.now() - start) / 1000;
  while (acked.size < committed.size) await new Promise((r) => setTimeout(r, 20));
  const steadyS = (performance.now() - start) / 1000;
  const latencies = [...committed].map(([id, at]) => Math.max(0, acked.get(id)! - at));

  await Promise.all(relays.map((r) => r.stop()));
  await pool.end();
  await db.drop();

  console.log(`machine: ${machine()}; ${await postgresSettings(urls.databaseUrl)}; ${REPLICAS} relay replica(s) on the database`);
  console.log(`outbox relay drain: ${BACKLOG} events in ${fmt(drainS, 2)} s = ${fmt(drainRate, 0)} events/s`);
  console.log(
    `outbox relay steady state: offered ${RATE} events/s for ${SECONDS} s (achieved ${fmt(committed.size / writeS, 0)} committed/s, ${fmt(committed.size / steadyS, 0)} acked/s); ` +
      `commit→ack p50 ${fmt(percentile(latencies, 50))} ms, p99 ${fmt(percentile(latencies, 99))} ms, max ${fmt(Math.max(...latencies))} ms`,
  );
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

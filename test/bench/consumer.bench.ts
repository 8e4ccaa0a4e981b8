/**
 * npm run bench:consumer — the idempotent consumer into the real PostgreSQL: BENCH_CONSUMER_EVENTS
 * events are produced to a 3-partition topic first, then the consumer applies them (one item_effects
 * row each, plus the processed_events row, in one transaction per batch). Prints events/s.
 */
import { ItemCreated } from '@crm/contracts/crm/testkit/events/v1/item_events';
import { createOrm, migrate, uuidv7 } from '@crm/db';
import { IdempotentConsumer, TypedProducer } from '@crm/kafka';
import { createTestDatabase, runId, stackUrls, testLogger, uniqueName, createRunTopics, kafkaFor, lag } from '@crm/testing';
import { Pool } from 'pg';
import { applyItemEvent, ITEM_CREATED, ITEM_TOPIC, probeEntities, probeMigrations } from '../support/probe';
import { fmt, machine } from './stats';

const EVENTS = Number(process.env.BENCH_CONSUMER_EVENTS ?? 50_000);

async function main() {
  const logger = testLogger('bench-consumer');
  const db = await createTestDatabase('bench_consumer');
  const orm = await createOrm({ clientUrl: db.url, entities: probeEntities, migrations: probeMigrations, poolMax: 6 });
  await migrate(orm);
  const kafka = kafkaFor(stackUrls().kafkaBrokers, logger);
  const rename = await createRunTopics(kafka, `.${uniqueName('bench')}`);
  const topic = rename(ITEM_TOPIC);

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const typed = new TypedProducer(producer, 'crm/bench');
  for (let done = 0; done < EVENTS; done += 2000) {
    const events = Array.from({ length: Math.min(2000, EVENTS - done) }, (_, i) => {
      const itemId = uuidv7();
      const tenantId = `t${i % 10}`;
      return { type: ITEM_CREATED, codec: ItemCreated, payload: { itemId, tenantId, name: 'bench' }, subject: itemId, tenantId };
    });
    await typed.publish(topic, events);
  }
  await producer.disconnect();

  const group = `bench-${runId}`;
  const consumer = new IdempotentConsumer({ kafka, orm, logger, groupId: group, topics: [topic], handler: applyItemEvent });
  const pool = new Pool({ connectionString: db.url, max: 1 });
  const t0 = performance.now();
  await consumer.start();
  for (;;) {
    const n = Number((await pool.query('SELECT count(*) AS n FROM item_effects')).rows[0].n);
    if (n >= EVENTS) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const s = (performance.now() - t0) / 1000;
  const remaining = await lag(kafka, group, topic);
  await consumer.stop();
  await pool.end();
  await orm.close(true);
  await db.drop();
  console.log(`machine: ${machine()}`);
  console.log(`idempotent consumer into PostgreSQL: ${EVENTS} events in ${fmt(s, 2)} s = ${fmt(EVENTS / s, 0)} events/s (uncommitted lag at the end: ${remaining})`);
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

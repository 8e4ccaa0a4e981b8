/**
 * The metrics that show trouble, read through a real OpenTelemetry MeterProvider while a relay and an
 * idempotent consumer work on the real PostgreSQL and Kafka: the outbox backlog and the age of its
 * oldest row while the relay stands by (the test holds the leadership lock), the leader gauge and the
 * leadership changes once it takes over, and the consumer group's lag back at 0 once it caught up.
 */
import { metrics } from '@crm/telemetry';
import { MeterProvider, MetricReader, type DataPoint, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { createOrm, migrate, type MikroORM } from '@crm/db';
import { IdempotentConsumer, OutboxRelay, RELAY_LOCK, type Kafka } from '@crm/kafka';
import { createRunTopics, createTestDatabase, eventually, kafkaFor, runId, stackUrls, testLogger, uniqueName, type TestDatabase } from '@crm/testing';
import { Client } from 'pg';
import { applyItemEvent, createItem, ITEM_TOPIC, probeEntities, probeMigrations } from '../support/probe';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const reader = new TestReader();
const provider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(provider);

const logger = testLogger('metrics-test');
let db: TestDatabase;
let orm: MikroORM;
let kafka: Kafka;
let topic: string;
let suffix: string;

beforeAll(async () => {
  db = await createTestDatabase('metrics');
  orm = await createOrm({ clientUrl: db.url, entities: probeEntities, migrations: probeMigrations });
  await migrate(orm);
  kafka = kafkaFor(stackUrls().kafkaBrokers, logger);
  suffix = `.${uniqueName('metrics')}`;
  topic = (await createRunTopics(kafka, suffix))(ITEM_TOPIC);
});

afterAll(async () => {
  await provider.shutdown();
  metrics.disable();
  await orm?.close(true);
  await db?.drop();
});

/** The points of one metric, from a fresh collection. */
async function points(name: string): Promise<DataPoint<number>[]> {
  const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics };
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.filter((m) => m.descriptor.name === name).flatMap((m) => m.dataPoints as DataPoint<number>[]));
}
const value = async (name: string) => (await points(name)).reduce((sum, p) => sum + p.value, 0);

describe('relay and consumer metrics', () => {
  it('show the backlog while no relay leads, the leadership once one does, and the lag back to 0', async () => {
    // Someone else holds the leadership: the relay stands by and the rows wait.
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1::int, $2::int)', [...RELAY_LOCK]);
    const relay = new OutboxRelay({ databaseUrl: db.url, kafka, logger, topicName: (t) => `${t}${suffix}` });
    const consumer = new IdempotentConsumer({ kafka, orm, logger, groupId: `metrics-${runId}`, topics: [topic], handler: applyItemEvent });
    try {
      for (const name of ['a', 'b', 'c']) await createItem(orm, 't-metrics', name);
      await relay.start();
      await new Promise((r) => setTimeout(r, 600));
      expect(await value('outbox.backlog')).toBe(3);
      expect(await value('outbox.oldest_unsent_age')).toBeGreaterThanOrEqual(500);
      expect(await value('outbox.leader')).toBe(0);
      expect(relay.isLeader).toBe(false);

      await holder.end(); // the lock is free: the standby takes over within its leaderPollMs
      await eventually(() => value('outbox.backlog'), { until: (n) => n === 0, message: 'the backlog drained' });
      expect(await value('outbox.oldest_unsent_age')).toBe(0);
      expect(await value('outbox.leader')).toBe(1);
      const changes = await points('outbox.leadership_changes');
      expect(changes.map((p) => [p.attributes.change, p.value])).toEqual([['acquired', 1]]);

      await consumer.start();
      await eventually(() => value('consumer.processed'), { until: (n) => n === 3, timeoutMs: 30_000, message: 'the consumer applied the three events' });
      const lag = await points('consumer.lag');
      expect(lag.length).toBeGreaterThan(0);
      for (const p of lag) expect(p.attributes['messaging.consumer.group.name']).toBe(`metrics-${runId}`);
      expect(lag.reduce((s, p) => s + p.value, 0)).toBe(0);
    } finally {
      await consumer.stop();
      await relay.stop();
      await holder.end().catch(() => undefined);
    }
  });
});

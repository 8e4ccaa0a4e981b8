import { ItemCreated } from '@crm/contracts/crm/testkit/events/v1/item_events';
import { createOrm, migrate, uuidv7, type MikroORM } from '@crm/db';
import { encodeEvent, IdempotentConsumer, TypedProducer, type CloudEvent, type Kafka } from '@crm/kafka';
import { createTestDatabase, eventually, runId, stackUrls, testLogger, uniqueName, type TestDatabase, collect, header, kafkaFor, lag } from '@crm/testing';
import type { Producer } from 'kafkajs';
import { Pool } from 'pg';
import { applyItemEvent, ITEM_CREATED, probeEntities, probeMigrations } from '../support/probe';

const logger = testLogger('consumer-test');
let db: TestDatabase;
let orm: MikroORM;
let pool: Pool;
let kafka: Kafka;
let producer: Producer;

beforeAll(async () => {
  db = await createTestDatabase('consumer');
  orm = await createOrm({ clientUrl: db.url, entities: probeEntities, migrations: probeMigrations });
  await migrate(orm);
  pool = new Pool({ connectionString: db.url, max: 2 });
  kafka = kafkaFor(stackUrls().kafkaBrokers, logger);
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await pool?.end();
  await orm?.close(true);
  await db?.drop();
});

/** A single-partition topic and its DLQ, so the order of messages is the order of offsets. */
async function makeTopic(): Promise<string> {
  const topic = `crm.testkit.item.v1.${uniqueName('consumer')}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }, { topic: `${topic}.dlq`, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  return topic;
}

function itemEvent(name: string, id = uuidv7()): CloudEvent {
  const itemId = uuidv7();
  return {
    id,
    source: 'crm/testkit',
    type: ITEM_CREATED,
    subject: itemId,
    tenantId: 't1',
    time: new Date().toISOString(),
    contentType: 'application/protobuf',
    data: Buffer.from(ItemCreated.encode({ itemId, tenantId: 't1', name }).finish()),
  };
}

async function effects(): Promise<string[]> {
  return (await pool.query('SELECT name FROM item_effects ORDER BY id')).rows.map((r) => r.name);
}

describe('idempotent consumer', () => {
  beforeEach(async () => {
    await pool.query('TRUNCATE item_effects, processed_events');
  });

  it('applies the same event delivered twice once', async () => {
    const topic = await makeTopic();
    const dup = itemEvent('delivered twice');
    const other = itemEvent('delivered once');
    // Twice in one batch, and again later in another batch.
    await producer.send({ topic, acks: -1, messages: [encodeEvent(dup), encodeEvent(dup), encodeEvent(other)] });
    const group = `dup-${runId}`;
    const consumer = new IdempotentConsumer({ kafka, orm, logger, groupId: group, topics: [topic], handler: applyItemEvent });
    await consumer.start();
    try {
      await eventually(() => lag(kafka, group, topic), { until: (n) => n === 0, message: 'consumer caught up' });
      await producer.send({ topic, acks: -1, messages: [encodeEvent(dup)] });
      await eventually(() => lag(kafka, group, topic), { until: (n) => n === 0, message: 'consumer caught up again' });
      expect(await effects()).toEqual(['delivered twice', 'delivered once']);
    } finally {
      await consumer.stop();
    }
  });

  it('passes over event types it does not handle: no effect, no processed_events row, offsets committed', async () => {
    const topic = await makeTopic();
    const other = { ...itemEvent('another type'), type: 'crm.testkit.item.renamed.v1' };
    const wanted = itemEvent('handled');
    await producer.send({ topic, acks: -1, messages: [encodeEvent(other), encodeEvent(wanted), encodeEvent({ ...itemEvent('another'), type: 'crm.testkit.item.renamed.v1' })] });
    const group = `types-${runId}`;
    const consumer = new IdempotentConsumer({ kafka, orm, logger, groupId: group, topics: [topic], handler: applyItemEvent, types: [ITEM_CREATED] });
    await consumer.start();
    try {
      await eventually(() => lag(kafka, group, topic), { until: (n) => n === 0, message: 'consumer caught up' });
      expect(await effects()).toEqual(['handled']);
      const rows = (await pool.query('SELECT event_id FROM processed_events WHERE consumer = $1', [group])).rows.map((r) => r.event_id);
      expect(rows).toEqual([wanted.id]);
    } finally {
      await consumer.stop();
    }
  });

  it('sends poison messages to <topic>.dlq with the error in headers while the messages behind them are processed', async () => {
    const topic = await makeTopic();
    const undecodable = encodeEvent(itemEvent('never decoded'));
    delete (undecodable.headers as Record<string, unknown>).ce_id;
    const failing = itemEvent('poison: the handler throws');
    await producer.send({
      topic,
      acks: -1,
      messages: [encodeEvent(itemEvent('before')), undecodable, encodeEvent(failing), encodeEvent(itemEvent('after 1')), encodeEvent(itemEvent('after 2'))],
    });
    const group = `poison-${runId}`;
    const dlq = await collect(kafka, `${topic}.dlq`, `dlq-watch-${runId}`);
    const consumer = new IdempotentConsumer({ kafka, orm, logger, groupId: group, topics: [topic], handler: applyItemEvent, maxAttempts: 3, retryDelayMs: 10 });
    await consumer.start();
    try {
      await eventually(() => effects(), { until: (e) => e.length === 3, message: 'the good messages applied' });
      expect(await effects()).toEqual(['before', 'after 1', 'after 2']);
      await eventually(() => dlq.messages.length, { until: (n) => n === 2, message: 'two messages in the DLQ' });
      const [first, second] = dlq.messages;
      expect(header(first, 'dlq-error-type')).toBe('EnvelopeError');
      expect(header(first, 'dlq-error-message')).toMatch(/ce_id is missing/);
      expect(header(first, 'dlq-original-topic')).toBe(topic);
      expect(header(first, 'dlq-original-offset')).toBe('1');
      expect(header(second, 'dlq-error-message')).toMatch(/cannot apply item named poison/);
      expect(header(second, 'dlq-attempts')).toBe('3');
      expect(header(second, 'ce_id')).toBe(failing.id);
      expect(second.value?.equals(failing.data)).toBe(true);
      await eventually(() => lag(kafka, group, topic), { until: (n) => n === 0, message: 'offsets committed past the poison' });
    } finally {
      await consumer.stop();
      await dlq.stop();
    }
  });
});

describe('typed producer', () => {
  it('publishes typed events the idempotent consumer applies', async () => {
    await pool.query('TRUNCATE item_effects, processed_events');
    const topic = await makeTopic();
    const ids = await new TypedProducer(producer, 'crm/testkit').publish(topic, [
      { type: ITEM_CREATED, codec: ItemCreated, payload: { itemId: 'i1', tenantId: 't1', name: 'typed one' }, subject: 'i1', tenantId: 't1' },
      { type: ITEM_CREATED, codec: ItemCreated, payload: { itemId: 'i2', tenantId: 't1', name: 'typed two' }, subject: 'i2', tenantId: 't1' },
    ]);
    expect(new Set(ids).size).toBe(2);
    await expect(new TypedProducer(producer, 'crm/testkit').publish(topic, [{ type: 'Created', codec: ItemCreated, payload: { itemId: 'x', tenantId: 't1', name: 'x' }, subject: 'x', tenantId: 't1' }])).rejects.toThrow(/ce_type/);
    const group = `typed-${runId}`;
    const consumer = new IdempotentConsumer({ kafka, orm, logger, groupId: group, topics: [topic], handler: applyItemEvent });
    await consumer.start();
    try {
      await eventually(() => lag(kafka, group, topic), { until: (n) => n === 0, message: 'consumer caught up' });
      expect(await effects()).toEqual(['typed one', 'typed two']);
    } finally {
      await consumer.stop();
    }
  });
});

import { ItemCreated } from '@crm/contracts/crm/testkit/events/v1/item_events';
import { createOrm, migrate, type MikroORM } from '@crm/db';
import { decodeData, decodeEvent, IdempotentConsumer, OutboxRelay, type Kafka } from '@crm/kafka';
import { createTestDatabase, eventually, runId, stackUrls, testLogger, uniqueName, type TestDatabase, collect, createRunTopics, header, kafkaFor, lag } from '@crm/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'pg';
import { applyItemEvent, createItem, ItemSchema, ITEM_TOPIC, probeEntities, probeMigrations } from '../support/probe';

const logger = testLogger('outbox-test');
let db: TestDatabase;
let orm: MikroORM;
let pool: Pool;
let kafka: Kafka;
let topic: string;
let suffix: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  const urls = stackUrls();
  db = await createTestDatabase('outbox');
  orm = await createOrm({ clientUrl: db.url, entities: probeEntities, migrations: probeMigrations });
  await migrate(orm);
  pool = new Pool({ connectionString: db.url, max: 2 });
  kafka = kafkaFor(urls.kafkaBrokers, logger);
  suffix = `.${uniqueName('outbox')}`;
  const rename = await createRunTopics(kafka, suffix);
  topic = rename(ITEM_TOPIC);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await pool?.end();
  await orm?.close(true);
  await db?.drop();
});

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const r = await pool.query(sql, params);
  return Number(r.rows[0].n);
}

function startRelayProcess(pauseAfterAck: boolean): { child: ChildProcess; acked: Promise<string[]>; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'support', 'relay-process.ts')], {
    env: { ...process.env, DATABASE_URL: db.url, TOPIC_SUFFIX: suffix, RELAY_PAUSE_AFTER_ACK: pauseAfterAck ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  let onAck: (ids: string[]) => void;
  let onReady: () => void;
  const acked = new Promise<string[]>((r) => (onAck = r));
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout!.on('data', (chunk) => {
    out += String(chunk);
    if (out.includes('READY')) onReady();
    const m = /ACKED (\S+)/.exec(out);
    if (m) onAck(m[1].split(','));
  });
  return { child, acked, ready };
}

describe('transactional outbox', () => {
  it('publishes a committed transaction and nothing of a rolled-back one', async () => {
    const watcher = await collect(kafka, topic, `watch-${runId}-1`);
    const relay = new OutboxRelay({ databaseUrl: db.url, kafka, logger, topicName: (t) => `${t}${suffix}` });
    await relay.start();
    try {
      await expect(
        orm.em.fork().transactional(async (em) => {
          em.create(ItemSchema, { id: '01936f5e-0000-7000-8000-000000000001', tenantId: 't-rollback', name: 'rolled back', createdAt: new Date() });
          const { enqueueEvent } = await import('@crm/kafka');
          enqueueEvent(em, { topic: ITEM_TOPIC, type: 'crm.testkit.item.created.v1', codec: ItemCreated, payload: { itemId: 'x', tenantId: 't-rollback', name: 'rolled back' }, subject: 'x', tenantId: 't-rollback', source: 'crm/testkit' });
          await em.flush();
          throw new Error('business rule failed after the flush');
        }),
      ).rejects.toThrow(/business rule failed/);
      expect(await count('SELECT count(*) AS n FROM outbox')).toBe(0);
      expect(await count('SELECT count(*) AS n FROM items')).toBe(0);

      const item = await createItem(orm, 't-commit', 'committed');
      await eventually(() => watcher.messages.length, { until: (n) => n >= 1, message: 'the committed event on Kafka' });
      // Give a rolled-back event (if one had leaked) time to show up too.
      await new Promise((r) => setTimeout(r, 500));
      expect(watcher.messages).toHaveLength(1);
      const event = decodeEvent(watcher.messages[0]);
      expect(event).toMatchObject({ type: 'crm.testkit.item.created.v1', tenantId: 't-commit', subject: item.id, source: 'crm/testkit' });
      expect(watcher.messages[0].key?.toString()).toBe(`t-commit:${item.id}`);
      expect(decodeData(event, ItemCreated)).toEqual({ itemId: item.id, tenantId: 't-commit', name: 'committed' });
      await eventually(() => count('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL'), { until: (n) => n === 0, message: 'row marked sent' });
    } finally {
      await relay.stop();
      await watcher.stop();
    }
  });

  it('a relay SIGKILLed between the Kafka ack and marking the row sent re-publishes; the idempotent consumer applies it once', async () => {
    const group = `effects-${runId}`;
    const consumer = new IdempotentConsumer({ kafka, orm, logger, groupId: group, topics: [topic], handler: applyItemEvent });
    const watcher = await collect(kafka, topic, `watch-${runId}-2`);
    const before = watcher.messages.length;
    await consumer.start();
    try {
      const item = await createItem(orm, 't-crash', 'survives a crash');
      const eventId = (await pool.query('SELECT event_id FROM outbox WHERE subject = $1', [item.id])).rows[0].event_id as string;

      const first = startRelayProcess(true);
      const acked = await first.acked;
      expect(acked).toContain(eventId);
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      // Kafka has it, but the row is still unsent: the relay died before marking it.
      expect(await count('SELECT count(*) AS n FROM outbox WHERE event_id = $1 AND sent_at IS NULL', [eventId])).toBe(1);

      const second = startRelayProcess(false);
      await second.ready;
      await eventually(() => count('SELECT count(*) AS n FROM outbox WHERE event_id = $1 AND sent_at IS NOT NULL', [eventId]), { until: (n) => n === 1, message: 'row marked sent by the second relay' });
      second.child.kill('SIGTERM');

      const copies = await eventually(() => watcher.messages.slice(before).filter((m) => header(m, 'ce_id') === eventId).length, { until: (n) => n === 2, message: 'two copies on Kafka' });
      expect(copies).toBe(2);
      await eventually(() => lag(kafka, group, topic), { until: (n) => n === 0, message: 'the idempotent consumer caught up' });
      expect(await count('SELECT count(*) AS n FROM item_effects WHERE event_id = $1', [eventId])).toBe(1);
      expect(await count('SELECT count(*) AS n FROM processed_events WHERE consumer = $1 AND event_id = $2', [group, eventId])).toBe(1);
    } finally {
      await consumer.stop();
      await watcher.stop();
    }
  });
});

import { ProbeServiceService } from '@crm/contracts/crm/testkit/v1/probe';
import { createOrm, migrate, type MikroORM } from '@crm/db';
import { createClient, startGrpcServer, type RunningGrpcServer } from '@crm/grpc';
import { IdempotentConsumer, OutboxRelay, type Kafka } from '@crm/kafka';
import { initTelemetry, SpanKind, tracer, type Telemetry } from '@crm/telemetry';
import { createTestDatabase, eventually, runId, stackUrls, testLogger, uniqueName, type TestDatabase, createRunTopics, kafkaFor } from '@crm/testing';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Pool } from 'pg';
import { applyItemEvent, ITEM_TOPIC, probeEntities, probeMigrations, probeService } from '../support/probe';

const logger = testLogger('trace-test');
const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let db: TestDatabase;
let orm: MikroORM;
let server: RunningGrpcServer;
let kafka: Kafka;
let relay: OutboxRelay;
let consumer: IdempotentConsumer;

beforeAll(async () => {
  telemetry = await initTelemetry({ serviceName: 'trace-test', spanExporters: [exporter] });
  db = await createTestDatabase('trace');
  orm = await createOrm({ clientUrl: db.url, entities: probeEntities, migrations: probeMigrations });
  await migrate(orm);
  kafka = kafkaFor(stackUrls().kafkaBrokers, logger);
  const suffix = `.${uniqueName('trace')}`;
  const rename = await createRunTopics(kafka, suffix);
  server = await startGrpcServer({ services: [probeService(orm)], logger, host: '127.0.0.1', port: 0 });
  relay = new OutboxRelay({ databaseUrl: db.url, kafka, logger, topicName: rename });
  await relay.start();
  consumer = new IdempotentConsumer({ kafka, orm, logger, groupId: `trace-${runId}`, topics: [rename(ITEM_TOPIC)], handler: applyItemEvent });
  await consumer.start();
});

afterAll(async () => {
  await consumer?.stop();
  await relay?.stop();
  await server?.shutdown(1000);
  await orm?.close(true);
  await db?.drop();
  await telemetry?.shutdown();
});

describe('trace context', () => {
  it('links the gRPC call, the outbox publish and the consumer handling in one trace', async () => {
    const client = createClient(ProbeServiceService, { address: `127.0.0.1:${server.port}` });
    const tenant = { tenantId: 't1', callerId: 'tester', callerKind: 'service' as const };
    const { traceId, itemId } = await tracer('test').startActiveSpan('test root', async (root) => {
      const res = await client.createItem({ name: 'traced' }, tenant);
      root.end();
      return { traceId: root.spanContext().traceId, itemId: res.item!.id };
    });
    client.close();

    const pool = new Pool({ connectionString: db.url, max: 1 });
    await eventually(async () => (await pool.query('SELECT 1 FROM item_effects WHERE item_id = $1', [itemId])).rowCount, { until: (n) => n === 1, message: 'event applied' });
    await pool.end();

    const spans = await eventually(() => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId), {
      until: (s) => s.some((x) => x.kind === SpanKind.CONSUMER),
      message: 'consumer span recorded',
    });
    const byKind = (kind: SpanKind) => spans.find((s) => s.kind === kind) as ReadableSpan;
    const clientSpan = byKind(SpanKind.CLIENT);
    const serverSpan = byKind(SpanKind.SERVER);
    const publishSpan = byKind(SpanKind.PRODUCER);
    const consumeSpan = byKind(SpanKind.CONSUMER);
    for (const s of [clientSpan, serverSpan, publishSpan, consumeSpan]) expect(s).toBeDefined();
    expect(serverSpan.name).toBe('/crm.testkit.v1.ProbeService/CreateItem');
    // The chain: client → server (gRPC metadata) → publish (outbox row) → consume (Kafka headers).
    expect(serverSpan.parentSpanContext?.spanId).toBe(clientSpan.spanContext().spanId);
    expect(publishSpan.parentSpanContext?.spanId).toBe(serverSpan.spanContext().spanId);
    expect(consumeSpan.parentSpanContext?.spanId).toBe(publishSpan.spanContext().spanId);
    expect(consumeSpan.name).toBe('process crm.testkit.item.created.v1');
  });
});

/**
 * Starts intake in-process against the real engines for one test file: a fresh database, the registry's
 * topics with a per-run suffix, the real gRPC server, and a promise client over a real connection.
 */
import { IntakeServiceService } from '@crm/contracts/crm/intake/v1/intake';
import { parseConfig } from '@crm/config';
import { createClient, type PromiseClient, type ServiceError, type TenantContext } from '@crm/grpc';
import { createKafka, createTopics, loadRegistry, type Kafka } from '@crm/kafka';
import type { RunningService } from '@crm/service';
import { createTestDatabase, stackUrls, testLogger, uniqueName, type TestDatabase } from '@crm/testing';
import type { KafkaMessage } from 'kafkajs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { intakeEnv, startIntake } from '../src/app';

export interface Harness {
  service: RunningService;
  client: PromiseClient<typeof IntakeServiceService>;
  pool: Pool;
  kafka: Kafka;
  /** The registry topic name with this run's suffix. */
  topic: (name: string) => string;
  stop(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const urls = stackUrls();
  const logger = testLogger('intake-test');
  const db: TestDatabase = await createTestDatabase('intake');
  const suffix = `.${uniqueName('intake')}`;
  const topic = (name: string) => `${name}${suffix}`;
  const kafka = createKafka({ clientId: 'intake-test', brokers: urls.kafkaBrokers, logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopics(admin, loadRegistry(join(__dirname, '..', '..', '..', 'proto', 'topics')), { rename: topic });
  } finally {
    await admin.disconnect();
  }
  const env = parseConfig(intakeEnv, {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: urls.kafkaBrokers.join(','),
    TOPIC_SUFFIX: suffix,
    GRPC_HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  const service = await startIntake(env);
  const client = createClient(IntakeServiceService, { address: `127.0.0.1:${service.grpc.port}`, defaultDeadlineMs: 15_000 });
  const pool = new Pool({ connectionString: db.url, max: 2 });
  return {
    service,
    client,
    pool,
    kafka,
    topic,
    stop: async () => {
      client.close();
      await pool.end();
      await service.stop();
      await db.drop();
    },
  };
}

export function tenant(tenantId: string, callerId = 'user-1'): TenantContext {
  return { tenantId, callerId, callerKind: 'user' };
}

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

/**
 * contacts in this process for one integration test file: a fresh database, per-run topics (the registry's,
 * with the file's suffix), the service listening on a free port; and the undo of all of it.
 */
import { parseConfig } from '@crm/config';
import type { RunningService } from '@crm/service';
import { createRunTopics, createTestDatabase, deleteRunTopics, kafkaFor, stackUrls, testLogger, type TestDatabase } from '@crm/testing';
import type { Kafka } from 'kafkajs';
import { contactsEnv, startContacts } from '../src/app';

export interface TestContacts {
  db: TestDatabase;
  kafka: Kafka;
  svc: RunningService;
}

export async function startTestContacts(dbPrefix: string, suffix: string): Promise<TestContacts> {
  const urls = stackUrls();
  const db = await createTestDatabase(dbPrefix);
  const kafka = kafkaFor(urls.kafkaBrokers, testLogger());
  await createRunTopics(kafka, suffix);
  const env = parseConfig(contactsEnv, {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: urls.kafkaBrokers.join(','),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    TOPIC_SUFFIX: suffix,
  });
  const svc = await startContacts(env);
  return { db, kafka, svc };
}

/** Stops what startTestContacts started, whatever part of it did start. */
export async function stopTestContacts(t: Partial<TestContacts>, suffix: string): Promise<void> {
  await t.svc?.stop();
  await t.db?.drop();
  if (t.kafka) await deleteRunTopics(t.kafka, suffix);
}

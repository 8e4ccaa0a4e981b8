import { createKafka, loadRegistry, createTopics, type Kafka } from '@crm/kafka';
import type { Logger } from '@crm/logger';
import { join } from 'node:path';
import type { KafkaMessage } from 'kafkajs';

export const registryDir = join(__dirname, '..', '..', 'proto', 'topics');

/** Creates the registry's topics with a per-run suffix; returns the rename function. */
export async function createRunTopics(kafka: Kafka, suffix: string): Promise<(name: string) => string> {
  const rename = (name: string) => `${name}${suffix}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopics(admin, loadRegistry(registryDir), { rename });
  } finally {
    await admin.disconnect();
  }
  return rename;
}

/** Collects every message of a topic (a plain consumer, no idempotency) for assertions. */
export async function collect(kafka: Kafka, topic: string, groupId: string) {
  const messages: KafkaMessage[] = [];
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
  return { messages, stop: () => consumer.disconnect() };
}

export function header(m: KafkaMessage, name: string): string | undefined {
  const v = m.headers?.[name];
  return v === undefined ? undefined : v.toString();
}

/** Sum over partitions of (committed offset of the group) vs (high watermark): 0 when caught up. */
export async function lag(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    let total = 0;
    for (const end of ends) {
      const c = committed.partitions.find((p) => p.partition === end.partition);
      const at = c && Number(c.offset) >= 0 ? Number(c.offset) : 0;
      total += Number(end.high) - at;
    }
    return total;
  } finally {
    await admin.disconnect();
  }
}

export function kafkaFor(brokers: string[], logger: Logger, clientId = 'test'): Kafka {
  return createKafka({ clientId, brokers, logger });
}

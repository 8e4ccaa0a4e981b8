import { createKafka, createTopics, decodeEvent, loadRegistry, type CloudEvent, type Kafka } from '@crm/kafka';
import type { Logger } from '@crm/logger';
import type { KafkaMessage } from 'kafkajs';
import { join } from 'node:path';

/** The topic registry of the repository (proto/topics). */
export const registryDir = join(__dirname, '..', '..', '..', 'proto', 'topics');

export function kafkaFor(brokers: string[], logger: Logger, clientId = 'test'): Kafka {
  return createKafka({ clientId, brokers, logger });
}

/** Creates every registry topic (and its DLQ) with a per-run suffix; returns the rename function. */
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

/** Every message of a topic, collected by a plain consumer of its own group (no idempotency). */
export async function collect(kafka: Kafka, topic: string, groupId: string) {
  const messages: KafkaMessage[] = [];
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
  return { messages, stop: () => consumer.disconnect() };
}

export function header(m: KafkaMessage, name: string): string | undefined {
  const v = m.headers?.[name];
  return v === undefined ? undefined : v.toString();
}

/** Sum over partitions of (high watermark − the group's committed offset): 0 when all is committed. */
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

/**
 * What a consumer that checks per-aggregate sequence numbers sees: the messages deduplicated by ce_id
 * (the first copy wins, as an idempotent consumer keeps it), each aggregate's sequence numbers in the
 * order they arrived, and how many copies were dropped.
 */
export function sequencesBySubject(messages: KafkaMessage[], seqOf: (event: CloudEvent) => number): { distinct: number; duplicates: number; bySubject: Map<string, number[]> } {
  const seen = new Set<string>();
  const bySubject = new Map<string, number[]>();
  for (const m of messages) {
    const e = decodeEvent(m);
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    const list = bySubject.get(e.subject) ?? [];
    list.push(seqOf(e));
    bySubject.set(e.subject, list);
  }
  return { distinct: seen.size, duplicates: messages.length - seen.size, bySubject };
}

/** Deletes the topics createRunTopics made for this suffix (and their dead-letter topics). */
export async function deleteRunTopics(kafka: Kafka, suffix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.endsWith(suffix) || t.endsWith(`${suffix}.dlq`));
    if (mine.length) await admin.deleteTopics({ topics: mine });
  } finally {
    await admin.disconnect();
  }
}

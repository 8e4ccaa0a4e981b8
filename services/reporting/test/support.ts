/**
 * Helpers for reporting's integration tests. (test/support/kafka.ts has similar ones, but a service
 * may not import the cross-service test project.)
 */
import { RequestCreated } from '@crm/contracts/crm/intake/events/v1/request_events';
import { Channel, RequestState } from '@crm/contracts/crm/intake/v1/request';
import { uuidv7 } from '@crm/db';
import { createTopics, loadRegistry, type CloudEvent, type Kafka } from '@crm/kafka';
import type { KafkaMessage } from 'kafkajs';
import { join } from 'node:path';
import { REQUEST_CREATED } from '../src/domain/request-rows';
import { REQUEST_TOPIC } from '../src/kafka/crm.intake.request.v1.consumer';

const registryDir = join(__dirname, '..', '..', '..', 'proto', 'topics');

/** Creates `crm.intake.request.v1<suffix>` and its `.dlq` as the registry declares them. */
export async function createRequestTopic(kafka: Kafka, suffix: string): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const spec = loadRegistry(registryDir).filter((s) => s.name === REQUEST_TOPIC);
    await createTopics(admin, spec, { rename: (n) => `${n}${suffix}` });
  } finally {
    await admin.disconnect();
  }
  return `${REQUEST_TOPIC}${suffix}`;
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

/** Sum over partitions of (high watermark − committed offset of the group): 0 when all is committed. */
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

/** Every message of a topic, collected by a plain consumer of its own group. */
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

export interface CreatedSpec {
  tenantId: string;
  /** YYYY-MM-DD (UTC); the request is created at noon of that day. */
  day: string;
  channel?: Channel;
  utmSource?: string;
  requestId?: string;
  eventId?: string;
}

/** A `crm.intake.request.created.v1` CloudEvent as the intake service publishes it. */
export function createdEvent(spec: CreatedSpec): CloudEvent {
  const requestId = spec.requestId ?? uuidv7();
  const request = RequestCreated.fromPartial({
    request: {
      id: requestId,
      tenantId: spec.tenantId,
      state: RequestState.REQUEST_STATE_NEW,
      axes: { channel: spec.channel ?? Channel.CHANNEL_WEB_FORM },
      attribution: { utmSource: spec.utmSource ?? '' },
      createdAt: `${spec.day}T12:00:00.000Z`,
    },
  });
  return {
    id: spec.eventId ?? uuidv7(),
    source: 'crm/intake',
    type: REQUEST_CREATED,
    subject: requestId,
    tenantId: spec.tenantId,
    time: new Date().toISOString(),
    contentType: 'application/protobuf',
    data: Buffer.from(RequestCreated.encode(request).finish()),
  };
}

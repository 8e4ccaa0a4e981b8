/** Helpers for reporting's integration tests (Kafka helpers shared with others are in @crm/testing). */
import { RequestCreated } from '@crm/contracts/crm/intake/events/v1/request_events';
import { Channel, RequestState } from '@crm/contracts/crm/intake/v1/request';
import { uuidv7 } from '@crm/db';
import { createTopics, loadRegistry, type CloudEvent, type Kafka } from '@crm/kafka';
import { registryDir } from '@crm/testing';
export { collect, header, lag } from '@crm/testing';
import { REQUEST_CREATED } from '../src/domain/request-rows';
import { REQUEST_TOPIC } from '../src/kafka/crm.intake.request.v1.consumer';


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

export interface CreatedSpec {
  tenantId: string;
  /** YYYY-MM-DD (UTC); the request is created at noon of that day unless `createdAt` says when. */
  day?: string;
  /** The exact creation time, RFC 3339 (e.g. `2026-03-01T20:30:00Z`); wins over `day`. */
  createdAt?: string;
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
      createdAt: spec.createdAt ?? `${spec.day}T12:00:00.000Z`,
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

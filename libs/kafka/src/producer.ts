import { uuidv7 } from '@crm/db';
import { injectContext } from '@crm/telemetry';
import type { Producer } from 'kafkajs';
import { CONTENT_TYPE_PROTOBUF, encodeEvent, validateType, type Codec } from './envelope';

export interface TypedEvent<T> {
  /** ce_type, e.g. crm.intake.request.created.v1 */
  type: string;
  codec: Codec<T>;
  payload: T;
  subject: string;
  tenantId: string;
  /** ce_id; a new UUIDv7 when absent. */
  id?: string;
}

/**
 * Publishes typed events directly (CloudEvents binary mode, acks=all). Services publish through the
 * transactional outbox instead; this is for tools, replays and tests that feed a topic.
 */
export class TypedProducer {
  constructor(
    private readonly producer: Producer,
    private readonly source: string,
  ) {}

  /** Sends the events in one batch; returns their ce_ids. */
  async publish<T>(topic: string, events: TypedEvent<T>[]): Promise<string[]> {
    const trace = injectContext();
    const messages = events.map((e) => {
      validateType(e.type);
      return encodeEvent({
        id: e.id ?? uuidv7(),
        source: this.source,
        type: e.type,
        subject: e.subject,
        tenantId: e.tenantId,
        time: new Date().toISOString(),
        contentType: CONTENT_TYPE_PROTOBUF,
        traceparent: trace.traceparent,
        tracestate: trace.tracestate,
        data: Buffer.from(e.codec.encode(e.payload).finish()),
      });
    });
    await this.producer.send({ topic, acks: -1, messages });
    return messages.map((m) => String((m.headers as Record<string, string>).ce_id));
  }
}

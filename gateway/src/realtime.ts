import { RequestCommented, RequestCreated } from '@crm/contracts/crm/intake/events/v1/request_events';
import { createKafka, decodeData, decodeEvent, type Kafka } from '@crm/kafka';
import type { Logger } from '@crm/logger';
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { commentOut, requestOut } from './mappers';

export const REQUEST_TOPIC = 'crm.intake.request.v1';

export type FeedEvent =
  | { type: 'request.created'; request: ReturnType<typeof requestOut> }
  | { type: 'request.commented'; comment: ReturnType<typeof commentOut> };

type Listener = (event: FeedEvent) => void;

/**
 * Request events of every tenant, read from Kafka by this gateway replica (a consumer group of its own,
 * starting at the end: each replica sees every event, nothing is replayed on restart) and handed to
 * the listeners of the event's tenant (the web UI's Server-Sent Events streams).
 */
export class RequestFeed {
  private readonly listeners = new Map<string, Set<Listener>>();
  private consumer?: Consumer;
  private readonly kafka: Kafka;

  constructor(
    private readonly opts: { brokers: string[]; topicSuffix: string; logger: Logger },
  ) {
    this.kafka = createKafka({ clientId: 'gateway-feed', brokers: opts.brokers, logger: opts.logger });
  }

  async start(timeoutMs = 30_000): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: `gateway-feed-${randomUUID()}`, allowAutoTopicCreation: false });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: `${REQUEST_TOPIC}${this.opts.topicSuffix}`, fromBeginning: false });
    const joined = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('realtime feed: the consumer did not join its group in time')), timeoutMs);
      consumer.on(consumer.events.GROUP_JOIN, () => {
        clearTimeout(t);
        resolve();
      });
    });
    // No offsets: a replica starts at the end and its group leaves nothing behind in Kafka.
    await consumer.run({ autoCommit: false, eachMessage: async ({ message }) => this.dispatch(message) });
    await joined;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  subscribe(tenantId: string, listener: Listener): () => void {
    let set = this.listeners.get(tenantId);
    if (!set) this.listeners.set(tenantId, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (!set!.size) this.listeners.delete(tenantId);
    };
  }

  private dispatch(message: Parameters<typeof decodeEvent>[0]): void {
    let event;
    try {
      event = decodeEvent(message);
    } catch (err) {
      this.opts.logger.warn({ err }, 'realtime feed skipped an undecodable event');
      return;
    }
    const set = this.listeners.get(event.tenantId);
    if (!set?.size) return;
    let out: FeedEvent | undefined;
    if (event.type === 'crm.intake.request.created.v1') out = { type: 'request.created', request: requestOut(decodeData(event, RequestCreated).request!) };
    else if (event.type === 'crm.intake.request.commented.v1') out = { type: 'request.commented', comment: commentOut(decodeData(event, RequestCommented).comment!) };
    if (!out) return;
    for (const l of set) l(out);
  }
}

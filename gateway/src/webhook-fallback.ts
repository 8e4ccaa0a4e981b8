import { WebhookReceived } from '@crm/contracts/crm/telephony/events/v1/webhook_events';
import type { ReceiveRequest } from '@crm/contracts/crm/telephony/v1/telephony';
import { CONTENT_TYPE_PROTOBUF, createKafka, encodeEvent, type Kafka } from '@crm/kafka';
import type { Logger } from '@crm/logger';
import type { Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';

/** proto/topics/crm.telephony.webhook.v1.yaml */
export const WEBHOOK_TOPIC = 'crm.telephony.webhook.v1';
export const WEBHOOK_RECEIVED = 'crm.telephony.webhook.received.v1';

/**
 * The gateway's fallback for provider webhooks while telephony is down or slow: the request as received
 * is published to `crm.telephony.webhook.v1` (+ TOPIC_SUFFIX), keyed by the connection id, tenant
 * `platform` in the envelope (the connection says whose; telephony's consumer finds it), and the provider
 * is answered 200. Telephony's consumer verifies and stores it like a live one, measuring the replay
 * window from `received_at`. The producer connects on first use (most gateways never need it) and a
 * publish that takes longer than `timeoutMs` counts as failed (then the provider gets a 503 and retries).
 */
export class WebhookFallback {
  private readonly kafka: Kafka;
  private producer?: Promise<Producer>;

  constructor(private readonly opts: { brokers: string[]; topicSuffix: string; logger: Logger; timeoutMs?: number }) {
    this.kafka = createKafka({ clientId: 'gateway-webhooks', brokers: opts.brokers, logger: opts.logger, retry: { retries: 2, initialRetryTime: 100 } });
  }

  private connect(): Promise<Producer> {
    if (!this.producer) {
      // Not kafkajs' idempotent producer (it wants unlimited retries; this one gives up within the deadline):
      // a message sent twice has one ce_id and one delivery id, and telephony stores it once.
      const p = this.kafka.producer({ allowAutoTopicCreation: false });
      this.producer = p.connect().then(
        () => p,
        (err) => {
          this.producer = undefined;
          throw err;
        },
      );
    }
    return this.producer;
  }

  /** Connects the producer ahead of need (the first fallback then costs no connection); errors are ignored. */
  warm(): void {
    this.connect().catch((err) => this.opts.logger.warn({ err }, 'webhook fallback producer could not connect yet; will retry on use'));
  }

  /** Publishes the request; rejects when Kafka did not take it within the timeout. */
  async publish(request: ReceiveRequest): Promise<void> {
    const timeoutMs = this.opts.timeoutMs ?? 3000;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Kafka did not take the webhook within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([
        (async () => {
          const producer = await this.connect();
          const message = encodeEvent({
            id: randomUUID(),
            source: 'crm/gateway',
            type: WEBHOOK_RECEIVED,
            subject: request.connectionId || 'unknown',
            tenantId: 'platform',
            time: new Date().toISOString(),
            contentType: CONTENT_TYPE_PROTOBUF,
            data: Buffer.from(WebhookReceived.encode({ request }).finish()),
          });
          await producer.send({ topic: `${WEBHOOK_TOPIC}${this.opts.topicSuffix}`, acks: -1, timeout: timeoutMs, messages: [{ ...message, key: request.connectionId || 'unknown' }] });
        })(),
        deadline,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    if (p) await (await p.catch(() => undefined))?.disconnect().catch(() => undefined);
  }
}

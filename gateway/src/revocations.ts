import { SessionsEnded } from '@crm/contracts/crm/identity/events/v1/session_events';
import { createKafka, decodeData, decodeEvent, type Kafka } from '@crm/kafka';
import type { Logger } from '@crm/logger';
import type { Consumer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import type { Authenticator } from './auth';

/** proto/topics/crm.identity.session.v1.yaml */
export const SESSION_TOPIC = 'crm.identity.session.v1';
const SESSIONS_ENDED = 'crm.identity.session.ended.v1';

/**
 * Ended sessions, read by this gateway replica from Kafka (a consumer group of its own, starting at the
 * end, like the realtime feed): each SessionsEnded makes the Authenticator forget the sessions (or every
 * credential of the user) at once and closes their live streams — so a session ended through one replica,
 * or a deactivated user, is refused by every replica within the event's delivery time, not after
 * AUTH_CACHE_TTL_MS. Should Kafka be unreachable, the cache's TTL still bounds how long an ended session
 * is trusted.
 */
export class Revocations {
  private consumer?: Consumer;
  private readonly kafka: Kafka;

  constructor(private readonly opts: { brokers: string[]; topicSuffix: string; logger: Logger; auth: Authenticator }) {
    this.kafka = createKafka({ clientId: 'gateway-revocations', brokers: opts.brokers, logger: opts.logger });
  }

  async start(timeoutMs = 30_000): Promise<void> {
    // A fetch returns as soon as an event arrives; the wait only bounds an idle poll (and a stop).
    const consumer = this.kafka.consumer({ groupId: `gateway-revocations-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 1000 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [`${SESSION_TOPIC}${this.opts.topicSuffix}`], fromBeginning: false });
    const joined = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('revocations: the consumer did not join its group in time')), timeoutMs);
      consumer.on(consumer.events.GROUP_JOIN, () => {
        clearTimeout(t);
        resolve();
      });
    });
    // No offsets: a replica starts at the end (what it did not cache before it started, it need not forget).
    await consumer.run({ autoCommit: false, eachMessage: async ({ message }) => this.handle(message) });
    await joined;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  private handle(message: Parameters<typeof decodeEvent>[0]): void {
    try {
      const event = decodeEvent(message);
      if (event.type !== SESSIONS_ENDED) return;
      const e = decodeData(event, SessionsEnded);
      if (!e.userId) return;
      this.opts.auth.revoked(e.allOfUser || !e.sessionIds.length ? { subjectId: e.userId } : { subjectId: e.userId, sessionIds: e.sessionIds });
    } catch (err) {
      this.opts.logger.warn({ err }, 'revocations skipped an undecodable event');
    }
  }
}

import { EntitySchema, Migration, type EntityManager, type MikroORM, type NamedMigration } from '@crm/db';
import type { Logger } from '@crm/logger';
import { extractContext, meter, SpanKind, SpanStatusCode, tracer } from '@crm/telemetry';
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { decodeEvent, EnvelopeError, type CloudEvent } from './envelope';
import { ConsumerLag } from './lag';
import { dlqTopic } from './registry';

/** One row per event a consumer group has applied; written in the same transaction as the effect. */
export interface ProcessedEvent {
  consumer: string;
  eventId: string;
  processedAt: Date;
}

export const ProcessedEventSchema = new EntitySchema<ProcessedEvent>({
  name: 'ProcessedEvent',
  tableName: 'processed_events',
  properties: {
    consumer: { type: 'text', primary: true },
    eventId: { type: 'uuid', fieldName: 'event_id', primary: true },
    processedAt: { type: 'datetime', fieldName: 'processed_at', columnType: 'timestamptz', defaultRaw: 'now()' },
  },
});

export class Migration0002ProcessedEvents extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE IF NOT EXISTS processed_events (
        consumer text NOT NULL,
        event_id uuid NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`);
  }
}

export const processedEventsMigration: NamedMigration = { name: 'lib_0002_processed_events', class: Migration0002ProcessedEvents };

/** Applies one event inside the transaction that also records its ce_id. Throw to fail it. */
export type EventHandler = (event: CloudEvent, em: EntityManager) => Promise<void>;

/**
 * Group membership timing for the platform's consumers. A member that dies without leaving (SIGKILL,
 * OOM, a lost node) holds its partitions until its session times out; kafkajs' 30 s default stalls
 * those partitions that long. 10 s with a heartbeat every second cuts the detection of a dead member to a third
 * (test/chaos measures it) while tolerating event-loop stalls of several seconds.
 */
export const CONSUMER_GROUP_TIMING = { sessionTimeout: 10_000, heartbeatInterval: 1_000 } as const;

export interface ConsumerOptions {
  kafka: Kafka;
  orm: MikroORM;
  logger: Logger;
  /** Consumer group id; also the `consumer` column of processed_events. */
  groupId: string;
  topics: string[];
  handler: EventHandler;
  /**
   * The event types the handler acts on (default: all). Others are passed over — offset committed, no
   * transaction, no processed_events row — so a consumer of a busy topic pays only for what it uses.
   */
  types?: readonly string[];
  /** Attempts before a message goes to `<topic>.dlq` (default 3). */
  maxAttempts?: number;
  /** First retry delay, doubled each attempt (default 100 ms). */
  retryDelayMs?: number;
  partitionsConsumedConcurrently?: number;
  fromBeginning?: boolean;
}

interface Decoded {
  message: KafkaMessage;
  event?: CloudEvent;
  error?: Error;
}

/** An error thrown by the handler (the message's fault), as opposed to infrastructure failing. */
class HandlerFailure extends Error {
  constructor(readonly original: Error) {
    super(original.message);
  }
}

/**
 * The idempotent consumer. For each batch of a partition: the ce_ids are inserted into
 * processed_events with ON CONFLICT DO NOTHING in one transaction with the handler's effects, so an
 * event delivered twice has one effect. Offsets are committed after that transaction. A batch that
 * fails is replayed message by message; a message that keeps failing (bounded retries) or cannot be
 * decoded goes to `<topic>.dlq` with the error in its headers, and the partition moves on.
 * Infrastructure errors (the database down) are not the message's fault: they are thrown so kafkajs
 * retries the batch from the last committed offset, and nothing goes to the DLQ.
 */
export class IdempotentConsumer {
  private consumer?: Consumer;
  private producer?: Producer;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly processed;
  private readonly deadLettered;
  private readonly lag: ConsumerLag;

  constructor(private readonly opts: ConsumerOptions) {
    this.maxAttempts = opts.maxAttempts ?? 3;
    this.retryDelayMs = opts.retryDelayMs ?? 100;
    const m = meter('crm.consumer');
    this.processed = m.createCounter('consumer.processed', { description: 'events applied' });
    this.deadLettered = m.createCounter('consumer.dead_lettered', { description: 'events sent to the DLQ' });
    this.lag = new ConsumerLag(opts.groupId);
  }

  async start(): Promise<void> {
    this.producer = this.opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await this.producer.connect();
    // An idle fetch is held by the broker up to maxWaitTimeInMs, and stopping waits for it: 1 s (not
    // kafkajs' 5 s) keeps a drain short at the cost of one empty fetch a second per idle consumer.
    this.consumer = this.opts.kafka.consumer({ groupId: this.opts.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 1000, ...CONSUMER_GROUP_TIMING });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.opts.topics, fromBeginning: this.opts.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.opts.logger.info({ groupId: this.opts.groupId, topics: this.opts.topics }, 'consumer started');
  }

  /** Stops fetching, finishes the batch in flight, commits, leaves the group. */
  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
    this.consumer = undefined;
    this.producer = undefined;
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    this.lag.record(batch);
    const decoded: Decoded[] = batch.messages.map((message) => {
      try {
        return { message, event: decodeEvent(message) };
      } catch (err) {
        return { message, error: err as Error };
      }
    });
    const commit = async (offset: string) => {
      resolveOffset(offset);
      await this.consumer!.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(offset) + 1n).toString() }]);
    };

    // Fast path: every message decodes and the whole batch applies in one transaction.
    const good = decoded.every((d) => d.event);
    if (good && decoded.length) {
      try {
        await this.apply(decoded.map((d) => d.event!));
        await commit(batch.lastOffset());
        await heartbeat();
        return;
      } catch (err) {
        if (!(err instanceof HandlerFailure)) throw err;
        this.opts.logger.warn({ err: err.original, topic: batch.topic, partition: batch.partition }, 'batch failed; replaying one by one');
      }
    }

    // Slow path: one message at a time, bounded retries, then the DLQ.
    for (const d of decoded) {
      if (!isRunning() || isStale()) return;
      if (d.error) {
        await this.deadLetter(batch.topic, batch.partition, d.message, d.error, 1);
      } else {
        await this.applyWithRetries(batch.topic, batch.partition, d.message, d.event!);
      }
      await commit(d.message.offset);
      await heartbeat();
    }
  }

  private async applyWithRetries(topic: string, partition: number, message: KafkaMessage, event: CloudEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.apply([event]);
        return;
      } catch (err) {
        if (!(err instanceof HandlerFailure)) throw err;
        if (attempt >= this.maxAttempts) {
          await this.deadLetter(topic, partition, message, err.original, attempt);
          return;
        }
        await new Promise((r) => setTimeout(r, this.retryDelayMs * 2 ** (attempt - 1)));
      }
    }
  }

  /** Applies events in one transaction; duplicates (already in processed_events) are skipped. */
  private async apply(all: CloudEvent[]): Promise<void> {
    const types = this.opts.types;
    const events = types ? all.filter((e) => types.includes(e.type)) : all;
    if (events.length === 0) {
      this.processed.add(all.length);
      return;
    }
    const em = this.opts.orm.em.fork();
    await em.transactional(async (tx) => {
      const fresh = await tx.getConnection().execute<{ event_id: string }[]>(
        `INSERT INTO processed_events (consumer, event_id)
           SELECT ?, unnest(?::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id`,
        // knex would expand a JS array into a list: pass a PostgreSQL array literal (ids are validated UUIDs).
        [this.opts.groupId, `{${events.map((e) => e.id).join(',')}}`],
        'all',
        tx.getTransactionContext(),
      );
      const isFresh = new Set(fresh.map((r) => r.event_id));
      for (const event of events) {
        if (!isFresh.has(event.id)) continue;
        isFresh.delete(event.id); // the same ce_id twice in one batch applies once
        await this.handleOne(event, tx);
      }
    });
    this.processed.add(all.length);
  }

  private async handleOne(event: CloudEvent, em: EntityManager): Promise<void> {
    const parent = extractContext(event.traceparent ? { traceparent: event.traceparent, ...(event.tracestate ? { tracestate: event.tracestate } : {}) } : {});
    await tracer('crm.consumer').startActiveSpan(
      `process ${event.type}`,
      { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'kafka', 'messaging.message.id': event.id, 'messaging.consumer.group.name': this.opts.groupId } },
      parent,
      async (span) => {
        try {
          await this.opts.handler(event, em);
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          throw new HandlerFailure(err as Error);
        } finally {
          span.end();
        }
      },
    );
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, error: Error, attempts: number): Promise<void> {
    const headers: IHeaders = {
      ...(message.headers ?? {}),
      'dlq-original-topic': topic,
      'dlq-original-partition': String(partition),
      'dlq-original-offset': message.offset,
      'dlq-consumer-group': this.opts.groupId,
      'dlq-error-type': error instanceof EnvelopeError ? 'EnvelopeError' : error.name || 'Error',
      'dlq-error-message': error.message.slice(0, 2000),
      'dlq-attempts': String(attempts),
      'dlq-failed-at': new Date().toISOString(),
    };
    await this.producer!.send({ topic: dlqTopic(topic), acks: -1, messages: [{ key: message.key, value: message.value, headers }] });
    this.deadLettered.add(1);
    this.opts.logger.error({ topic, partition, offset: message.offset, attempts, err: error }, 'message dead-lettered');
  }
}

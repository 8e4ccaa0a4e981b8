/**
 * The ClickHouse sink for `crm.intake.request.v1` (consumer group `reporting`).
 *
 * Rows are buffered across messages and partitions and inserted when `batchRows` rows are waiting or
 * `batchMs` has passed since the first one; only after the insert succeeded are the offsets of
 * everything in it committed (autoCommit off). So a crash loses nothing: uncommitted events are read
 * again, and the tables (ReplacingMergeTree keyed by tenant, day and request) collapse the repeats.
 *
 * - A message that cannot be decoded or stored goes to `<topic>.dlq` with `dlq-*` headers (as
 *   IdempotentConsumer in libs/kafka does) and the partition moves on.
 * - Event types this sink does not store are skipped; their offsets are committed with the rest.
 * - ClickHouse failing: the batch is kept, retried with capped exponential backoff, and nothing is
 *   committed meanwhile; the buffer stops growing at `batchRows` (eachBatch waits for the flush), so
 *   Kafka holds the backlog, not memory.
 * - stop(): pauses fetching, lets the batch in hand finish, flushes and commits while still a group
 *   member (kafkajs ignores commits once its runner stops), then leaves the group.
 *
 * Offsets must be resolved in memory as messages are buffered (otherwise kafkajs fetches the same
 * messages again), but with autoCommit off kafkajs never commits resolved offsets on its own.
 */
import { CONSUMER_GROUP_TIMING, ConsumerLag, decodeEvent, dlqTopic, EnvelopeError, type Kafka } from '@crm/kafka';
import type { Logger } from '@crm/logger';
import { meter, withSpan } from '@crm/telemetry';
import type { Consumer, EachBatchPayload, IHeaders, KafkaMessage, Producer } from 'kafkajs';
import type { ClickHouse } from '../clickhouse/client';
import { mapEvent, type CommentRow, type MappedEvent, type RequestRow } from '../domain/request-rows';

/** Registry name of the topic (the deployment's TOPIC_SUFFIX is appended by the caller). */
export const REQUEST_TOPIC = 'crm.intake.request.v1';
export const REPORTING_GROUP = 'reporting';

export interface RequestSinkOptions {
  kafka: Kafka;
  clickhouse: ClickHouse;
  logger: Logger;
  /** The real topic name (registry name plus suffix). */
  topic: string;
  groupId?: string;
  /** Insert when this many rows are buffered (default 1000). */
  batchRows?: number;
  /** ...or when this many ms have passed since the first buffered row (default 1000). */
  batchMs?: number;
  /** First retry delay after a failed insert, doubled up to retryMaxMs (defaults 200 ms, 10 s). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Insert attempts once stop() has begun, before giving up (the events stay uncommitted; default 3). */
  stopAttempts?: number;
}

/** What is buffered and not yet committed. */
class Pending {
  /** Keyed by event id: the same event twice in the buffer is inserted once. */
  readonly requests = new Map<string, RequestRow>();
  readonly comments = new Map<string, CommentRow>();
  /** partition → next offset to commit (last buffered offset + 1). */
  readonly offsets = new Map<number, bigint>();
  firstAt: number | undefined;

  get rows(): number {
    return this.requests.size + this.comments.size;
  }

  get empty(): boolean {
    return this.rows === 0 && this.offsets.size === 0;
  }

  add(mapped: MappedEvent, partition: number, offset: string): void {
    if (mapped.kind === 'request') this.requests.set(mapped.row.event_id, mapped.row);
    else if (mapped.kind === 'comment') this.comments.set(mapped.row.event_id, mapped.row);
    const next = BigInt(offset) + 1n;
    if ((this.offsets.get(partition) ?? -1n) < next) this.offsets.set(partition, next);
    this.firstAt ??= Date.now();
  }

  /** Takes in what arrived after this batch was taken (used to put a failed batch back). */
  absorb(later: Pending): void {
    for (const [k, v] of later.requests) this.requests.set(k, v);
    for (const [k, v] of later.comments) this.comments.set(k, v);
    for (const [p, o] of later.offsets) if ((this.offsets.get(p) ?? -1n) < o) this.offsets.set(p, o);
    if (later.firstAt !== undefined) this.firstAt = Math.min(this.firstAt ?? later.firstAt, later.firstAt);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RequestEventsSink {
  private consumer?: Consumer;
  private producer?: Producer;
  private pending = new Pending();
  /** The batch being inserted (kept apart so new rows can be buffered meanwhile). */
  private inserting?: Pending;
  private timer?: NodeJS.Timeout;
  /** Flushes run one at a time, in order. */
  private flushChain: Promise<void> = Promise.resolve();
  private readonly batchesInHand = new Set<Promise<void>>();
  /** The latest eachBatch heartbeat, to stay in the group while an insert is being retried. */
  private heartbeat?: () => Promise<void>;
  private stopping = false;
  private stopped?: Promise<void>;
  private readonly groupId: string;
  private readonly batchRows: number;
  private readonly batchMs: number;
  private readonly metrics;

  constructor(private readonly opts: RequestSinkOptions) {
    this.groupId = opts.groupId ?? REPORTING_GROUP;
    this.batchRows = opts.batchRows ?? 1000;
    this.batchMs = opts.batchMs ?? 1000;
    const m = meter('crm.reporting');
    this.metrics = {
      inserted: m.createCounter('reporting.sink.rows_inserted', { description: 'rows inserted into ClickHouse' }),
      deadLettered: m.createCounter('reporting.sink.dead_lettered', { description: 'events sent to the DLQ' }),
      insertFailures: m.createCounter('reporting.sink.insert_failures', { description: 'failed ClickHouse inserts (retried)' }),
      flushMs: m.createHistogram('reporting.sink.flush.duration', { unit: 'ms', description: 'insert and commit of one batch' }),
      lag: new ConsumerLag(this.groupId),
    };
  }

  async start(): Promise<void> {
    const { kafka, topic, logger } = this.opts;
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await this.producer.connect();
    // maxWaitTimeInMs bounds how long an idle fetch blocks stop().
    this.consumer = kafka.consumer({ groupId: this.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 1000, ...CONSUMER_GROUP_TIMING });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [topic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // One batch at a time: the buffer is shared, and a full buffer must hold back every partition.
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.track(this.onBatch(payload)),
    });
    logger.info({ groupId: this.groupId, topic, batchRows: this.batchRows, batchMs: this.batchMs }, 'reporting sink started');
  }

  /** Rows read and not yet inserted, including a batch whose insert is being retried. */
  pendingRows(): number {
    return this.pending.rows + (this.inserting?.rows ?? 0);
  }

  /** Inserts what is buffered and commits its offsets (waits for a flush already running). */
  flush(): Promise<void> {
    const run = this.flushChain.then(() => this.flushOnce());
    this.flushChain = run.catch(() => undefined);
    return run;
  }

  /** Stops fetching, flushes and commits what was read, leaves the group. Safe to call twice. */
  stop(): Promise<void> {
    return (this.stopped ??= (async () => {
      this.stopping = true;
      clearTimeout(this.timer);
      try {
        this.consumer?.pause([{ topic: this.opts.topic }]);
      } catch {
        // not running (start failed half-way): nothing to pause
      }
      await Promise.allSettled([...this.batchesInHand]);
      try {
        await this.flush();
      } catch (err) {
        this.opts.logger.error({ err, rows: this.pending.rows }, 'final flush failed; uncommitted events will be read again on the next start');
      }
      await this.consumer?.disconnect();
      await this.producer?.disconnect();
      this.opts.logger.info({ groupId: this.groupId }, 'reporting sink stopped');
    })());
  }

  private track(batch: Promise<void>): Promise<void> {
    this.batchesInHand.add(batch);
    return batch.finally(() => this.batchesInHand.delete(batch));
  }

  private async onBatch({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> {
    this.heartbeat = heartbeat;
    this.metrics.lag.record(batch);
    const ingestedAt = new Date();
    for (const message of batch.messages) {
      // Left unresolved and uncommitted: read again after the restart.
      if (this.stopping) return;
      let mapped: MappedEvent;
      try {
        mapped = mapEvent(decodeEvent(message), ingestedAt);
      } catch (err) {
        // Decoding and mapping are pure: retrying cannot help, so the message goes to the DLQ now.
        await this.deadLetter(batch.topic, batch.partition, message, err as Error);
        mapped = { kind: 'skip', reason: 'dead-lettered' };
      }
      this.pending.add(mapped, batch.partition, message.offset);
      resolveOffset(message.offset);
      if (this.pending.rows >= this.batchRows) {
        try {
          await this.flush();
        } catch (err) {
          if (this.stopping) return; // stop() makes the last attempt
          throw err;
        }
        await heartbeat();
      }
    }
    this.arm();
  }

  /** Starts the batchMs timer when something is buffered and no timer runs. */
  private arm(): void {
    if (this.timer || this.stopping || this.pending.empty) return;
    const due = (this.pending.firstAt ?? Date.now()) + this.batchMs - Date.now();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((err) => this.opts.logger.warn({ err }, 'timed flush gave up'));
    }, Math.max(0, due));
  }

  private async flushOnce(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.empty) return;
    const taken = this.pending;
    this.pending = new Pending();
    this.inserting = taken;
    const started = performance.now();
    try {
      await withSpan('reporting.sink.flush', { attributes: { 'reporting.rows': taken.rows } }, () => this.insertWithRetries(taken));
    } catch (err) {
      // Only reached while stopping: keep the rows for the final attempt; offsets stay uncommitted.
      taken.absorb(this.pending);
      this.pending = taken;
      throw err;
    } finally {
      this.inserting = undefined;
    }
    await this.commit(taken.offsets);
    this.metrics.inserted.add(taken.rows);
    this.metrics.flushMs.record(performance.now() - started);
    this.opts.logger.debug({ requests: taken.requests.size, comments: taken.comments.size, ms: Math.round(performance.now() - started) }, 'batch inserted');
    this.arm(); // rows that arrived during the insert
  }

  private async insertWithRetries(batch: Pending): Promise<void> {
    const initial = this.opts.retryInitialMs ?? 200;
    const max = this.opts.retryMaxMs ?? 10_000;
    for (let attempt = 1; ; attempt++) {
      try {
        // A retry after requests went in and comments failed inserts requests again: they collapse.
        await this.opts.clickhouse.insert('requests', [...batch.requests.values()]);
        await this.opts.clickhouse.insert('request_comments', [...batch.comments.values()]);
        return;
      } catch (err) {
        this.metrics.insertFailures.add(1);
        if (this.stopping && attempt >= (this.opts.stopAttempts ?? 3)) throw err;
        const wait = Math.min(max, initial * 2 ** (attempt - 1));
        this.opts.logger[attempt >= 5 ? 'error' : 'warn']({ err, attempt, rows: batch.rows, retryInMs: wait }, 'clickhouse insert failed; retrying, nothing committed');
        await sleep(wait);
        // Stay in the group while waiting (a rebalance error here is harmless: the rows are kept).
        await this.heartbeat?.().catch(() => undefined);
      }
    }
  }

  private async commit(offsets: Map<number, bigint>): Promise<void> {
    if (!offsets.size) return;
    const topic = this.opts.topic;
    try {
      await this.consumer!.commitOffsets([...offsets].map(([partition, next]) => ({ topic, partition, offset: next.toString() })));
    } catch (err) {
      // The rows are in ClickHouse; after a rebalance the new owner reads them again and they collapse.
      this.opts.logger.warn({ err, topic }, 'offset commit failed after insert; the events will be read again');
    }
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, error: Error): Promise<void> {
    const headers: IHeaders = {
      ...(message.headers ?? {}),
      'dlq-original-topic': topic,
      'dlq-original-partition': String(partition),
      'dlq-original-offset': message.offset,
      'dlq-consumer-group': this.groupId,
      'dlq-error-type': error instanceof EnvelopeError ? 'EnvelopeError' : error.name || 'Error',
      'dlq-error-message': error.message.slice(0, 2000),
      'dlq-attempts': '1',
      'dlq-failed-at': new Date().toISOString(),
    };
    await this.producer!.send({ topic: dlqTopic(topic), acks: -1, messages: [{ key: message.key, value: message.value, headers }] });
    this.metrics.deadLettered.add(1);
    this.opts.logger.error({ topic, partition, offset: message.offset, err: error }, 'message dead-lettered');
  }
}

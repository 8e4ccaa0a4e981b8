import type { Logger } from '@crm/logger';
import { context, extractContext, injectContext, meter, SpanKind, trace, tracer } from '@crm/telemetry';
import type { Kafka, Producer, TopicMessages } from 'kafkajs';
import { Client, Pool, type PoolClient } from 'pg';
import { CONTENT_TYPE_PROTOBUF, encodeEvent } from './envelope';

export interface RelayOptions {
  /** The service's database (the one holding its `outbox` table). */
  databaseUrl: string;
  kafka: Kafka;
  logger: Logger;
  /** Rows per batch (default 500). */
  batchSize?: number;
  /** Poll interval when idle and no NOTIFY arrives (default 250 ms). */
  pollIntervalMs?: number;
  /** Sent rows older than this are deleted (default 24 h; 0 keeps them). */
  retainSentMs?: number;
  /** Maps the registry topic name to the real one (tests add a per-run suffix). */
  topicName?: (topic: string) => string;
  /**
   * Fault injection for the crash test: called after Kafka acked a batch and before the rows are marked
   * sent. Production code never sets it.
   */
  afterAck?: (eventIds: string[]) => Promise<void>;
}

interface Row {
  id: string;
  event_id: string;
  topic: string;
  event_type: string;
  subject: string;
  tenant_id: string;
  source: string;
  payload: Buffer;
  traceparent: string | null;
  tracestate: string | null;
  created_at: Date;
}

/**
 * Publishes outbox rows to Kafka: takes a batch with `FOR UPDATE SKIP LOCKED`, sends it with the
 * idempotent producer (acks=all), then marks the rows sent in the same transaction. A crash between
 * the ack and the mark re-publishes the batch; idempotent consumers absorb the duplicate (ce_id).
 * Run one relay per service database to keep per-aggregate order.
 */
export class OutboxRelay {
  private readonly pool: Pool;
  private producer?: Producer;
  private listener?: Client;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private notified = false;
  private lastCleanup = 0;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly retainSentMs: number;
  private readonly topicName: (t: string) => string;
  private readonly published;
  private readonly latency;

  constructor(private readonly opts: RelayOptions) {
    this.pool = new Pool({ connectionString: opts.databaseUrl, max: 2 });
    this.batchSize = opts.batchSize ?? 500;
    this.pollIntervalMs = opts.pollIntervalMs ?? 250;
    this.retainSentMs = opts.retainSentMs ?? 86_400_000;
    this.topicName = opts.topicName ?? ((t) => t);
    const m = meter('crm.outbox');
    this.published = m.createCounter('outbox.published', { description: 'events published by the outbox relay' });
    this.latency = m.createHistogram('outbox.commit_to_ack', { unit: 'ms', description: 'outbox commit → Kafka ack' });
    m.createObservableGauge('outbox.backlog', { description: 'unsent outbox rows' }).addCallback(async (result) => {
      if (!this.running) return;
      const r = await this.pool.query('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL');
      result.observe(r.rows[0].n);
    });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.producer = this.opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await this.producer.connect();
    this.listener = new Client({ connectionString: this.opts.databaseUrl });
    await this.listener.connect();
    this.listener.on('notification', () => {
      this.notified = true;
      this.wake?.();
    });
    this.listener.on('error', (err) => this.opts.logger.warn({ err }, 'outbox listener error'));
    await this.listener.query('LISTEN outbox');
    this.running = true;
    this.loop = this.run();
    this.opts.logger.info({ batchSize: this.batchSize }, 'outbox relay started');
  }

  /** Stops after the batch in flight; idempotent. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
    await this.producer?.disconnect();
    await this.pool.end();
    this.opts.logger.info('outbox relay stopped');
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        this.notified = false;
        const n = await this.publishBatch();
        failures = 0;
        // A NOTIFY that arrived while publishing means new rows: go again without sleeping.
        if (n < this.batchSize && !this.notified) await this.idle();
        await this.cleanup();
      } catch (err) {
        failures += 1;
        this.opts.logger.error({ err, failures }, 'outbox relay batch failed');
        await this.sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
      }
    }
  }

  /** Publishes one batch; returns the number of rows published. Exposed for tests. */
  async publishBatch(): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<Row>(
        `SELECT id, event_id, topic, event_type, subject, tenant_id, source, payload, traceparent, tracestate, created_at
           FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.batchSize],
      );
      if (!rows.length) {
        await client.query('COMMIT');
        return 0;
      }
      await this.send(rows);
      if (this.opts.afterAck) await this.opts.afterAck(rows.map((r) => r.event_id));
      await client.query('UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      await client.query('COMMIT');
      const now = Date.now();
      for (const r of rows) this.latency.record(now - r.created_at.getTime());
      this.published.add(rows.length);
      return rows.length;
    } catch (err) {
      await rollback(client);
      throw err;
    } finally {
      client.release();
    }
  }

  private async send(rows: Row[]): Promise<void> {
    const byTopic = new Map<string, TopicMessages>();
    const spans = [];
    for (const r of rows) {
      // One PRODUCER span per event, child of the trace the event was written in.
      const parent = r.traceparent ? extractContext({ traceparent: r.traceparent, ...(r.tracestate ? { tracestate: r.tracestate } : {}) }) : context.active();
      const span = tracer('crm.outbox').startSpan(
        `publish ${r.topic}`,
        { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': r.topic, 'messaging.message.id': r.event_id } },
        parent,
      );
      spans.push(span);
      const carrier = injectContext(trace.setSpan(parent, span));
      const topic = this.topicName(r.topic);
      const entry = byTopic.get(topic) ?? { topic, messages: [] };
      entry.messages.push(
        encodeEvent({
          id: r.event_id,
          source: r.source,
          type: r.event_type,
          subject: r.subject,
          tenantId: r.tenant_id,
          time: r.created_at.toISOString(),
          contentType: CONTENT_TYPE_PROTOBUF,
          traceparent: carrier.traceparent ?? r.traceparent ?? undefined,
          tracestate: carrier.tracestate ?? r.tracestate ?? undefined,
          data: r.payload,
        }),
      );
      byTopic.set(topic, entry);
    }
    try {
      await this.producer!.sendBatch({ topicMessages: [...byTopic.values()], acks: -1 });
    } finally {
      for (const s of spans) s.end();
    }
  }

  private async cleanup(): Promise<void> {
    if (!this.retainSentMs || Date.now() - this.lastCleanup < 60_000) return;
    this.lastCleanup = Date.now();
    await this.pool.query(`DELETE FROM outbox WHERE sent_at < now() - ($1::bigint * interval '1 millisecond')`, [this.retainSentMs]);
  }

  private idle(): Promise<void> {
    return this.sleep(this.pollIntervalMs);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }
}

async function rollback(client: PoolClient): Promise<void> {
  try {
    await client.query('ROLLBACK');
  } catch {
    // the connection is broken; the pool discards it
  }
}

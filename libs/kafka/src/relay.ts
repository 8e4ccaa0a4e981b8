import type { Logger } from '@crm/logger';
import { context, extractContext, injectContext, meter, SpanKind, trace, tracer } from '@crm/telemetry';
import type { Kafka, Producer, TopicMessages } from 'kafkajs';
import { Client, Pool } from 'pg';
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
  /** How often a standby relay asks for the leadership (default 250 ms): the takeover time after a leader dies. */
  leaderPollMs?: number;
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
 * The advisory lock that makes one relay per database the publisher. The two-int4 form lives in a
 * key space of its own (pg_locks.objsubid = 2), apart from the single-bigint locks services take on
 * hashed strings (`pg_advisory_xact_lock(hashtextextended(…))`), so it can collide with none of them.
 */
export const RELAY_LOCK: readonly [number, number] = [0x6372_6d6f, 1]; // 'crmo', relay

/**
 * Publishes outbox rows to Kafka: takes a batch in id order, sends it with the idempotent producer
 * (acks=all), then marks the rows sent in the same transaction. A crash between the ack and the mark
 * re-publishes the batch; idempotent consumers absorb the duplicate (ce_id).
 *
 * Any number of replicas may run a relay on the same database: only the one holding the session-level
 * advisory lock {@link RELAY_LOCK} publishes, on the very connection that holds the lock, so
 * per-aggregate order holds (two relays taking neighbouring batches at once could publish an
 * aggregate's later event first). Standbys ask for the lock every `leaderPollMs`; when the leader dies,
 * PostgreSQL ends its session and frees the lock, and a standby takes over within about that interval.
 * A leader whose connection breaks loses the lock with it and stops publishing at once (its open
 * transaction rolls back, so its rows stay unsent for the next leader).
 */
export class OutboxRelay {
  private readonly pool: Pool;
  private producer?: Producer;
  /** The session that LISTENs, holds the leadership lock and runs the publishing transactions. */
  private conn?: Client;
  private leader = false;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private notified = false;
  private lastCleanup = 0;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly leaderPollMs: number;
  private readonly retainSentMs: number;
  private readonly topicName: (t: string) => string;
  private readonly published;
  private readonly latency;
  private readonly leadershipChanges;

  constructor(private readonly opts: RelayOptions) {
    this.pool = new Pool({ connectionString: opts.databaseUrl, max: 2 });
    // An idle connection the server ends (PostgreSQL restarting) is an 'error' on the pool: without a
    // listener it would end the process. The pool drops that connection and opens a new one when needed.
    this.pool.on('error', (err) => opts.logger.warn({ err }, 'outbox relay pool connection lost'));
    this.batchSize = opts.batchSize ?? 500;
    this.pollIntervalMs = opts.pollIntervalMs ?? 250;
    this.leaderPollMs = opts.leaderPollMs ?? 250;
    this.retainSentMs = opts.retainSentMs ?? 86_400_000;
    this.topicName = opts.topicName ?? ((t) => t);
    const m = meter('crm.outbox');
    this.published = m.createCounter('outbox.published', { description: 'events published by the outbox relay' });
    this.latency = m.createHistogram('outbox.commit_to_ack', { unit: 'ms', description: 'outbox commit → Kafka ack' });
    this.leadershipChanges = m.createCounter('outbox.leadership_changes', { description: 'times this relay became or stopped being the publishing leader' });
    m.createObservableGauge('outbox.leader', { description: '1 while this relay is the publishing leader of its database' }).addCallback((result) => {
      if (this.running) result.observe(this.leader ? 1 : 0);
    });
    // Backlog and age come from one query; every replica reports them (the same figures: alert on the max).
    const backlog = m.createObservableGauge('outbox.backlog', { unit: '{event}', description: 'unsent outbox rows' });
    const age = m.createObservableGauge('outbox.oldest_unsent_age', { unit: 'ms', description: 'age of the oldest unsent outbox row (0 when none)' });
    m.addBatchObservableCallback(
      async (result) => {
        if (!this.running) return;
        const r = await this.pool.query<{ n: number; age_ms: number }>(
          `SELECT count(*)::int AS n, coalesce(extract(epoch FROM now() - min(created_at)) * 1000, 0)::float8 AS age_ms FROM outbox WHERE sent_at IS NULL`,
        );
        result.observe(backlog, r.rows[0].n);
        result.observe(age, r.rows[0].age_ms);
      },
      [backlog, age],
    );
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.producer = this.opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await this.producer.connect();
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
    // Ending the session frees the lock: a standby takes over within its leaderPollMs.
    await this.dropConnection('released');
    await this.producer?.disconnect();
    await this.pool.end();
    this.opts.logger.info('outbox relay stopped');
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        if (!(await this.lead())) {
          await this.sleep(this.leaderPollMs);
          continue;
        }
        this.notified = false;
        const n = await this.publishBatch();
        failures = 0;
        // A NOTIFY that arrived while publishing means new rows: go again without sleeping.
        if (n < this.batchSize && !this.notified) await this.idle();
        await this.cleanup();
      } catch (err) {
        failures += 1;
        this.opts.logger.error({ err, failures, leader: this.leader }, 'outbox relay batch failed');
        await this.sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
      }
    }
  }

  /** Whether this relay leads (taking the lock when free); connects the session first when needed. */
  private async lead(): Promise<boolean> {
    if (!this.conn) {
      const conn = new Client({ connectionString: this.opts.databaseUrl, keepAlive: true });
      conn.on('notification', () => {
        this.notified = true;
        this.wake?.();
      });
      conn.on('error', (err) => {
        this.opts.logger.warn({ err, leader: this.leader }, 'outbox relay connection lost');
        if (this.conn === conn) this.forget('lost');
      });
      await conn.connect();
      this.conn = conn;
    }
    if (!this.leader) {
      const r = await this.conn.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::int, $2::int) AS ok', [...RELAY_LOCK]);
      if (r.rows[0].ok) {
        // Only the leader listens: a standby woken by every commit would only ask for the lock again.
        await this.conn.query('LISTEN outbox');
        this.leader = true;
        this.leadershipChanges.add(1, { change: 'acquired' });
        this.opts.logger.info('outbox relay leadership acquired');
      }
    }
    return this.leader;
  }

  /** Forgets the session (and the leadership that lived in it). */
  private forget(change: 'lost' | 'released'): void {
    if (this.leader) {
      this.leadershipChanges.add(1, { change });
      this.opts.logger[change === 'lost' ? 'warn' : 'info'](`outbox relay leadership ${change}`);
    }
    this.leader = false;
    this.conn = undefined;
  }

  private async dropConnection(change: 'lost' | 'released'): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    this.forget(change);
    await conn.end().catch(() => undefined);
  }

  /** Publishes one batch when this relay leads; returns the number of rows published (0 on a standby). */
  async publishBatch(): Promise<number> {
    if (!(await this.lead())) return 0;
    const client = this.conn!;
    try {
      await client.query('BEGIN');
      // Only the leader gets here, so nothing else holds these rows; the lock clause keeps a stray
      // writer of `sent_at` (an operator's UPDATE) from racing the mark.
      const { rows } = await client.query<Row>(
        `SELECT id, event_id, topic, event_type, subject, tenant_id, source, payload, traceparent, tracestate, created_at
           FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE`,
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
      // A session that cannot even roll back is broken, and its lock is gone with it: start afresh.
      if (!(await rollback(client))) await this.dropConnection('lost');
      throw err;
    }
  }

  /** True while this relay is the publishing leader of its database. */
  get isLeader(): boolean {
    return this.leader;
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

/** Rolls back; false when the session is broken. */
async function rollback(client: Client): Promise<boolean> {
  try {
    await client.query('ROLLBACK');
    return true;
  } catch {
    return false;
  }
}

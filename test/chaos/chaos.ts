/**
 * npm run test:chaos — "nothing lost" under faults, on a stack of its own (its own run folder and
 * ports, so the engines other tests use are never touched; loopback only, bounded in time).
 *
 * A writer commits sequence-numbered request events (a `created` event, then comments numbered 1..N
 * per request) into an outbox at CHAOS_RATE events/s for CHAOS_SECONDS. Two outbox relays (replicas:
 * one leads) publish them to `crm.intake.request.v1`; two sinks consume them: a PostgreSQL
 * IdempotentConsumer (test/chaos/sink-process.ts) and the real reporting service (ClickHouse).
 * Meanwhile the suite SIGKILLs the leading relay, the PostgreSQL sink and reporting CHAOS_KILLS times
 * each (a supervisor restarts them), kills the Kafka broker for 10 s, stops ClickHouse for 60 s and
 * restarts PostgreSQL. Afterwards it asserts, per sink: count = distinct = produced; in PostgreSQL,
 * every request's sequence in effect order is 0..N (per-aggregate order); nothing dead-lettered; the
 * consumer lag back to zero. Then the crash test of `npm start`'s durable PostgreSQL (test/chaos/pg-crash.ts):
 * the platform takes CHAOS_CRASH_POSTS acknowledged POSTs, PostgreSQL is SIGKILLed, and every one of
 * them must be there after the restart. It prints the figures (and writes .run/reports/chaos.json) and
 * exits 1 when anything was lost, duplicated or reordered.
 */
import { RequestCommented, RequestCreated } from '@crm/contracts/crm/intake/events/v1/request_events';
import { Channel, RequestState } from '@crm/contracts/crm/intake/v1/request';
import { createOrm, databaseUrl, ensureDatabase, Migration, migrate, uuidv7 } from '@crm/db';
import { eventingMigrations, type Kafka } from '@crm/kafka';
import { kafkaFor, lag, testLogger } from '@crm/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { stackDown, stackStatus, stackUp } from '../../tools/src/stack';
import { createRegistryTopics } from '../../tools/src/topics-create';
import { probeMigrations } from '../support/probe';
import { crashAfterAcknowledgedPosts } from './pg-crash';
import { fmt, machine, percentile } from '../bench/stats';

const RATE = Number(process.env.CHAOS_RATE ?? 1000);
const SECONDS = Number(process.env.CHAOS_SECONDS ?? 160);
const KILLS = Number(process.env.CHAOS_KILLS ?? 20);
const CRASH_POSTS = Number(process.env.CHAOS_CRASH_POSTS ?? 1000);
const COMMENTS = 9; // per request: the created event (seq 0), then comments 1..9
const ACTIVE = 200; // requests being commented at once
const TOPIC = 'crm.intake.request.v1';
const TENANT = 'chaos-tenant';
const ROOT = join(__dirname, '..', '..');
const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`[chaos ${elapsed().toFixed(1).padStart(6)} s] ${line}\n`);

/** A process the suite kills and a supervisor restarts, until stop(). */
class Supervised {
  child?: ChildProcess;
  kills = 0;
  private stopping = false;
  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: Record<string, string>,
    private readonly onLine: (line: string, self: Supervised) => void = () => undefined,
  ) {}

  start(): void {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, this.script)], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'error', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) this.onLine(l, this);
    });
    child.stderr!.on('data', () => undefined);
    child.once('exit', () => {
      if (!this.stopping) setTimeout(() => !this.stopping && this.start(), 300);
    });
  }

  get alive(): boolean {
    return Boolean(this.child && this.child.exitCode === null && this.child.signalCode === null);
  }

  kill(): void {
    if (!this.alive) return;
    this.kills += 1;
    this.child!.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.alive) return;
    const exited = new Promise((r) => this.child!.once('exit', r));
    this.child!.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  }
}

class SinkMigration extends Migration {
  override up(): void {
    this.addSql('CREATE TABLE effects (id bigserial PRIMARY KEY, event_id uuid NOT NULL, subject text NOT NULL, seq int NOT NULL)');
  }
}

/** Commits request events in order, one transaction at a time (like a service's serialised writes). */
class Writer {
  produced = 0;
  created = 0;
  comments = 0;
  /** request id → events produced for it */
  readonly perRequest = new Map<string, number>();
  stalledMs = 0;
  private active: { id: string; next: number }[] = [];
  constructor(private readonly pool: Pool) {}

  private event() {
    if (this.active.length < ACTIVE) this.active.push({ id: uuidv7(), next: 0 });
    const i = this.produced % this.active.length;
    const r = this.active[i];
    const seq = r.next++;
    if (r.next > COMMENTS) this.active[i] = { id: uuidv7(), next: 0 };
    const now = new Date().toISOString();
    const payload =
      seq === 0
        ? RequestCreated.encode(
            RequestCreated.fromPartial({ request: { id: r.id, tenantId: TENANT, state: RequestState.REQUEST_STATE_NEW, axes: { channel: Channel.CHANNEL_WEB_FORM }, name: 'chaos', createdAt: now } }),
          ).finish()
        : RequestCommented.encode(RequestCommented.fromPartial({ comment: { id: uuidv7(), requestId: r.id, authorId: 'chaos', text: String(seq), createdAt: now } })).finish();
    this.produced += 1;
    return { id: uuidv7(), type: seq === 0 ? 'crm.intake.request.created.v1' : 'crm.intake.request.commented.v1', subject: r.id, payload: Buffer.from(payload), seq };
  }

  /** Writes n events in one transaction, retrying until it commits (PostgreSQL may be restarting). */
  async write(n: number): Promise<void> {
    const events = Array.from({ length: n }, () => this.event());
    const started = performance.now();
    for (;;) {
      try {
        await this.pool.query(
          `INSERT INTO outbox (event_id, topic, event_type, subject, tenant_id, source, payload)
           SELECT e, $5, t, s, $6, 'crm/intake', p
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[]) WITH ORDINALITY AS u(e, t, s, p, ord) ORDER BY ord`,
          [events.map((e) => e.id), events.map((e) => e.type), events.map((e) => e.subject), events.map((e) => e.payload), TOPIC, TENANT],
        );
        break;
      } catch (err) {
        // Committed although the answer was lost: the unique event ids say so.
        if ((err as { code?: string }).code === '23505') break;
        await sleep(200);
      }
    }
    this.stalledMs += Math.max(0, performance.now() - started - 50);
    for (const e of events) {
      if (e.seq === 0) this.created += 1;
      else this.comments += 1;
      this.perRequest.set(e.subject, (this.perRequest.get(e.subject) ?? 0) + 1);
    }
  }
}

/** Every *.log below the run folder. */
function logFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.log'))
    .map((f) => join(dir, f));
}

async function main(): Promise<number> {
  // A stack of its own: run folder, ports, durable PostgreSQL (a restart must lose nothing). The ports
  // sit below Linux's ephemeral range (32768–60999): the suite opens thousands of outgoing connections,
  // and one of them holding a port the restarted engine must listen on would fail its start.
  const runDir = mkdtempSync(join(tmpdir(), 'sales2-chaos-'));
  chmodSync(runDir, 0o755); // PostgreSQL runs as the OS user postgres when we are root
  Object.assign(process.env, {
    CRM_RUN_DIR: runDir,
    CRM_PG_PORT: process.env.CHAOS_PG_PORT ?? '26432',
    CRM_KAFKA_PORT: process.env.CHAOS_KAFKA_PORT ?? '29192',
    CRM_KAFKA_CONTROLLER_PORT: process.env.CHAOS_KAFKA_CONTROLLER_PORT ?? '29193',
    CRM_CLICKHOUSE_HTTP_PORT: process.env.CHAOS_CLICKHOUSE_HTTP_PORT ?? '28223',
    CRM_CLICKHOUSE_TCP_PORT: process.env.CHAOS_CLICKHOUSE_TCP_PORT ?? '29100',
    CRM_PG_SETTINGS: 'durable',
  });
  for (const v of ['DATABASE_URL', 'KAFKA_BROKERS', 'CLICKHOUSE_URL']) delete process.env[v];
  const stackLog = (l: string) => log(`stack: ${l}`);
  const processes: Supervised[] = [];
  let pool: Pool | undefined;
  try {
    const info = await stackUp({ log: stackLog });
    const urls = info.env as { DATABASE_URL: string; KAFKA_BROKERS: string; CLICKHOUSE_URL: string };
    const brokers = urls.KAFKA_BROKERS.split(',');
    await createRegistryTopics(brokers);
    const sourceUrl = databaseUrl(urls.DATABASE_URL, 'chaos_source');
    const sinkUrl = databaseUrl(urls.DATABASE_URL, 'chaos_sink');
    for (const [url, name, migrations] of [
      [sourceUrl, 'chaos_source', probeMigrations],
      [sinkUrl, 'chaos_sink', [...eventingMigrations, { name: 'chaos_0001_effects', class: SinkMigration }]],
    ] as const) {
      await ensureDatabase(urls.DATABASE_URL, name);
      const orm = await createOrm({ clientUrl: url, entities: [], migrations: [...migrations] });
      await migrate(orm);
      await orm.close(true);
    }
    pool = new Pool({ connectionString: sourceUrl, max: 2 });
    pool.on('error', () => undefined);
    const sinkPool = new Pool({ connectionString: sinkUrl, max: 2 });
    sinkPool.on('error', () => undefined);
    const kafka: Kafka = kafkaFor(brokers, testLogger('chaos'));

    // The processes under test.
    let leader: Supervised | undefined;
    const takeovers: number[] = [];
    let killedLeaderAt: number | undefined;
    const relayLine = (line: string, self: Supervised) => {
      if (line !== 'LEADER') return;
      leader = self;
      if (killedLeaderAt !== undefined) takeovers.push(performance.now() - killedLeaderAt);
      killedLeaderAt = undefined;
      log(`${self.name} leads`);
    };
    const relays = [1, 2].map((i) => new Supervised(`relay-${i}`, 'test/support/relay-process.ts', { DATABASE_URL: sourceUrl, KAFKA_BROKERS: urls.KAFKA_BROKERS, TOPIC_SUFFIX: '' }, relayLine));
    let sinkReady = false;
    const sink = new Supervised('sink', 'test/chaos/sink-process.ts', { DATABASE_URL: sinkUrl, KAFKA_BROKERS: urls.KAFKA_BROKERS, TOPIC: TOPIC }, (line) => {
      if (line === 'READY') sinkReady = true;
    });
    const reporting = new Supervised('reporting', 'services/reporting/src/main.ts', {
      KAFKA_BROKERS: urls.KAFKA_BROKERS,
      CLICKHOUSE_URL: urls.CLICKHOUSE_URL,
      CLICKHOUSE_DATABASE: 'chaos_reporting',
      GRPC_PORT: '0',
      GRPC_HOST: '127.0.0.1',
      TOPIC_SUFFIX: '',
    });
    processes.push(...relays, sink, reporting);
    for (const p of processes) p.start();
    const readyBy = performance.now() + 90_000;
    while (!(leader && sinkReady)) {
      if (performance.now() > readyBy) throw new Error('the relays and the sink did not start within 90 s');
      await sleep(100);
    }

    const writer = new Writer(pool);
    const counts = {
      sink: async () => Number((await sinkPool.query('SELECT count(*) AS n FROM effects')).rows[0].n),
      clickhouse: async () => {
        const q = `SELECT (SELECT uniqExact(event_id) FROM chaos_reporting.requests) + (SELECT uniqExact(event_id) FROM chaos_reporting.request_comments) AS n FORMAT JSONEachRow`;
        const res = await fetch(urls.CLICKHOUSE_URL, { method: 'POST', body: q });
        if (!res.ok) throw new Error(await res.text());
        return Number(JSON.parse(await res.text()).n);
      },
    };
    const maxLag = { sink: 0, clickhouse: 0 };
    const recoveries: { fault: string; sink_s?: number; clickhouse_s?: number }[] = [];
    const pendingRecoveries: { rec: (typeof recoveries)[number]; target: number; at: number }[] = [];
    /** A sink's count seen now: the largest lag, and the recoveries it completes. */
    const observe = (which: 'sink' | 'clickhouse', n: number) => {
      maxLag[which] = Math.max(maxLag[which], writer.produced - n);
      for (const p of pendingRecoveries) {
        const key = `${which}_s` as const;
        if (p.rec[key] === undefined && n >= p.target) p.rec[key] = Number(((performance.now() - p.at) / 1000).toFixed(1));
      }
    };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const which of ['sink', 'clickhouse'] as const) {
          const n = await counts[which]().catch(() => undefined);
          if (n !== undefined) observe(which, n);
        }
        await sleep(500);
      }
    })();
    /** From the end of a fault: how long until each sink holds everything produced by then. */
    const recovered = (fault: string) => {
      const rec = { fault };
      recoveries.push(rec);
      pendingRecoveries.push({ rec, target: writer.produced, at: performance.now() });
    };

    // Faults: the stack's engines, one after the other (stack commands are serialised)...
    const start = performance.now();
    const at = (s: number) => sleep(Math.max(0, start + s * 1000 - performance.now()));
    const scale = SECONDS / 240;
    const engineFaults = (async () => {
      await at(40 * scale);
      const kafkaPid = (await stackStatus()).engines.find((e) => e.name === 'kafka')!.pid!;
      log(`SIGKILL Kafka (pid ${kafkaPid}) for 10 s`);
      process.kill(kafkaPid, 'SIGKILL');
      await sleep(10_000);
      await stackUp({ engines: ['kafka'], log: stackLog });
      recovered('Kafka killed for 10 s');
      await at(90 * scale);
      log('stopping ClickHouse for 60 s');
      await stackDown({ engines: ['clickhouse'], log: stackLog });
      await sleep(60_000);
      await stackUp({ engines: ['clickhouse'], log: stackLog });
      recovered('ClickHouse stopped for 60 s');
      await at(190 * scale);
      log('restarting PostgreSQL');
      await stackDown({ engines: ['postgres'], log: stackLog });
      await stackUp({ engines: ['postgres'], log: stackLog });
      recovered('PostgreSQL restarted');
    })();
    // ...and the processes, each KILLS times, spread over the run.
    const processKills = (async () => {
      const every = (SECONDS * 1000 * 0.95) / KILLS / 3;
      for (let i = 0; i < KILLS; i++) {
        for (const target of ['relay', 'sink', 'reporting'] as const) {
          await sleep(every);
          if (target === 'relay') {
            // The leader, once there is one again (Kafka may be down, the standby still starting).
            const by = performance.now() + every;
            while (!leader?.alive && performance.now() < by) await sleep(50);
            const victim = leader?.alive ? leader : relays.find((r) => r.alive);
            if (!victim) continue;
            killedLeaderAt = victim === leader ? performance.now() : undefined;
            leader = undefined;
            log(`SIGKILL ${victim.name}${killedLeaderAt ? ' (the leader)' : ''}`);
            victim.kill();
          } else {
            // Alive again after its last kill (it may still be restarting).
            const victim = target === 'sink' ? sink : reporting;
            const by = performance.now() + every;
            while (!victim.alive && performance.now() < by) await sleep(50);
            log(`SIGKILL ${target}`);
            victim.kill();
          }
        }
      }
    })();

    // The writer, at a fixed rate.
    log(`writing ${RATE} events/s for ${SECONDS} s`);
    while (performance.now() - start < SECONDS * 1000) {
      const due = Math.floor(((performance.now() - start) / 1000) * RATE) - writer.produced;
      if (due > 0) await writer.write(Math.min(due, 200));
      else await sleep(10);
    }
    const writeSeconds = (performance.now() - start) / 1000;
    log(`wrote ${writer.produced} events (${writer.created} requests, ${writer.comments} comments); waiting for the faults to end`);
    await Promise.all([engineFaults, processKills]);

    // Drain: everything published and in both sinks.
    const drainFrom = performance.now();
    const deadline = drainFrom + 240_000;
    for (;;) {
      const [unsent, inSink, inCh] = await Promise.all([
        pool.query('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL').then((r) => Number(r.rows[0].n)).catch(() => -1),
        counts.sink().catch(() => -1),
        counts.clickhouse().catch(() => -1),
      ]);
      if (inSink >= 0) observe('sink', inSink);
      if (inCh >= 0) observe('clickhouse', inCh);
      if (unsent === 0 && inSink >= writer.produced && inCh >= writer.produced) break;
      if (performance.now() > deadline) {
        log(`drain timed out: unsent ${unsent}, sink ${inSink}, ClickHouse ${inCh} of ${writer.produced}`);
        break;
      }
      await sleep(1000);
    }
    const drainSeconds = (performance.now() - drainFrom) / 1000;
    sampling = false;
    await sampler;
    for (const p of processes) await p.stop();

    // The checks.
    const failures: string[] = [];
    const sinkRow = (await sinkPool.query('SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM effects')).rows[0];
    const sinkCount = Number(sinkRow.n);
    const sinkDistinct = Number(sinkRow.d);
    if (sinkCount !== writer.produced || sinkDistinct !== writer.produced) failures.push(`PostgreSQL sink: ${sinkCount} rows, ${sinkDistinct} distinct, ${writer.produced} produced`);
    let outOfOrder = 0;
    const seqs = await sinkPool.query<{ subject: string; seqs: number[] }>('SELECT subject, array_agg(seq ORDER BY id) AS seqs FROM effects GROUP BY subject');
    for (const r of seqs.rows) {
      const n = writer.perRequest.get(r.subject) ?? 0;
      if (r.seqs.length !== n || r.seqs.some((s, i) => s !== i)) outOfOrder += 1;
    }
    if (seqs.rows.length !== writer.perRequest.size) failures.push(`PostgreSQL sink: ${seqs.rows.length} requests, ${writer.perRequest.size} produced`);
    if (outOfOrder) failures.push(`PostgreSQL sink: ${outOfOrder} requests with a missing, repeated or reordered sequence number`);
    const chQuery = async (sql: string) => JSON.parse(await (await fetch(urls.CLICKHOUSE_URL, { method: 'POST', body: `${sql} FORMAT JSONEachRow` })).text());
    const chRequests = await chQuery('SELECT count() AS n, uniqExact(request_id) AS d FROM chaos_reporting.requests FINAL');
    const chComments = await chQuery('SELECT count() AS n, uniqExact(comment_id) AS d FROM chaos_reporting.request_comments FINAL');
    if (Number(chRequests.n) !== writer.created || Number(chRequests.d) !== writer.created) failures.push(`ClickHouse requests: ${chRequests.n} rows, ${chRequests.d} distinct, ${writer.created} produced`);
    if (Number(chComments.n) !== writer.comments || Number(chComments.d) !== writer.comments) failures.push(`ClickHouse comments: ${chComments.n} rows, ${chComments.d} distinct, ${writer.comments} produced`);
    const admin = kafka.admin();
    await admin.connect();
    const dlq = (await admin.fetchTopicOffsets(`${TOPIC}.dlq`)).reduce((s, p) => s + Number(p.high), 0);
    await admin.disconnect();
    if (dlq) failures.push(`${dlq} events dead-lettered`);
    const lags = { sink: await lag(kafka, 'chaos-sink', TOPIC), reporting: await lag(kafka, 'reporting', TOPIC) };
    if (lags.sink || lags.reporting) failures.push(`consumer lag after the drain: sink ${lags.sink}, reporting ${lags.reporting}`);
    for (const r of recoveries) if (r.sink_s === undefined || r.clickhouse_s === undefined) failures.push(`no recovery measured after: ${r.fault}`);

    // The embedded default's durability: acknowledged POSTs survive a SIGKILL of PostgreSQL.
    const crash = await crashAfterAcknowledgedPosts(urls, CRASH_POSTS, stackLog);
    if (crash.found !== crash.acknowledged) failures.push(`PostgreSQL crash: ${crash.found} of ${crash.acknowledged} acknowledged requests found after the restart`);
    if (crash.serving_again_s === null) failures.push('PostgreSQL crash: the platform did not create requests again within 30 s of the restart (a process died?)');

    const report = {
      machine: machine(),
      offered_rate: RATE,
      achieved_rate: Math.round(writer.produced / writeSeconds),
      produced: writer.produced,
      requests: writer.created,
      comments: writer.comments,
      lost: { sink: writer.produced - sinkDistinct, clickhouse: writer.created + writer.comments - Number(chRequests.d) - Number(chComments.d) },
      duplicates_after_dedup: { sink: sinkCount - sinkDistinct, clickhouse: Number(chRequests.n) - Number(chRequests.d) + Number(chComments.n) - Number(chComments.d) },
      out_of_order_requests: outOfOrder,
      dead_lettered: dlq,
      kills: Object.fromEntries(processes.map((p) => [p.name, p.kills])),
      relay_takeover_ms: { count: takeovers.length, p50: Math.round(percentile(takeovers, 50)), max: Math.round(Math.max(0, ...takeovers)) },
      max_lag_events: maxLag,
      writer_stalled_s: Number((writer.stalledMs / 1000).toFixed(1)),
      recoveries,
      drain_s: Number(drainSeconds.toFixed(1)),
      final_lag: lags,
      pg_crash: crash,
      failures,
    };
    mkdirSync(join(ROOT, '.run', 'reports'), { recursive: true });
    writeFileSync(join(ROOT, '.run', 'reports', 'chaos.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`
chaos suite (${report.machine})
  events produced       ${report.produced} (${report.requests} requests + ${report.comments} comments), ${RATE}/s offered, ${report.achieved_rate}/s achieved
  lost                  PostgreSQL sink ${report.lost.sink}, ClickHouse ${report.lost.clickhouse}
  duplicates (dedup)    PostgreSQL sink ${report.duplicates_after_dedup.sink}, ClickHouse ${report.duplicates_after_dedup.clickhouse}
  out of order          ${outOfOrder} requests
  dead-lettered         ${dlq}
  SIGKILLs              ${Object.entries(report.kills).map(([k, v]) => `${k} ${v}`).join(', ')}
  relay takeover        ${report.relay_takeover_ms.count} takeovers, p50 ${report.relay_takeover_ms.p50} ms, max ${report.relay_takeover_ms.max} ms
  max lag               PostgreSQL sink ${maxLag.sink} events, ClickHouse ${maxLag.clickhouse} events
  recovery              ${recoveries.map((r) => `${r.fault}: sink ${fmt(r.sink_s ?? NaN, 1)} s, ClickHouse ${fmt(r.clickhouse_s ?? NaN, 1)} s`).join('; ')}
  writer stalled        ${report.writer_stalled_s} s; drain after the last write ${report.drain_s} s; final lag sink ${lags.sink}, reporting ${lags.reporting}
  PostgreSQL SIGKILL    ${crash.found} of ${crash.acknowledged} acknowledged POSTs there after the restart (durable settings; back in ${crash.restart_s} s, the same processes serving again ${crash.serving_again_s ?? 'never'} s later)
${failures.length ? `FAILED:\n${failures.map((f) => `  - ${f}`).join('\n')}` : 'nothing lost, nothing duplicated, order kept'}`);
    await sinkPool.end();
    return failures.length ? 1 : 0;
  } catch (err) {
    // Keep what explains a failed start: the tails of the engines' logs, before the run folder goes.
    for (const f of logFiles(runDir)) process.stdout.write(`--- ${f} (last lines)\n${readFileSync(f, 'utf8').split('\n').slice(-15).join('\n')}\n`);
    throw err;
  } finally {
    for (const p of processes) await p.stop().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    await stackDown({ log: stackLog }).catch((err) => log(`stack down failed: ${(err as Error).message}`));
    rmSync(runDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

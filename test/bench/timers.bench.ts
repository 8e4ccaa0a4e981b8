/**
 * npm run bench:timers — intake's durable SLA timers at volume: BENCH_TIMERS_JOBS requests (100 000) are
 * seeded in SQL with an SLA due time spread evenly over BENCH_TIMERS_WINDOW_S seconds (90) starting
 * BENCH_TIMERS_LEAD_S (60) after the seed began, each with its graphile-worker job (`add_job`, keyed, as
 * scheduler.ts adds it), while intake runs in-process (its runner with INTAKE_TIMER_CONCURRENCY =
 * BENCH_TIMERS_CONCURRENCY, 8). Every job does the real work (lock, re-check, breach, history, outbox
 * event). Prints the fire-time lateness (history `at` − due) p50/p99/max and the throughput; target p99 ≤ 1 s.
 */
import { parseConfig } from '@crm/config';
import { intakeEnv, startIntake } from '@crm/intake/src/app';
import { createRunTopics, createTestDatabase, kafkaFor, stackUrls, testLogger, uniqueName } from '@crm/testing';
import { Pool } from 'pg';
import { startTeamDouble } from '../../services/intake/test/team-double';
import { fmt, machine, postgresSettings } from './stats';

const JOBS = Number(process.env.BENCH_TIMERS_JOBS ?? 100_000);
const WINDOW_S = Number(process.env.BENCH_TIMERS_WINDOW_S ?? 90);
const LEAD_S = Number(process.env.BENCH_TIMERS_LEAD_S ?? 60);
const CONCURRENCY = Number(process.env.BENCH_TIMERS_CONCURRENCY ?? 8);
const TENANT = 'tenant-bench-timers';
const CHUNK = 5000;

async function main() {
  const logger = testLogger('bench-timers');
  const db = await createTestDatabase('bench_timers');
  const suffix = `.${uniqueName('bench')}`;
  await createRunTopics(kafkaFor(stackUrls().kafkaBrokers, logger), suffix);
  const team = await startTeamDouble();
  const intake = await startIntake(
    parseConfig(intakeEnv, {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: stackUrls().kafkaBrokers.join(','),
      TOPIC_SUFFIX: suffix,
      GRPC_HOST: '127.0.0.1',
      CONTACTS_GRPC_ADDR: '127.0.0.1:1',
      IDENTITY_GRPC_ADDR: team.addr,
      INTAKE_TIMER_CONCURRENCY: String(CONCURRENCY),
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    }),
  );
  const pool = new Pool({ connectionString: db.url, max: 2 });
  try {
    // The window starts LEAD_S after now: the seed (rows + jobs) must finish before the first is due.
    const start = new Date(Math.ceil(Date.now() / 1000) * 1000 + LEAD_S * 1000);
    const seedStarted = performance.now();
    for (let from = 0; from < JOBS; from += CHUNK) {
      const to = Math.min(JOBS, from + CHUNK) - 1;
      await pool.query('BEGIN');
      await pool.query(
        `WITH r AS (
           INSERT INTO requests (id, tenant_id, state, number_axis, meaning_axis, contact_axis, qualification_axis, channel, name, fingerprint, created_at, version, assignee_id, sla_due_at)
           SELECT gen_random_uuid(), $1, 'assigned', 'primary', 'unknown', 'none', 'pending', 'phone', 'Bench ' || i, md5(i::text), now(), 1, gen_random_uuid(),
                  date_trunc('milliseconds', $2::timestamptz + (i * $3::float8 / $4::int) * interval '1 second')
           FROM generate_series($5::int, $6::int) AS i
           RETURNING id, sla_due_at)
         -- The jobs scheduler.ts adds (same task, payload, run_at, key, attempts), in one add_jobs call per chunk.
         SELECT count(*) FROM graphile_worker.add_jobs((SELECT array_agg(ROW('intake_sla_breach',
                  json_build_object('tenantId', $1::text, 'requestId', r.id, 'dueAt', to_char(r.sla_due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
                  NULL, r.sla_due_at, 25, 'sla:' || r.id, NULL, NULL)::graphile_worker.job_spec) FROM r))`,
        [TENANT, start.toISOString(), WINDOW_S, JOBS, from, to],
      );
      await pool.query('COMMIT');
    }
    const seedS = (performance.now() - seedStarted) / 1000;
    if (Date.now() > start.getTime()) process.stdout.write(`warning: the seed took ${fmt(seedS)} s, past the window's start; raise BENCH_TIMERS_LEAD_S\n`);
    const pending = Number((await pool.query('SELECT count(*) AS n FROM graphile_worker.jobs').then((r) => r.rows[0].n)));
    process.stdout.write(`seeded ${JOBS} requests and ${pending} pending jobs in ${fmt(seedS)} s; due from ${start.toISOString()} over ${WINDOW_S} s\n`);

    for (;;) {
      const left = Number((await pool.query('SELECT count(*) AS n FROM graphile_worker.jobs').then((r) => r.rows[0].n)));
      if (left === 0) break;
      if (Date.now() > start.getTime() + (WINDOW_S + 600) * 1000) throw new Error(`${left} jobs still pending 10 minutes after the window`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY l) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY l) AS p99, max(l) AS max, min(l) AS min,
              extract(epoch FROM max(h.at) - min(h.at)) AS span
       FROM (SELECT h.at, extract(epoch FROM h.at - r.sla_due_at) * 1000 AS l FROM request_history h JOIN requests r ON r.id = h.request_id WHERE h.field = 'sla_breached_at') h`,
    );
    const s = rows[0];
    const breached = Number((await pool.query('SELECT count(*) AS n FROM requests WHERE sla_breached_at IS NOT NULL').then((r) => r.rows[0].n)));
    process.stdout.write(`\n${machine()}; ${await postgresSettings(db.url)}; concurrency ${CONCURRENCY}, poll ${intakeEnv.shape.INTAKE_TIMER_POLL_MS.parse(undefined)} ms\n`);
    process.stdout.write('| timers | window | fired (history rows) | breached rows | lateness p50 | p99 | max | throughput |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n');
    process.stdout.write(
      `| ${JOBS} | ${WINDOW_S} s | ${s.n} | ${breached} | ${fmt(Number(s.p50), 0)} ms | ${fmt(Number(s.p99), 0)} ms | ${fmt(Number(s.max), 0)} ms | ${fmt(Number(s.n) / Math.max(1, Number(s.span)), 0)}/s |\n`,
    );
    if (Number(s.n) !== JOBS || breached !== JOBS) process.exitCode = 1;
  } finally {
    await pool.end();
    await intake.stop();
    await team.stop();
    await db.drop();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

/**
 * npm run bench:journal — the request journal (ListRequests) at BENCH_JOURNAL_ROWS requests (1,000,000)
 * of one tenant, seeded in SQL (generate_series, across 10 departments × 10 assignees, every state, 5 %
 * with the SLA breached) into a fresh intake database migrated by intake's own migrations; then
 * BENCH_JOURNAL_ITERATIONS (200) calls per case, in-process through RequestsService.list (the handler's
 * whole work: validation, visibility, SQL, mapping), for the default view, a filtered view (department +
 * open states + sla_breached), a search (`query`) and the `my_work` order, as a seller and as an admin.
 * Prints p50 / p99 per case (target ≤ 50 ms p99 each) and each plan's top node.
 */
import { createOrm, migrate, type MikroORM } from '@crm/db';
import { eventingEntities, eventingMigrations } from '@crm/kafka';
import { createTestDatabase, type TestDatabase } from '@crm/testing';
import { RequestCommentSchema } from '../../services/intake/src/db/entities/request-comment.entity';
import { RequestSchema } from '../../services/intake/src/db/entities/request.entity';
import { intakeMigrations } from '../../services/intake/src/db/migrations/intake_0001_requests';
import { prepareListFilter, type ListRequestsInput } from '../../services/intake/src/domain/list-filter';
import { listSql, RequestsService } from '../../services/intake/src/requests.service';
import { SEE_ALL, type Visibility } from '../../services/intake/src/workflow/visibility';
import { fmt, machine, percentile, postgresSettings } from './stats';

const ROWS = Number(process.env.BENCH_JOURNAL_ROWS ?? 1_000_000);
const ITERATIONS = Number(process.env.BENCH_JOURNAL_ITERATIONS ?? 200);
const TENANT = 'bench-journal';
const dep = (i: number) => `0190a0a0-0000-7000-8000-${String(i).padStart(12, '0')}`;
const user = (d: number, u: number) => `0190a0a0-0000-7000-9000-${String(d * 100 + u).padStart(12, '0')}`;
const SELLER: Visibility = { all: false, userId: user(0, 0), departmentIds: [dep(0)], head: false };

const empty: ListRequestsInput = { states: [], channels: [], createdFrom: '', createdTo: '', query: '', pageSize: 0, cursor: '' };

async function seed(orm: MikroORM): Promise<void> {
  const em = orm.em.fork();
  const batch = 100_000;
  const t0 = performance.now();
  for (let from = 1; from <= ROWS; from += batch) {
    const to = Math.min(ROWS, from + batch - 1);
    // Row i: department i % 10, assignee (i / 10) % 10 of it (none for `new`), newest first by i.
    await em.execute(
      `INSERT INTO requests (id, tenant_id, state, number_axis, meaning_axis, contact_axis, qualification_axis, channel, name, search_name, phone, email,
                             fingerprint, created_at, comment_count, version, department_id, assignee_id, sla_due_at, sla_breached_at, missed, utm_source)
       SELECT gen_random_uuid(), ?, s.state, 'primary', 'unknown', 'unverified', 'pending', (ARRAY['phone','chat','email','signup','web_form'])[1 + i % 5],
              'Client ' || i, 'client ' || i, '+7999' || lpad(i::text, 7, '0'), 'c' || i || '@example.com',
              md5(i::text), date_trunc('milliseconds', now()) - i * interval '1 second', 0, 1,
              ('0190a0a0-0000-7000-8000-' || lpad((i % 10)::text, 12, '0'))::uuid,
              CASE WHEN s.state = 'new' THEN NULL ELSE ('0190a0a0-0000-7000-9000-' || lpad(((i % 10) * 100 + (i / 10) % 10)::text, 12, '0'))::uuid END,
              now() - i * interval '1 second' + interval '15 minutes',
              CASE WHEN i % 20 = 0 THEN now() - i * interval '1 second' + interval '15 minutes' END,
              i % 50 = 0, (ARRAY['yandex','google','vk',NULL])[1 + i % 4]
       FROM generate_series(?::int, ?::int) AS i
       CROSS JOIN LATERAL (SELECT (ARRAY['new','assigned','in_progress','in_progress','closed','closed','closed','closed','trash','converted','deferred','attached'])[1 + (i / 7) % 12] AS state) s`,
      [TENANT, from, to],
    );
    process.stdout.write(`\rseeded ${to.toLocaleString('en-US')} / ${ROWS.toLocaleString('en-US')}`);
  }
  await em.execute('ANALYZE requests');
  console.log(`\nseed: ${fmt((performance.now() - t0) / 1000, 1)} s`);
}

interface Case {
  name: string;
  input: Partial<ListRequestsInput>;
}

const CASES: Case[] = [
  { name: 'default view', input: {} },
  { name: 'department + open + sla_breached', input: { departmentIds: [dep(0)], states: ['new', 'assigned', 'in_progress'], slaBreached: true } },
  { name: 'search "client 98765"', input: { query: 'client 98765' } },
  { name: 'search phone 9990012', input: { query: '9990012' } },
  { name: 'my_work, mine', input: { order: 'my_work', assigneeIds: ['me'], states: ['assigned', 'in_progress'] } },
];

async function main() {
  const db: TestDatabase = await createTestDatabase('bench_journal');
  const entities = [RequestSchema, RequestCommentSchema, ...eventingEntities];
  // Seeded before the search indexes (intake_0005), which are then built in one go as the migration
  // would on an existing table (inserting a million rows under GIN indexes takes ~4× longer).
  const before = await createOrm({ clientUrl: db.url, entities, migrations: [...eventingMigrations, ...intakeMigrations.filter((m) => m.name !== 'intake_0005_journal')] });
  try {
    await migrate(before);
    await seed(before);
  } catch (err) {
    await db.drop();
    throw err;
  } finally {
    await before.close(true);
  }
  const orm = await createOrm({ clientUrl: db.url, entities, migrations: [...eventingMigrations, ...intakeMigrations], poolMax: 4 });
  try {
    const t0 = performance.now();
    await migrate(orm);
    await orm.em.fork().execute('ANALYZE requests');
    console.log(`intake_0005_journal on ${ROWS.toLocaleString('en-US')} rows: ${fmt((performance.now() - t0) / 1000, 1)} s`);
    const service = new RequestsService(orm, 'RU');
    const rows: string[][] = [];
    const plans: string[] = [];
    for (const c of CASES) {
      for (const [who, vis] of [
        ['seller', SELLER],
        ['admin', SEE_ALL],
      ] as const) {
        const input = { ...empty, ...c.input, callerId: user(0, 0) };
        for (let i = 0; i < 5; i++) await service.list(TENANT, input, vis);
        const times: number[] = [];
        let returned = 0;
        for (let i = 0; i < ITERATIONS; i++) {
          const t = performance.now();
          const page = await service.list(TENANT, input, vis);
          times.push(performance.now() - t);
          returned = page.requests.length;
        }
        const p99 = percentile(times, 99);
        rows.push([c.name, who, String(returned), fmt(percentile(times, 50), 2), fmt(p99, 2), p99 <= 50 ? 'ok' : 'OVER']);
        const { sql, params } = listSql(TENANT, prepareListFilter(input, 'RU'), vis);
        const plan = await orm.em.fork().execute<{ 'QUERY PLAN': string }[]>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
        plans.push(`${c.name} / ${who}: ${plan[0]['QUERY PLAN'].trim()} | ${plan.find((p) => p['QUERY PLAN'].includes('Execution Time'))?.['QUERY PLAN'].trim()}`);
      }
    }
    console.log(`machine: ${machine()}; ${await postgresSettings(db.url)}`);
    console.log(`ListRequests over ${ROWS.toLocaleString('en-US')} requests of one tenant, ${ITERATIONS} calls per case, page 25 (target p99 ≤ 50 ms)`);
    const header = ['case', 'as', 'rows', 'p50 ms', 'p99 ms', ''];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((v, i) => (i >= 2 && i <= 4 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ');
    console.log(line(header));
    for (const r of rows) console.log(line(r));
    console.log('plans:');
    for (const p of plans) console.log(`  ${p}`);
  } finally {
    await orm.close(true);
    await db.drop();
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

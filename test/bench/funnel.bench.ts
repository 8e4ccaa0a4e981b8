/**
 * npm run bench:funnel — the funnel through the gateway with every process running (identity, intake,
 * contacts, funnel, reporting, gateway as separate processes on the local stack), from this process:
 * 1. Stage change: POST /v1/deals/{id}/move at BENCH_FUNNEL_MOVE_RATE req/s (200) for
 *    BENCH_FUNNEL_MOVE_SECONDS (15), every call moving another deal (the definition read, the guard, the
 *    row, the history entry and the event in one transaction): p50 / p99 and errors (target p99 ≤ 30 ms).
 * 2. Board load: GET /v1/pipelines/{id}/board (every column's count, totals and first page) for a
 *    pipeline with BENCH_FUNNEL_DEALS open deals (50,000, seeded in SQL over 4 open stages, 20 owners,
 *    5 departments), BENCH_FUNNEL_BOARD_ITERATIONS (200) calls one after another, as the admin and with
 *    an owner filter: p50 / p99 (target p99 ≤ 150 ms).
 */
import { PipelineServiceService, StageOutcome, type StageDefinition } from '@crm/contracts/crm/funnel/v1/pipelines';
import { databaseUrl } from '@crm/db';
import { createClient } from '@crm/grpc';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { startBenchPlatform } from './platform';
import { fmt, machine, percentile, postgresSettings, processCpu } from './stats';

const MOVE_RATE = Number(process.env.BENCH_FUNNEL_MOVE_RATE ?? 200);
const MOVE_SECONDS = Number(process.env.BENCH_FUNNEL_MOVE_SECONDS ?? 15);
const DEALS = Number(process.env.BENCH_FUNNEL_DEALS ?? 50_000);
const BOARD_ITERATIONS = Number(process.env.BENCH_FUNNEL_BOARD_ITERATIONS ?? 200);

const owner = (i: number) => `0190b0b0-0000-7000-9000-${String(i % 20).padStart(12, '0')}`;
const department = (i: number) => `0190b0b0-0000-7000-8000-${String(i % 5).padStart(12, '0')}`;

/** Four open stages that lead to each other and to won / lost: every deal can always move on. */
function benchStages(): StageDefinition[] {
  const open = ['lead', 'contact', 'offer', 'deal'];
  const noGuard = { requiredFields: [], checklistComplete: false, questionnaireId: '' };
  return [
    ...open.map((key, i) => ({ key, name: `Stage ${i + 1}`, outcome: StageOutcome.STAGE_OUTCOME_OPEN, to: [...open.filter((k) => k !== key), 'won', 'lost'], guard: noGuard, checklist: [], probability: 10 * (i + 1) })),
    { key: 'won', name: 'Won', outcome: StageOutcome.STAGE_OUTCOME_WON, to: [], guard: noGuard, checklist: [], probability: 100 },
    { key: 'lost', name: 'Lost', outcome: StageOutcome.STAGE_OUTCOME_LOST, to: [], guard: noGuard, checklist: [], probability: 0 },
  ];
}

async function seed(url: string, tenantId: string, pipelineId: string, n: number): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const t0 = performance.now();
    const batch = 25_000;
    for (let from = 1; from <= n; from += batch) {
      const to = Math.min(n, from + batch - 1);
      await c.query(
        `INSERT INTO deals (id, tenant_id, pipeline_id, pipeline_version, stage, state, title, amount_minor, currency, owner_id, department_id, version,
                            stage_entered_at, created_at, updated_at, created_by)
         SELECT gen_random_uuid(), $1, $2, 1, (ARRAY['lead','contact','offer','deal'])[1 + i % 4], 'open', 'Bench deal ' || i, (i % 1000) * 10000,
                (ARRAY['RUB','RUB','RUB','USD'])[1 + i % 4],
                ('0190b0b0-0000-7000-9000-' || lpad((i % 20)::text, 12, '0'))::uuid, ('0190b0b0-0000-7000-8000-' || lpad((i % 5)::text, 12, '0'))::uuid, 1,
                now() - i * interval '1 minute', now() - i * interval '1 minute', now() - i * interval '1 minute', 'bench'
         FROM generate_series($3::int, $4::int) AS i`,
        [tenantId, pipelineId, from, to],
      );
    }
    await c.query('ANALYZE deals');
    console.log(`seed: ${n.toLocaleString('en-US')} open deals in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  } finally {
    await c.end();
  }
}

async function timed(url: string, headers: Record<string, string>, iterations: number): Promise<{ p50: number; p99: number; bytes: number }> {
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    const text = await res.text();
    ms.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`board: ${res.status} ${text.slice(0, 300)}`);
    bytes = text.length;
  }
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), bytes };
}

async function main() {
  const bench = await startBenchPlatform('benchfunnel', {
    ports: { identity: 50191, intake: 50192, reporting: 50193, contacts: 50194, funnel: 50195, telephony: 50196, gateway: 18195 },
    gatewayEnv: { API_RATE_PER_CREDENTIAL: '10000000' },
  });
  const { platform, demo, urls, prefix } = bench;
  try {
    const base = platform.gatewayUrl;
    const headers = { authorization: `Bearer ${demo.apiKey}`, 'content-type': 'application/json' };
    const pipelines = createClient(PipelineServiceService, { address: platform.addr.funnel! });
    const ctx = { tenantId: demo.tenantId, callerId: 'bench', callerKind: 'service' as const };
    const pipeline = (await pipelines.createPipeline({ definition: { name: 'Bench', stages: benchStages(), lostReasons: ['Bench'], fields: [], defaultCurrency: 'RUB' } }, ctx)).pipeline!;
    pipelines.close();
    await seed(databaseUrl(urls.databaseUrl, `${prefix}funnel`), demo.tenantId, pipeline.id, DEALS);

    // The deals to move: the oldest of the first stage, one per call (each moves once, lead → contact).
    const c = new Client({ connectionString: databaseUrl(urls.databaseUrl, `${prefix}funnel`) });
    await c.connect();
    const ids = (await c.query<{ id: string }>(`SELECT id FROM deals WHERE pipeline_id = $1 AND stage = 'lead' ORDER BY stage_entered_at LIMIT $2`, [pipeline.id, Math.ceil(MOVE_RATE * (MOVE_SECONDS + 3) * 1.2)])).rows.map((r) => r.id);
    await c.end();
    let next = 0;
    const move = (rate: number, seconds: number) =>
      autocannon({
        url: base,
        method: 'POST',
        connections: Math.min(50, Math.max(10, Math.ceil(rate / 10))),
        overallRate: rate,
        duration: seconds,
        headers,
        requests: [{ setupRequest: (req) => ({ ...req, path: `/v1/deals/${ids[next++ % ids.length]}/move`, body: JSON.stringify({ to_stage: 'contact' }) }) }],
      });
    await move(50, 3); // warm-up (connections, caches, the JIT)
    const own = new Map(platform.processes.map((x) => [x.child.pid!, x.name]));
    const cpu0 = processCpu(own, prefix);
    const r = await move(MOVE_RATE, MOVE_SECONDS);
    // The events' consumers (contacts' deal links and timeline, intake's saga) finish shortly after.
    await new Promise((res) => setTimeout(res, 2000));
    const cpu1 = processCpu(own, prefix);
    const perMove = [...cpu1]
      .map(([k, s]) => [k, ((s - (cpu0.get(k) ?? 0)) / Math.max(1, r.requests.total)) * 1000] as const)
      .filter(([, ms]) => ms >= 0.05)
      .sort((a, b) => b[1] - a[1]);
    const errors = r.errors + r.timeouts + r.non2xx;

    const board = `${base}/v1/pipelines/${pipeline.id}/board`;
    await timed(board, headers, 10);
    const all = await timed(board, headers, BOARD_ITERATIONS);
    const filtered = await timed(`${board}?owner_id=${owner(3)}&department_id=${department(3)}`, headers, BOARD_ITERATIONS);

    console.log(`\nmachine: ${machine()}; ${await postgresSettings(urls.databaseUrl)}`);
    console.log(`stage change (POST /v1/deals/{id}/move) offered ${MOVE_RATE}/s for ${MOVE_SECONDS} s: achieved ${fmt(r.requests.average, 0)}/s, p50 ${fmt(r.latency.p50)} ms, p99 ${fmt(r.latency.p99)} ms, errors ${errors} (target p99 ≤ 30 ms)`);
    console.log(`CPU per stage change, ms (the window includes 2 s after it; idle work counted): ${perMove.map(([k, ms]) => `${k} ${fmt(ms, 2)}`).join(', ')}; total ${fmt(perMove.reduce((a, [, ms]) => a + ms, 0), 2)}`);
    console.log(`board (GET /v1/pipelines/{id}/board), ${DEALS.toLocaleString('en-US')} open deals, 6 columns × first page, ${BOARD_ITERATIONS} calls: p50 ${fmt(all.p50)} ms, p99 ${fmt(all.p99)} ms (${Math.round(all.bytes / 1024)} KiB) (target p99 ≤ 150 ms)`);
    console.log(`board filtered by owner + department: p50 ${fmt(filtered.p50)} ms, p99 ${fmt(filtered.p99)} ms`);
  } finally {
    await bench.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

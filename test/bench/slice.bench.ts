/**
 * npm run bench:slice — the first vertical slice with every process running (identity, intake,
 * reporting, gateway as separate processes on the local stack), loaded over HTTP from this process:
 * 1. POST /v1/requests at fixed arrival rates (BENCH_SLICE_RATES, each BENCH_SLICE_SECONDS): p99 and
 *    errors per rate, and the highest rate held with p99 ≤ 50 ms and no errors.
 * 2. Freshness at BENCH_FRESHNESS_RATE req/s: POST → the request is in ClickHouse's requests table
 *    (what the report reads), p50/p99 over every BENCH_FRESHNESS_SAMPLE-th request.
 * 3. Gateway overhead: the authenticated list endpoint's req/s against a bare Fastify hello-world
 *    in a child process, same machine, same run.
 */
import { uuidv7 } from '@crm/db';
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startBenchPlatform } from './platform';
import { fmt, machine, percentile, postgresSettings } from './stats';

const RATES = (process.env.BENCH_SLICE_RATES ?? '250,500,750,1000,1250').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SLICE_SECONDS ?? 10);
const FRESH_RATE = Number(process.env.BENCH_FRESHNESS_RATE ?? 500);
const FRESH_SECONDS = Number(process.env.BENCH_FRESHNESS_SECONDS ?? 15);
const FRESH_SAMPLE = Number(process.env.BENCH_FRESHNESS_SAMPLE ?? 10);

let phoneSeq = 1_000_000;
function body(): string {
  phoneSeq += 1;
  return JSON.stringify({ channel: 'web_form', name: 'Bench', phone: `+7999${phoneSeq}`, attribution: { utm_source: 'bench' } });
}

async function fixedRate(url: string, key: string, rate: number, seconds: number) {
  const result = await autocannon({
    url: `${url}/v1/requests`,
    method: 'POST',
    connections: Math.min(100, Math.max(10, Math.ceil(rate / 20))),
    overallRate: rate,
    duration: seconds,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
  });
  const errors = result.errors + result.timeouts + result.non2xx;
  return { rate, achieved: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors };
}

async function main() {
  const bench = await startBenchPlatform('bench', {
    ports: { identity: 50171, intake: 50172, reporting: 50173, contacts: 50174, funnel: 50175, telephony: 50176, gateway: 18180 },
    gatewayEnv: { API_RATE_PER_CREDENTIAL: '10000000' },
  });
  const { platform, demo, urls, clickhouseDatabase: chDb } = bench;
  const base = platform.gatewayUrl;
  try {
    // Warm up every path (JIT, pools, the intake tenant's first rows).
    await fixedRate(base, demo.apiKey, 100, 3);

    // 1. Fixed arrival rates.
    const runs = [];
    for (const rate of RATES) {
      const r = await fixedRate(base, demo.apiKey, rate, SECONDS);
      runs.push(r);
      console.log(`POST /v1/requests @ ${rate}/s: achieved ${fmt(r.achieved, 0)}/s, p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${r.errors}`);
    }
    const held = runs.filter((r) => r.p99 <= 50 && r.errors === 0 && r.achieved >= r.rate * 0.95).map((r) => r.rate);

    // 2. Freshness: POST → row in ClickHouse.
    const posted = new Map<string, number>();
    const seen = new Map<string, number>();
    let n = 0;
    const start = performance.now();
    const total = FRESH_RATE * FRESH_SECONDS;
    const inflight: Promise<void>[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling || seen.size < posted.size) {
        const pending = [...posted.keys()].filter((id) => !seen.has(id));
        if (pending.length) {
          const sql = `SELECT DISTINCT toString(request_id) AS id FROM ${chDb}.requests WHERE request_id IN (${pending.map((id) => `'${id}'`).join(',')}) FORMAT JSONEachRow`;
          const res = await fetch(urls.clickhouseUrl, { method: 'POST', body: sql });
          const now = performance.now();
          for (const line of (await res.text()).split('\n').filter(Boolean)) {
            const id = JSON.parse(line).id as string;
            if (!seen.has(id)) seen.set(id, now);
          }
        }
        if (performance.now() - start > (FRESH_SECONDS + 60) * 1000) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / FRESH_RATE;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const sample = i % FRESH_SAMPLE === 0;
      const t0 = performance.now();
      inflight.push(
        fetch(`${base}/v1/requests`, { method: 'POST', headers: { authorization: `Bearer ${demo.apiKey}`, 'content-type': 'application/json', 'idempotency-key': uuidv7() }, body: body() })
          .then(async (res) => {
            const json = (await res.json()) as { id?: string };
            if (sample && json.id) posted.set(json.id, t0);
            n++;
          })
          .catch(() => undefined),
      );
      if (inflight.length > 256) await inflight.shift();
    }
    await Promise.all(inflight);
    polling = false;
    await poller;
    const fresh = [...posted].filter(([id]) => seen.has(id)).map(([id, t0]) => seen.get(id)! - t0);

    // 3. Gateway overhead against a bare Fastify hello-world.
    const list = await autocannon({ url: `${base}/v1/requests?limit=25`, connections: 20, duration: SECONDS, headers: { authorization: `Bearer ${demo.apiKey}` } });
    const hello = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'hello-fastify.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const helloPort = await new Promise<number>((resolve) => hello.stdout!.on('data', (c) => resolve(Number(/PORT (\d+)/.exec(String(c))![1]))));
    const bare = await autocannon({ url: `http://127.0.0.1:${helloPort}/`, connections: 20, duration: SECONDS });
    hello.kill();

    console.log(`machine: ${machine()}; ${await postgresSettings(urls.databaseUrl)}`);
    console.log(`POST /v1/requests, highest fixed rate with p99 ≤ 50 ms and no errors: ${held.length ? Math.max(...held) : 'none of'} req/s (tried ${RATES.join(', ')})`);
    console.log(`freshness POST → ClickHouse at ${FRESH_RATE} req/s (${n} posted, ${fresh.length}/${posted.size} samples seen): p50 ${fmt(percentile(fresh, 50), 0)} ms, p99 ${fmt(percentile(fresh, 99), 0)} ms`);
    console.log(
      `gateway overhead: GET /v1/requests (authenticated, 25 rows) ${fmt(list.requests.average, 0)} req/s (p99 ${list.latency.p99} ms) vs bare Fastify hello ${fmt(bare.requests.average, 0)} req/s = ${fmt((list.requests.average / bare.requests.average) * 100, 1)} %`,
    );
  } finally {
    await bench.stop();
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

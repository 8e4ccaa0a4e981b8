/**
 * npm run bench:overload — does the platform shed instead of stalling? Every process running (as
 * bench:slice), POST /v1/requests offered by an open-loop generator (requests leave on schedule whether
 * or not earlier ones were answered, as real clients do):
 * 1. unloaded: BENCH_OVERLOAD_BASE_RATE req/s → p50/p99 of the answers;
 * 2. capacity: what 32 closed-loop connections get served (req/s);
 * 3. overload: BENCH_OVERLOAD_FACTOR × capacity offered → how many are admitted (201) and at what
 *    p99, how many are shed (503 + Retry-After) and how fast, and anything else (errors, timeouts).
 * Target: the shed answered quickly, the admitted p99 within 2× the unloaded p99. Prints the figures.
 */
import { createRunTopics, kafkaFor, stackUrls, testLogger, uniqueName } from '@crm/testing';
import autocannon from 'autocannon';
import { Agent, request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDemoTenant } from '../../tools/src/demo';
import { dropPlatformData, startPlatformProcesses } from '../../tools/src/platform';
import { fmt, machine, percentile, postgresSettings } from './stats';

const BASE_RATE = Number(process.env.BENCH_OVERLOAD_BASE_RATE ?? 50);
const FACTOR = Number(process.env.BENCH_OVERLOAD_FACTOR ?? 3);
const SECONDS = Number(process.env.BENCH_OVERLOAD_SECONDS ?? 10);
const MAX_INFLIGHT = process.env.BENCH_OVERLOAD_MAX_INFLIGHT;

let phoneSeq = 5_000_000;
const body = () => JSON.stringify({ channel: 'web_form', name: 'Overload', phone: `+7999${++phoneSeq}`, attribution: { utm_source: 'bench' } });

interface Answer {
  status: number;
  ms: number;
  retryAfter?: string;
}

/** Open loop: `rate` POSTs a second for `seconds`, each on schedule; every answer's status and latency. */
async function openLoop(base: string, key: string, rate: number, seconds: number): Promise<Answer[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const url = new URL(`${base}/v1/requests`);
  const answers: Promise<Answer>[] = [];
  const start = performance.now();
  const total = Math.round(rate * seconds);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    const payload = body();
    answers.push(
      new Promise<Answer>((resolve) => {
        const req = request(
          url,
          { method: 'POST', agent, timeout: 10_000, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, retryAfter: res.headers['retry-after'] as string | undefined }));
          },
        );
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
        req.end(payload);
      }),
    );
  }
  const out = await Promise.all(answers);
  agent.destroy();
  return out;
}

function summary(answers: Answer[], status: number) {
  const ms = answers.filter((a) => a.status === status).map((a) => a.ms);
  return { n: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

async function main() {
  const urls = stackUrls();
  const suffix = `.${uniqueName('overload')}`;
  await createRunTopics(kafkaFor(urls.kafkaBrokers, testLogger()), suffix);
  const prefix = `${uniqueName('overload')}_`;
  const chDb = uniqueName('overload_reporting');
  const logDir = mkdtempSync(join(tmpdir(), 'crm-overload-'));
  const platform = await startPlatformProcesses(
    { DATABASE_URL: urls.databaseUrl, KAFKA_BROKERS: urls.kafkaBrokers.join(','), CLICKHOUSE_URL: urls.clickhouseUrl },
    {
      dbPrefix: prefix,
      clickhouseDatabase: chDb,
      topicSuffix: suffix,
      ports: { identity: 50271, intake: 50272, reporting: 50273, contacts: 50274, funnel: 50275, telephony: 50276, gateway: 18380 },
      logDir,
      logLevel: 'warn',
      gatewayEnv: { API_RATE_PER_CREDENTIAL: '10000000', ...(MAX_INFLIGHT ? { GATEWAY_MAX_INFLIGHT: MAX_INFLIGHT } : {}) },
    },
  );
  try {
    const demo = await ensureDemoTenant(platform.addr.identity, join(logDir, 'demo.json'));
    const base = platform.gatewayUrl;
    await openLoop(base, demo.apiKey, 100, 3); // warm-up

    const unloaded = summary(await openLoop(base, demo.apiKey, BASE_RATE, SECONDS), 201);
    const closed = await autocannon({
      url: `${base}/v1/requests`,
      method: 'POST',
      connections: 32,
      duration: SECONDS,
      headers: { authorization: `Bearer ${demo.apiKey}`, 'content-type': 'application/json' },
      requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
    });
    const capacity = closed['2xx'] / SECONDS;
    const offered = Math.round(capacity * FACTOR);
    const answers = await openLoop(base, demo.apiKey, offered, SECONDS);
    const admitted = summary(answers, 201);
    const shed = summary(answers, 503);
    const shedWithRetryAfter = answers.filter((a) => a.status === 503 && a.retryAfter).length;
    const other = answers.filter((a) => a.status !== 201 && a.status !== 503);

    console.log(`machine: ${machine()}; ${await postgresSettings(urls.databaseUrl)}; GATEWAY_MAX_INFLIGHT ${MAX_INFLIGHT ?? 'default'}`);
    console.log(`unloaded: ${BASE_RATE} POST/s offered for ${SECONDS} s → ${unloaded.n} created, p50 ${fmt(unloaded.p50)} ms, p99 ${fmt(unloaded.p99)} ms`);
    console.log(`capacity: 32 closed-loop connections → ${fmt(capacity, 0)} created/s`);
    console.log(
      `overload: ${offered} POST/s offered (${FACTOR}× capacity) for ${SECONDS} s → admitted ${admitted.n} (${fmt(admitted.n / SECONDS, 0)}/s), p50 ${fmt(admitted.p50)} ms, p99 ${fmt(admitted.p99)} ms; ` +
        `shed ${shed.n} with 503 (${shedWithRetryAfter} with Retry-After), p50 ${fmt(shed.p50)} ms, p99 ${fmt(shed.p99)} ms; other ${other.length}` +
        (other.length ? ` (${[...new Set(other.map((a) => a.status))].join(', ')})` : ''),
    );
    console.log(`admitted p99 / unloaded p99 = ${fmt(admitted.p99 / unloaded.p99, 2)} (target ≤ 2)`);
  } finally {
    await platform.stop();
    await dropPlatformData({ DATABASE_URL: urls.databaseUrl, KAFKA_BROKERS: urls.kafkaBrokers.join(','), CLICKHOUSE_URL: urls.clickhouseUrl }, { dbPrefix: prefix, clickhouseDatabase: chDb });
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

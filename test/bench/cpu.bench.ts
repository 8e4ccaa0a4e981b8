/**
 * npm run bench:cpu — where the CPU of one POST /v1/requests goes: the platform runs as separate
 * processes (as `npm start` runs it), 20 connections POST for 10 s after a 10 s warm-up, and the CPU
 * time of every process (from /proc/<pid>/stat) is divided by the requests served.
 */
import { createRunTopics, kafkaFor, stackUrls, testLogger, uniqueName } from '@crm/testing';
import autocannon from 'autocannon';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDemoTenant } from '../../tools/src/demo';
import { dropPlatformData, startPlatformProcesses } from '../../tools/src/platform';
function cpu(): Map<string, number> {
  const m = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d: string) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(f[11]) + Number(f[12]);
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const key = /services\/(\w+)|gateway\/src|postgres|kafka\.Kafka|clickhouse|cpu\.bench/.exec(args)?.[0] ?? 'other';
      m.set(key, (m.get(key) ?? 0) + ticks / 100);
    } catch { /* gone */ }
  }
  return m;
}
async function main() {
  const urls = stackUrls();
  const suffix = `.${uniqueName('cpu')}`;
  await createRunTopics(kafkaFor(urls.kafkaBrokers, testLogger()), suffix);
  const logDir = mkdtempSync(join(tmpdir(), 'cpu-'));
  const prefix = `${uniqueName('cpu')}_`;
  const chDb = uniqueName('cpu');
  const p = await startPlatformProcesses(
    { DATABASE_URL: urls.databaseUrl, KAFKA_BROKERS: urls.kafkaBrokers.join(','), CLICKHOUSE_URL: urls.clickhouseUrl },
    { dbPrefix: prefix, clickhouseDatabase: chDb, topicSuffix: suffix, ports: { identity: 50371, intake: 50372, reporting: 50373, gateway: 18380 }, logDir, logLevel: 'warn' },
  );
  const demo = await ensureDemoTenant(p.addr.identity, join(logDir, 'demo.json'));
  let seq = 0;
  const run = () => autocannon({ url: `${p.gatewayUrl}/v1/requests`, method: 'POST', connections: 20, duration: 10, headers: { authorization: `Bearer ${demo.apiKey}`, 'content-type': 'application/json' }, requests: [{ setupRequest: (r) => ({ ...r, body: JSON.stringify({ channel: 'web_form', phone: `+7999${2000000 + ++seq}` }) }) }] });
  await run();
  const a = cpu();
  const r = await run();
  const b = cpu();
  console.log(`POST /v1/requests, 20 connections, 10 s: ${r.requests.total} requests, ${r.requests.average} req/s, p99 ${r.latency.p99} ms`);
  let total = 0;
  for (const [k, v] of [...b].sort((x, y) => y[1] - (a.get(y[0]) ?? 0) - (x[1] - (a.get(x[0]) ?? 0)))) {
    const ms = ((v - (a.get(k) ?? 0)) / r.requests.total) * 1000;
    total += ms;
    if (ms >= 0.05) console.log(`  ${k.padEnd(20)} ${ms.toFixed(2)} ms CPU per request`);
  }
  console.log(`  total                ${total.toFixed(2)} ms CPU per request (${(2000 / total).toFixed(0)} req/s would fill 2 cores)`);
  await p.stop();
  await dropPlatformData({ DATABASE_URL: urls.databaseUrl, KAFKA_BROKERS: urls.kafkaBrokers.join(','), CLICKHOUSE_URL: urls.clickhouseUrl }, { dbPrefix: prefix, clickhouseDatabase: chDb });
  process.exit(0);
}
main();

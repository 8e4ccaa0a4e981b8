/**
 * npm run bench:cpu — where the CPU of one POST /v1/requests goes: the platform runs as separate
 * processes (as `npm start` runs it), 20 connections POST for 10 s after a 10 s warm-up, and the CPU
 * time of every process (from /proc/<pid>/stat) is divided by the requests served. contacts runs too:
 * every POST has a phone, so intake calls its MatchOrCreate (a new contact each time).
 */
import autocannon from 'autocannon';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { startBenchPlatform } from './platform';
/**
 * CPU seconds so far of every process, with its kind. The platform's own processes are recognised by
 * pid and PostgreSQL backends by database (this run's prefix), so on a shared machine another run's
 * services and queries count as `other`; the engines' other processes (Kafka, ClickHouse, PostgreSQL's
 * own workers) are shared and counted whole.
 */
function cpu(own: Map<number, string>, dbPrefix: string): Map<number, { key: string; s: number }> {
  const m = new Map<number, { key: string; s: number }>();
  for (const pid of readdirSync('/proc').filter((d: string) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(f[11]) + Number(f[12]);
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const backend = /^postgres: \S+ (\S+) (\d+\.\d+\.\d+\.\d+|\[local\]|::1)/.exec(args);
      const found = /services\/(\w+)|gateway\/src|postgres|kafka\.Kafka|clickhouse|cpu\.bench/.exec(args)?.[0];
      let key = own.get(Number(pid)) ?? (found && !found.startsWith('services/') && found !== 'gateway/src' ? found : 'other');
      if (backend && !backend[1].startsWith(dbPrefix)) key = 'other';
      m.set(Number(pid), { key, s: ticks / 100 });
    } catch { /* gone */ }
  }
  return m;
}

/** CPU seconds from `a` to `b` by kind: processes alive at `b` (one started in between counts whole). */
function spent(a: Map<number, { key: string; s: number }>, b: Map<number, { key: string; s: number }>): Map<string, number> {
  const by = new Map<string, number>();
  for (const [pid, { key, s }] of b) by.set(key, (by.get(key) ?? 0) + s - (a.get(pid)?.s ?? 0));
  return by;
}

async function main() {
  const bench = await startBenchPlatform('cpu', { ports: { identity: 50371, intake: 50372, reporting: 50373, contacts: 50374, funnel: 50375, telephony: 50376, gateway: 18380 } });
  const { platform: p, demo, prefix } = bench;
  let seq = 0;
  const run = () => autocannon({ url: `${p.gatewayUrl}/v1/requests`, method: 'POST', connections: 20, duration: 10, headers: { authorization: `Bearer ${demo.apiKey}`, 'content-type': 'application/json' }, requests: [{ setupRequest: (r) => ({ ...r, body: JSON.stringify({ channel: 'web_form', phone: `+7999${2000000 + ++seq}` }) }) }] });
  const own = new Map(p.processes.map((x) => [x.child.pid!, x.name === 'gateway' ? 'gateway/src' : `services/${x.name}`]));
  await run();
  // What the processes burn doing nothing (pollers, heartbeats) — large per request when the
  // machine is loaded and few requests get through — measured idle, then taken off the loaded window.
  await new Promise((res) => setTimeout(res, 2000));
  const i0 = cpu(own, prefix);
  const idleStart = performance.now();
  await new Promise((res) => setTimeout(res, 5000));
  const idle = spent(i0, cpu(own, prefix));
  const idleS = (performance.now() - idleStart) / 1000;
  const a = cpu(own, prefix);
  const t0 = performance.now();
  const r = await run();
  const b = cpu(own, prefix);
  const loadS = (performance.now() - t0) / 1000;
  console.log(`POST /v1/requests, 20 connections, 10 s: ${r.requests.total} requests, ${r.requests.average} req/s, p99 ${r.latency.p99} ms`);
  let total = 0;
  let net = 0;
  const used = [...spent(a, b)].sort((x, y) => y[1] - x[1]);
  console.log(`  ${'process'.padEnd(20)} ms CPU per request (and net of its idle CPU)`);
  for (const [k, v] of used.filter(([k]) => k !== 'other')) {
    const ms = (v / r.requests.total) * 1000;
    const netMs = ((v - ((idle.get(k) ?? 0) / idleS) * loadS) / r.requests.total) * 1000;
    total += ms;
    net += netMs;
    if (ms >= 0.05) console.log(`  ${k.padEnd(20)} ${ms.toFixed(2)} (${netMs.toFixed(2)})`);
  }
  console.log(`  total                ${total.toFixed(2)} ms CPU per request, ${net.toFixed(2)} net of idle (${(2000 / total).toFixed(0)} req/s would fill 2 cores)`);
  const other = used.find(([k]) => k === 'other')?.[1] ?? 0;
  console.log(`  not counted: ${other.toFixed(1)} s CPU of other processes on this machine in the ${loadS.toFixed(0)} s`);
  // The engines are shared with whatever else runs here: a loaded machine inflates them and `other`.
  console.log(`  load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} (1/5/15 min) at the end`);
  await bench.stop();
  process.exit(0);
}
main();

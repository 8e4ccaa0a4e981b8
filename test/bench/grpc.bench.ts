/**
 * npm run bench:grpc — unary round trips over loopback between two processes (the server in a child
 * process, with the full runtime wrapper: tenant metadata, deadline, span, metrics), BENCH_GRPC_CONCURRENCY
 * callers (default 50) over BENCH_GRPC_CHANNELS connections (default 1) for BENCH_GRPC_SECONDS. Prints calls/s and p50/p99 latency.
 */
import { ProbeServiceService } from '@crm/contracts/crm/testkit/v1/probe';
import { createClient } from '@crm/grpc';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fmt, machine, percentile } from './stats';

const CONCURRENCY = Number(process.env.BENCH_GRPC_CONCURRENCY ?? 50);
const SECONDS = Number(process.env.BENCH_GRPC_SECONDS ?? 15);
const CHANNELS = Number(process.env.BENCH_GRPC_CHANNELS ?? 1);
const WARMUP_S = 3;

async function main() {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'grpc-server.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c) => {
      out += String(c);
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  // Each client is its own channel (own HTTP/2 connection) when CHANNELS > 1.
  const clients = Array.from({ length: CHANNELS }, () =>
    createClient(ProbeServiceService, { address: `127.0.0.1:${port}`, idempotent: ['echo'], channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }),
  );
  const tenant = { tenantId: 'bench', callerId: 'bench', callerKind: 'service' as const };
  const latencies: number[] = [];
  let errors = 0;
  const warmupEnd = performance.now() + WARMUP_S * 1000;
  const end = warmupEnd + SECONDS * 1000;
  let measuredCalls = 0;
  async function caller(_: unknown, i: number) {
    const client = clients[i % CHANNELS];
    while (performance.now() < end) {
      const t = performance.now();
      try {
        await client.echo({ message: 'ping' }, tenant, { deadlineMs: 1000 });
        if (t >= warmupEnd) {
          latencies.push(performance.now() - t);
          measuredCalls++;
        }
      } catch {
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  for (const c of clients) c.close();
  child.kill('SIGTERM');
  console.log(`machine: ${machine()}`);
  console.log(
    `gRPC unary over loopback, ${CONCURRENCY} concurrent callers on ${CHANNELS} channel(s), ${SECONDS} s after ${WARMUP_S} s warm-up: ${fmt(measuredCalls / SECONDS, 0)} calls/s, ` +
      `p50 ${fmt(percentile(latencies, 50), 2)} ms, p99 ${fmt(percentile(latencies, 99), 2)} ms, errors ${errors}`,
  );
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

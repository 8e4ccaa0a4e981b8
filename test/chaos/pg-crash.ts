/**
 * The crash test of `npm start`'s embedded default: the whole platform on a PostgreSQL started with
 * the durable settings, CHAOS_CRASH_POSTS acknowledged `POST /v1/requests`, then PostgreSQL's postmaster
 * SIGKILLed at once (no checkpoint, no shutdown), restarted, and every acknowledged request counted in
 * intake's database. Runs inside the chaos suite's own stack (test/chaos/chaos.ts).
 */
import { databaseUrl } from '@crm/db';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ensureDemoTenant } from '../../tools/src/demo';
import { startPlatformProcesses } from '../../tools/src/platform';
import { stackStatus, stackUp, type StackOptions } from '../../tools/src/stack';

export interface CrashResult {
  acknowledged: number;
  found: number;
  restart_s: number;
  /** From the restart until the same processes (none restarted) create a request again; null: they never did. */
  serving_again_s: number | null;
}

export async function crashAfterAcknowledgedPosts(
  env: { DATABASE_URL: string; KAFKA_BROKERS: string; CLICKHOUSE_URL: string },
  posts: number,
  log: StackOptions['log'],
): Promise<CrashResult> {
  const logDir = mkdtempSync(join(tmpdir(), 'sales2-crash-'));
  const platform = await startPlatformProcesses(env, {
    dbPrefix: 'crash_',
    clickhouseDatabase: 'crash_reporting',
    ports: { identity: 25261, intake: 25262, reporting: 25263, contacts: 25264, funnel: 25265, telephony: 25266, gateway: 18280 }, // below the ephemeral range
    logDir,
    logLevel: 'warn',
    gatewayEnv: { API_RATE_PER_CREDENTIAL: '10000000' },
  });
  const acknowledged: string[] = [];
  let restartS = 0;
  let servingAgainS: number | null = null;
  try {
    const demo = await ensureDemoTenant(platform.addr.identity, join(logDir, 'demo.json'));
    // 20 writers until `posts` requests were answered 201: each answer is an acknowledged commit.
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < posts) {
          const i = next++;
          const res = await fetch(`${platform.gatewayUrl}/v1/requests`, {
            method: 'POST',
            headers: { authorization: `Bearer ${demo.apiKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ channel: 'web_form', name: `Crash ${i}`, phone: `+7999${String(3_000_000 + i)}` }),
          });
          if (res.status !== 201) throw new Error(`POST ${i} answered ${res.status}: ${await res.text()}`);
          acknowledged.push(((await res.json()) as { id: string }).id);
        }
      }),
    );
    // Right after the last answer: the postmaster dies without a shutdown checkpoint.
    const pid = (await stackStatus()).engines.find((e) => e.name === 'postgres')!.pid!;
    process.kill(pid, 'SIGKILL');
    const t = performance.now();
    log?.(`SIGKILL PostgreSQL (pid ${pid}) after ${acknowledged.length} acknowledged POSTs`);
    await waitGone(pid);
    await stackUp({ engines: ['postgres'], log });
    restartS = (performance.now() - t) / 1000;
    // The services ride out the restart: the same processes create a request again.
    const back = performance.now();
    for (let i = 0; performance.now() - back < 30_000; i++) {
      const alive = platform.processes.every((p) => p.child.exitCode === null && p.child.signalCode === null);
      if (!alive) break;
      const res = await fetch(`${platform.gatewayUrl}/v1/requests`, {
        method: 'POST',
        headers: { authorization: `Bearer ${demo.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'web_form', name: `After ${i}`, phone: `+7999${String(4_000_000 + i)}` }),
      }).catch(() => undefined);
      if (res?.status === 201) {
        servingAgainS = Number(((performance.now() - back) / 1000).toFixed(1));
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await platform.stop();
  }
  const client = new Client({ connectionString: databaseUrl(env.DATABASE_URL, 'crash_intake') });
  await client.connect();
  try {
    const r = await client.query('SELECT count(*) AS n FROM requests WHERE id = ANY($1::uuid[])', [acknowledged]);
    return { acknowledged: acknowledged.length, found: Number(r.rows[0].n), restart_s: Number(restartS.toFixed(1)), serving_again_s: servingAgainS };
  } finally {
    await client.end();
  }
}

async function waitGone(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

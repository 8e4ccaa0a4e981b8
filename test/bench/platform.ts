/**
 * The platform a benchmark runs against: every process of the registry (and the gateway) started as
 * its own process on the local stack, with per-run databases, ClickHouse database and topics, on
 * fixed ports (so two benchmarks never share one), and the demo tenant `npm start` makes. `stop()`
 * stops the processes and drops what the run made.
 */
import { createRunTopics, kafkaFor, stackUrls, testLogger, uniqueName, type StackUrls } from '@crm/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDemoTenant, type DemoCredentials } from '../../tools/src/demo';
import { dropPlatformData, startPlatformProcesses, type PlatformEnv, type RunningPlatform } from '../../tools/src/platform';

export interface BenchPlatform {
  platform: RunningPlatform;
  demo: DemoCredentials;
  urls: StackUrls;
  env: PlatformEnv;
  /** The per-run database name prefix (`<prefix><service>`). */
  prefix: string;
  /** reporting's ClickHouse database of this run. */
  clickhouseDatabase: string;
  logDir: string;
  stop(): Promise<void>;
}

export async function startBenchPlatform(
  name: string,
  opts: { ports: Record<string, number>; gatewayEnv?: Record<string, string>; logLevel?: string },
): Promise<BenchPlatform> {
  const urls = stackUrls();
  const suffix = `.${uniqueName(name)}`;
  await createRunTopics(kafkaFor(urls.kafkaBrokers, testLogger()), suffix);
  const prefix = `${uniqueName(name)}_`;
  const clickhouseDatabase = uniqueName(`${name}_reporting`);
  const logDir = mkdtempSync(join(tmpdir(), `crm-${name}-`));
  const env: PlatformEnv = { DATABASE_URL: urls.databaseUrl, KAFKA_BROKERS: urls.kafkaBrokers.join(','), CLICKHOUSE_URL: urls.clickhouseUrl };
  const platform = await startPlatformProcesses(env, {
    dbPrefix: prefix,
    clickhouseDatabase,
    topicSuffix: suffix,
    ports: opts.ports,
    logDir,
    logLevel: opts.logLevel ?? 'warn',
    ...(opts.gatewayEnv ? { gatewayEnv: opts.gatewayEnv } : {}),
  });
  const stop = async () => {
    await platform.stop();
    await dropPlatformData(env, { dbPrefix: prefix, clickhouseDatabase });
  };
  try {
    const demo = await ensureDemoTenant(platform.addr.identity, join(logDir, 'demo.json'));
    return { platform, demo, urls, env, prefix, clickhouseDatabase, logDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

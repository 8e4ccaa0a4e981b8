/**
 * The images' processes against the real engines: the bundles that tools/scripts/k8s-bundle.mjs makes
 * for the Dockerfiles, run with plain `node` and only the environment the chart gives them.
 * - each migrations job prepares its service: identity's and intake's databases (the runtime's outbox
 *   tables and the service's migrations), intake's topics (with the registry's partitions), reporting's
 *   ClickHouse database from the SQL files next to the bundle; a second run applies nothing;
 * - the bundled identity then starts on the migrated database with nothing left to migrate (the job
 *   applies exactly what `startService` would), answers SERVING on grpc.health.v1 (what the chart's
 *   probes ask) and drains and exits 0 on SIGTERM.
 */
import { databaseUrl, dropDatabase } from '@crm/db';
import { identityMigrations } from '@crm/identity/src/db';
import { createKafka } from '@crm/kafka';
import { runId, stackUrls, testLogger, uniqueName } from '@crm/testing';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { healthStatus, runJob as runCommand, startProcess, type JobRun } from './processes';
import { ROOT } from './support';

const urls = stackUrls();
const out = join(ROOT, '.run', 'k8s-test', `integration-${process.pid}`);
const dbs = { identity: uniqueName('k8s_identity'), intake: uniqueName('k8s_intake') };
const chDatabase = uniqueName('k8s_reporting');
const topicSuffix = `.${uniqueName('k8s')}`;
const baseEnv = { PATH: process.env.PATH, LOG_LEVEL: 'info', KAFKA_BROKERS: urls.kafkaBrokers.join(','), TOPIC_SUFFIX: topicSuffix };
const envOf = {
  identity: { ...baseEnv, DATABASE_URL: databaseUrl(urls.databaseUrl, dbs.identity) },
  intake: { ...baseEnv, DATABASE_URL: databaseUrl(urls.databaseUrl, dbs.intake), TOPIC_REPLICATION_FACTOR: '1', CONTACTS_GRPC_ADDR: '127.0.0.1:1', IDENTITY_GRPC_ADDR: '127.0.0.1:1' },
  reporting: { ...baseEnv, CLICKHOUSE_URL: urls.clickhouseUrl, CLICKHOUSE_DATABASE: chDatabase },
};

function runJob(name: keyof typeof envOf): JobRun {
  return runCommand({ cmd: process.execPath, args: [join('dist', name, 'migrate.js')], cwd: join(out, name), env: envOf[name] });
}

beforeAll(() => {
  mkdirSync(out, { recursive: true });
  for (const name of ['identity', 'intake', 'reporting']) {
    const r = spawnSync(process.execPath, ['tools/scripts/k8s-bundle.mjs', name, join(out, name)], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`k8s-bundle ${name}: ${r.stderr}`);
  }
}, 60_000);

afterAll(async () => {
  rmSync(out, { recursive: true, force: true });
  if (!readdirSync(dirname(out)).length) rmSync(dirname(out), { recursive: true, force: true });
  for (const db of Object.values(dbs)) await dropDatabase(urls.databaseUrl, db);
  await fetch(urls.clickhouseUrl, { method: 'POST', body: `DROP DATABASE IF EXISTS ${chDatabase}` });
  const admin = createKafka({ clientId: `k8s-test-${runId}`, brokers: urls.kafkaBrokers, logger: testLogger() }).admin();
  await admin.connect();
  const mine = (await admin.listTopics()).filter((t) => t.includes(topicSuffix));
  if (mine.length) await admin.deleteTopics({ topics: mine });
  await admin.disconnect();
}, 60_000);

describe('the migrations jobs of the images', () => {
  it('identity: creates its database, applies the runtime’s and its own migrations and creates the topic it owns, once', () => {
    const first = runJob('identity');
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    // crm.identity.session.v1 (SessionsEnded) has no DLQ: its readers are the gateways, which keep no offsets.
    expect(first.done).toEqual({
      applied: ['lib_0001_outbox', 'lib_0002_processed_events', ...identityMigrations.map((m) => m.name)],
      topicsCreated: [`crm.identity.session.v1${topicSuffix}`],
    });
    expect(runJob('identity').done).toEqual({ applied: [], topicsCreated: [] });
  });

  it('intake: its database, and the topics it owns with the registry’s partitions', async () => {
    const r = runJob('intake');
    expect(r.status).toBe(0);
    expect(r.done!.applied).toContain('intake_0001_requests');
    const topic = `crm.intake.request.v1${topicSuffix}`;
    const tasks = `crm.intake.task.v1${topicSuffix}`;
    expect(r.done!.topicsCreated.sort()).toEqual([topic, `${topic}.dlq`, tasks, `${tasks}.dlq`]);
    const admin = createKafka({ clientId: `k8s-test-${runId}`, brokers: urls.kafkaBrokers, logger: testLogger() }).admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0].partitions).toHaveLength(6);
    } finally {
      await admin.disconnect();
    }
    expect(runJob('intake').done).toEqual({ applied: [], topicsCreated: [] });
  });

  it('reporting: its ClickHouse database, from the SQL files next to the bundle', () => {
    const r = runJob('reporting');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const files = readdirSync(join(ROOT, 'services/reporting/migrations')).map((f) => f.replace(/\.sql$/, '')).sort();
    expect(r.done).toEqual({ applied: files, topicsCreated: [] });
    expect(runJob('reporting').done).toEqual({ applied: [], topicsCreated: [] });
  });
});

describe('the bundled identity after its job', () => {
  it('starts with nothing to migrate, serves grpc.health.v1, and drains on SIGTERM', async () => {
    const identity = await startProcess(
      { cmd: process.execPath, args: [join('dist', 'identity', 'main.js')], cwd: join(out, 'identity'), env: { ...envOf.identity, GRPC_HOST: '127.0.0.1', GRPC_PORT: '0' } },
      'service started',
    );
    try {
      expect(await healthStatus(`127.0.0.1:${identity.ready.grpcPort}`)).toBe('SERVING');
      expect(identity.lines.map((l) => l.msg)).not.toContain('migrations applied');
    } finally {
      void identity.stop();
    }
    expect(await identity.exited).toBe(0);
    expect(identity.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['draining', 'stopped']));
  }, 60_000);
});

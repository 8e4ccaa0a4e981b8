/**
 * Every process's image, built for real from the one root Dockerfile (tools/src/images: a Debian base
 * made here, `podman build --isolation chroot`, SERVICE per process) and started from its own
 * filesystem against the real engines:
 * - each image is the process it is named after: its SERVICE label, its user (uid 1000), its CMD, no
 *   npm, the gateway's web UI and no other image's;
 * - each migrations job (`node dist/<name>/migrate.js`, what the chart's Job runs) migrates its store
 *   from inside its image, and a second run applies nothing;
 * - each process, started as the image's user in its WORKDIR with its CMD and the image's ENV plus the
 *   environment the chart gives it (engine addresses pointed at the local stack), answers the chart's
 *   probe: grpc.health.v1 SERVING for the services, `GET /healthz` 200 for the gateway (which reaches
 *   the three services' images), and drains and exits 0 on SIGTERM.
 * Run by `npm test`'s `images` step (jest project `images`); skipped, with one line saying why, where
 * podman cannot run. Prints each image's build seconds and size (README "Benchmarks").
 */
import { databaseUrl, dropDatabase } from '@crm/db';
import { createKafka } from '@crm/kafka';
import { freePort, runId, stackUrls, testLogger, uniqueName } from '@crm/testing';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { renderChart } from '../../tools/src/k8s/chart';
import { containerEnv } from '../../tools/src/k8s/parity';
import { buildAll, imageConfig, imageTable, mountImage, unavailable, unmountImage, type BuiltImage, type ImageConfig } from '../../tools/src/images/podman';
import { healthStatus, runJob, startProcess, type Command, type Started } from '../k8s/processes';
import { chartValues, processNames, setting } from '../k8s/support';

const why = unavailable();
if (why) process.stdout.write(`images: skipped, the images cannot be built here: ${why}.\n`);
const maybe = why ? describe.skip : describe;

const names = processNames();
const services = names.filter((n) => n !== 'gateway');
const values = chartValues();
const withMigrations = names.filter((n) => setting(values, n, 'migrations'));

const built = new Map<string, BuiltImage & { config: ImageConfig; mount: string }>();
const started = new Map<string, Started>();
const dbs = new Map<string, string>();
const chDatabase = uniqueName('img_reporting');
const topicSuffix = `.${uniqueName('img')}`;
const runSecretKey = randomBytes(32).toString('base64');

/**
 * The environment of a container of the chart (default values, no collector), with the engines' and
 * the services' addresses replaced by the local ones; `extra` wins.
 */
function chartEnv(kind: 'Deployment' | 'Job', name: string, extra: Record<string, string>): Record<string, string> {
  const urls = stackUrls();
  const render = renderChart({ set: { 'otel.endpoint': '', 'kafka.replicationFactor': '1' } });
  const workload = kind === 'Deployment' ? `crm-${name}` : render.objects.find((o) => o.kind === 'Job' && o.metadata.name.startsWith(`crm-migrate-${name}`))!.metadata.name;
  const local: Record<string, string> = {
    KAFKA_BROKERS: urls.kafkaBrokers.join(','),
    TOPIC_SUFFIX: topicSuffix,
    CLICKHOUSE_URL: urls.clickhouseUrl,
    CLICKHOUSE_DATABASE: chDatabase,
    ...(dbs.has(name) ? { DATABASE_URL: databaseUrl(urls.databaseUrl, dbs.get(name)!) } : {}),
    // identity's secret (from the crm-identity Secret in a cluster): a key of this run's own.
    IDENTITY_SECRET_KEY: runSecretKey,
  };
  const env: Record<string, string> = {};
  for (const [key, source] of containerEnv(render.objects, kind, workload)) {
    if (key in local) env[key] = local[key];
    else if (source.kind === 'value') env[key] = source.value;
    else throw new Error(`${kind} ${workload}: ${key} comes from a ${source.kind}; the image test has no local value for it`);
  }
  return { ...env, TOPIC_SUFFIX: topicSuffix, ...extra };
}

/** `chroot` into the image's filesystem as its user, in its WORKDIR, with its ENV under `env`. */
function inImage(name: string, argv: string[], env: Record<string, string>): Command {
  const { config, mount } = built.get(name)!;
  const imageEnv = Object.fromEntries((config.Env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return {
    cmd: 'chroot',
    args: [`--userspec=${config.User}`, mount, 'env', `--chdir=${config.WorkingDir}`, ...argv],
    env: { ...imageEnv, ...env },
  };
}

const imageCmd = (name: string): string[] => [...(built.get(name)!.config.Entrypoint ?? []), ...(built.get(name)!.config.Cmd ?? [])];

maybe('the images, built from the one Dockerfile', () => {
  beforeAll(() => {
    const log = (line: string) => process.stdout.write(`images: ${line}\n`);
    const { images, seconds } = buildAll(log);
    log(`built ${images.length} images in ${seconds.toFixed(1)} s\n${imageTable(images)}`);
    for (const image of images) built.set(image.service, { ...image, config: imageConfig(image.name), mount: mountImage(image.name) });
    for (const name of services) dbs.set(name, uniqueName(`img_${name}`));
  }, 30 * 60_000);

  afterAll(async () => {
    await Promise.all([...started.values()].map((s) => s.stop()));
    for (const b of built.values()) unmountImage(b.name);
    const urls = stackUrls();
    for (const db of dbs.values()) await dropDatabase(urls.databaseUrl, db);
    await fetch(urls.clickhouseUrl, { method: 'POST', body: `DROP DATABASE IF EXISTS ${chDatabase}` });
    const admin = createKafka({ clientId: `img-test-${runId}`, brokers: urls.kafkaBrokers, logger: testLogger() }).admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.includes(topicSuffix));
    if (mine.length) await admin.deleteTopics({ topics: mine });
    await admin.disconnect();
  }, 60_000);

  it.each(names)('%s: its SERVICE, uid 1000, its bundle as CMD, no npm', (name) => {
    const { config, mount } = built.get(name)!;
    expect(config.Labels?.['org.opencontainers.image.title']).toBe(`crm-${name}`);
    expect(config.User).toBe('1000:1000');
    expect(config.WorkingDir).toBe('/app');
    expect(imageCmd(name)).toEqual(['node', 'main.js']);
    expect(readlinkSync(join(mount, 'app', 'main.js'))).toBe(`dist/${name}/main.js`);
    expect(existsSync(join(mount, 'app', 'dist', name, 'main.js'))).toBe(true);
    expect(existsSync(join(mount, 'app', 'dist', name, 'migrate.js'))).toBe(withMigrations.includes(name));
    expect(config.Env).toContain('NODE_ENV=production');
    for (const npm of ['usr/local/bin/npm', 'usr/local/bin/npx', 'usr/local/lib/node_modules/npm']) expect(existsSync(join(mount, npm))).toBe(false);
    // Owned by root: the process cannot change its own code.
    expect(lstatSync(join(mount, 'app', 'dist', name, 'main.js')).uid).toBe(0);
    expect(existsSync(join(mount, 'app', 'node_modules', '@crm'))).toBe(false);
    // Only the gateway carries the web UI.
    expect(existsSync(join(mount, 'app', 'web', 'index.html'))).toBe(name === 'gateway');
  });

  it.each(withMigrations)('%s: its migrations job migrates from inside the image, once', (name) => {
    const env = chartEnv('Job', name, {});
    const first = runJob(inImage(name, ['node', `dist/${name}/migrate.js`], env));
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.done?.applied.length).toBeGreaterThan(0);
    expect(runJob(inImage(name, ['node', `dist/${name}/migrate.js`], env)).done).toEqual({ applied: [], topicsCreated: [] });
  });

  it.each(services)('%s: started from its image as its user, answers grpc.health.v1 SERVING', async (name) => {
    const port = await freePort();
    const env = chartEnv('Deployment', name, { GRPC_HOST: '127.0.0.1', GRPC_PORT: String(port) });
    const proc = await startProcess(inImage(name, imageCmd(name), env), 'service started');
    started.set(name, proc);
    expect(proc.ready.grpcPort).toBe(port);
    expect(await healthStatus(`127.0.0.1:${port}`)).toBe('SERVING');
    if (withMigrations.includes(name)) expect(proc.lines.map((l) => l.msg)).not.toContain('migrations applied');
  }, 60_000);

  it('gateway: started from its image against the three services, answers /healthz and serves the web UI', async () => {
    for (const name of services) expect(started.has(name)).toBe(true);
    const port = await freePort();
    const addrs = Object.fromEntries([...started].map(([name, s]) => [`${name.toUpperCase().replace(/-/g, '_')}_GRPC_ADDR`, `127.0.0.1:${s.ready.grpcPort}`]));
    const env = chartEnv('Deployment', 'gateway', { ...addrs, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) });
    const proc = await startProcess(inImage('gateway', imageCmd('gateway'), env), 'gateway listening');
    started.set('gateway', proc);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<div id="root">/);
  }, 60_000);

  it.each(['gateway', ...services])('%s: drains and exits 0 on SIGTERM', async (name) => {
    const proc = started.get(name)!;
    expect(await proc.stop()).toBe(0);
    started.delete(name);
  }, 45_000);
});

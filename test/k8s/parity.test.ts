/**
 * The chart, skaffold.yaml, the Dockerfile and the code agree: every process in the repository is
 * deployed, built and given the environment its config schema requires, and nothing else.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderChart, type RenderResult } from '../../tools/src/k8s/chart';
import { migrationJobEnv, type MigrationPlan } from '../../tools/src/k8s/migrate';
import { containerEnv, envParityProblems, requiredEnv } from '../../tools/src/k8s/parity';
import { chartValues, configSchemas, processDir, processNames, ROOT, setting, skaffoldConfig } from './support';

const values = chartValues();
const skaffold = skaffoldConfig();
const names = processNames();
const renders: [string, RenderResult][] = [
  ['default values', renderChart()],
  ['values-dev.yaml', renderChart({ valuesFiles: ['charts/crm/values-dev.yaml'] })],
];
/** Set by the chart although no schema reads it: the OpenTelemetry convention, read by collectors' tooling. */
const EXTRA = ['OTEL_SERVICE_NAME'];

describe('the required environment, derived from the zod schemas', () => {
  it('is what each service cannot start without', () => {
    expect(requiredEnv(configSchemas.identity)).toEqual(['DATABASE_URL', 'KAFKA_BROKERS']);
    expect(requiredEnv(configSchemas.intake)).toEqual(['CONTACTS_GRPC_ADDR', 'DATABASE_URL', 'IDENTITY_GRPC_ADDR', 'KAFKA_BROKERS']);
    expect(requiredEnv(configSchemas.reporting)).toEqual(['CLICKHOUSE_URL', 'KAFKA_BROKERS']);
    expect(requiredEnv(configSchemas.gateway)).toEqual(['CONTACTS_GRPC_ADDR', 'FUNNEL_GRPC_ADDR', 'IDENTITY_GRPC_ADDR', 'INTAKE_GRPC_ADDR', 'KAFKA_BROKERS', 'REPORTING_GRPC_ADDR', 'TELEPHONY_GRPC_ADDR']);
  });
});

describe('every process in the repository', () => {
  it('has a config schema here, so none is skipped', () => {
    expect(names).toEqual(Object.keys(configSchemas).sort());
  });

  it('is a service of the chart, and the chart has no service without a folder', () => {
    expect(Object.keys(values.services).sort()).toEqual(names);
  });

  it('is an artifact of skaffold.yaml built from the one Dockerfile with its SERVICE, and its image reference is set on the release', () => {
    const artifacts = skaffold.build.artifacts;
    expect(artifacts.map((a) => a.image).sort()).toEqual(names.map((n) => `crm-${n}`));
    const [release] = skaffold.deploy.helm.releases;
    expect(release.chartPath).toBe('charts/crm');
    for (const name of names) {
      const a = artifacts.find((x) => x.image === `crm-${name}`)!;
      expect(a.context ?? '.').toBe('.');
      expect(a.docker).toEqual({ dockerfile: 'Dockerfile', buildArgs: { SERVICE: name } });
      expect(release.setValueTemplates?.[`services.${name}.image.reference`]).toBe(`{{.IMAGE_FULLY_QUALIFIED_crm_${name.replace(/-/g, '_')}}}`);
    }
    expect(Object.keys(release.setValueTemplates ?? {})).toHaveLength(names.length);
  });

  it('skaffold has the dev and ci profiles, both on values-dev.yaml', () => {
    expect(skaffold.apiVersion).toBe('skaffold/v4beta11');
    for (const profile of ['dev', 'ci']) {
      const p = skaffold.profiles.find((x) => x.name === profile);
      expect(p?.patches).toContainEqual({ op: 'add', path: '/deploy/helm/releases/0/valuesFiles', value: ['charts/crm/values-dev.yaml'] });
    }
  });
});

describe.each(renders)('the environment the chart gives each process (%s)', (_label, render) => {
  it('renders', () => expect(render.stderr).toBe(''));

  it.each(names)('%s: every required variable is set, every variable set is read, every literal parses', (name) => {
    const env = containerEnv(render.objects, 'Deployment', `crm-${name}`);
    expect(envParityProblems(configSchemas[name], env, { extraAllowed: EXTRA })).toEqual([]);
  });

  it.each(names.filter((n) => setting(values, n, 'migrations')))('%s: its migrations job gets the same, plus the job’s own variables', (name) => {
    const job = render.objects.find((o) => o.kind === 'Job' && o.metadata.name.startsWith(`crm-migrate-${name}`))!;
    const env = containerEnv(render.objects, 'Job', job.metadata.name);
    expect(envParityProblems(configSchemas[name].extend(migrationJobEnv.shape), env, { extraAllowed: EXTRA })).toEqual([]);
  });
});

describe('the migrations jobs and the code', () => {
  const plan = (name: string) => (require(`../../tools/src/k8s/migrate/${name}`) as { plan: MigrationPlan }).plan;

  it('a service has a migrations plan exactly when the chart runs its job, and every one with a database has one', () => {
    const plans = readdirSync(join(ROOT, 'tools/src/k8s/migrate')).map((f) => f.replace(/\.ts$/, '')).sort();
    expect(names.filter((n) => setting(values, n, 'migrations'))).toEqual(plans);
    for (const name of names) {
      const needsStore = requiredEnv(configSchemas[name]).some((v) => v === 'DATABASE_URL' || v === 'CLICKHOUSE_URL');
      if (needsStore) expect(plans).toContain(name);
    }
  });

  const planNames = readdirSync(join(ROOT, 'tools/src/k8s/migrate')).map((f) => f.replace(/\.ts$/, ''));
  it.each(planNames)('%s: the job reads the service’s own config schema', (name) => {
    expect(plan(name).service).toBe(name);
    expect(plan(name).envSchema).toBe(configSchemas[name]);
  });

  it.each(names.filter((n) => existsSync(join(ROOT, 'services', n, 'src', 'db', 'migrations'))))('%s: the job applies every migration file of the service', (name) => {
    const files = readdirSync(join(ROOT, 'services', name, 'src', 'db', 'migrations'))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    // The services' own required variables (intake's CONTACTS_GRPC_ADDR and IDENTITY_GRPC_ADDR, telephony's INTAKE_GRPC_ADDR), so each schema parses.
    const env = { DATABASE_URL: 'postgres://u:p@db:5432/x', KAFKA_BROKERS: 'k:9092', CONTACTS_GRPC_ADDR: 'contacts:50051', IDENTITY_GRPC_ADDR: 'identity:50051', INTAKE_GRPC_ADDR: 'intake:50051' };
    const { migrations } = plan(name).postgres!(configSchemas[name].parse(env));
    expect(migrations.map((m) => m.name).sort()).toEqual(files);
  });
});

describe('the one Dockerfile', () => {
  /** Without its comments (they explain, and name SERVICE and FROM freely). */
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/^#.*\n/gm, '');
  /** The stages in order: name, FROM line, body. */
  const stages = text
    .split(/^(?=FROM )/m)
    .slice(1)
    .map((body) => ({ name: body.match(/^FROM \S+ AS (\S+)/)?.[1], from: body.split('\n')[0], body }));
  const stage = (name: string) => stages.find((s) => s.name === name)!.body;

  it('is the only one: no process has a Dockerfile of its own', () => {
    for (const name of names) expect(existsSync(join(ROOT, processDir(name), 'Dockerfile'))).toBe(false);
  });

  it('builds on BASE_IMAGE, the public Node 20 slim image unless given', () => {
    expect(text).toMatch(/^ARG BASE_IMAGE=node:20\.\d+-bookworm-slim$/m);
    const own = stages.map((s) => s.name);
    for (const { from } of stages) {
      const parent = from.split(' ')[1];
      expect(parent === '${BASE_IMAGE}' || own.includes(parent)).toBe(true);
    }
  });

  it('shares everything before SERVICE: the manifests and the full build never read it', () => {
    expect(stages.map((s) => s.name)).toEqual(['manifests', 'build', 'web', 'bundle', 'deps', 'runtime']);
    for (const name of ['manifests', 'build']) expect(stage(name)).not.toMatch(/SERVICE/);
    expect(text.slice(0, text.indexOf('FROM '))).not.toMatch(/^ARG SERVICE/m);
  });

  it('bundles the process SERVICE names, installs its production dependencies only, runs it as non-root', () => {
    expect(stage('bundle')).toContain('node tools/scripts/k8s-bundle.mjs "$SERVICE" /out');
    expect(stage('bundle')).toContain('ln -s "dist/$SERVICE/main.js" /out/main.js');
    expect(stage('deps')).toMatch(/npm ci --omit=dev [^\n]*--ignore-scripts [^\n]*--workspace "@crm\/\$SERVICE"/);
    const runtime = stage('runtime');
    expect(runtime).toMatch(/^FROM \$\{BASE_IMAGE\} AS runtime/);
    expect(runtime).toContain('CMD ["node", "main.js"]');
    expect(runtime).toMatch(/^USER [1-9]\d*:[1-9]\d*$/m);
    expect(runtime).toMatch(/NODE_ENV=production/);
    expect(runtime).toMatch(new RegExp(`GRPC_PORT=${values.serviceDefaults.port}\\b`));
    // Node, the bundle, the production node_modules and (gateway) the web UI; npm is removed.
    expect(runtime).toMatch(/rm -rf \/usr\/local\/lib\/node_modules\/npm /);
    expect(runtime.match(/^COPY .*/gm)).toEqual(['COPY --from=deps /deps/node_modules ./node_modules', 'COPY --from=bundle /out/ ./', 'COPY --from=web /extras/ ./']);
  });

  it('builds the web UI for the gateway only and points WEB_DIST_DIR at it', () => {
    expect(stage('web')).toContain('if [ "$SERVICE" = gateway ]; then npm run build -w @crm/web && cp -r web/dist /extras/web; fi');
    expect(stage('runtime')).toMatch(/WEB_DIST_DIR=\/app\/web/);
  });

  it('has a .dockerignore that keeps installed and generated files out but every workspace manifest in', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const line of ['**/node_modules', '**/dist', '.git', '.run', 'libs/contracts/src/gen', '!test/package.json']) expect(ignore).toContain(line);
  });
});

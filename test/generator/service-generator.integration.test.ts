/**
 * The service generator, run for real: in a throw-away copy of the workspace, `nx g @crm/tools:service`
 * creates a service, and then, in the copy, what `npm test` would run for it passes untouched: the
 * contracts generate from its protos (buf), buf lint, typecheck of the new service and of everything
 * that reads the service registry, ESLint (with the Nx module boundaries) on the new files, its unit and
 * integration tests against the running engines (two tenants, its event read back from Kafka), and
 * the Kubernetes checks (chart values, skaffold, env parity, migrations job, bundle) with the service
 * included. The real checkout is never written to.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { productionClosure, readLockfile } from '../../tools/src/k8s/lockfile';
import { copyWorkspace, type WorkspaceCopy } from './workspace-copy';

const ROOT = join(__dirname, '..', '..');
const NAME = 'lead-scoring';
const CAMEL = 'leadScoring';

let copy: WorkspaceCopy;
const timings: Record<string, string> = {};

/** Runs a command in the copy; returns its output, failing the test with it when the command fails. */
function run(label: string, cmd: string, args: string[], expectStatus = 0): string {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, {
    cwd: copy.root,
    encoding: 'utf8',
    // The engines' URLs come from the outer run (with-stack), so nothing in the copy starts another stack.
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_SKIP_NX_CACHE: 'true', FORCE_COLOR: '0' },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 240_000,
  });
  timings[label] = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== expectStatus) throw new Error(`${label}: \`${cmd} ${args.join(' ')}\` exited ${r.status ?? r.signal} (expected ${expectStatus})\n${output.slice(-6000)}`);
  return output;
}

const bin = (name: string) => join(copy.root, 'node_modules', '.bin', name);

beforeAll(() => {
  for (const v of ['DATABASE_URL', 'KAFKA_BROKERS', 'CLICKHOUSE_URL']) {
    if (!process.env[v]) throw new Error(`${v} is not set: run this inside tools/src/with-stack.ts (npm run test:integration)`);
  }
  const t0 = Date.now();
  copy = copyWorkspace(ROOT, 'crm-generator-');
  timings.copy = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
});

afterAll(() => {
  copy?.remove();
  process.stdout.write(`service generator in a workspace copy: ${Object.entries(timings).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
});

describe(`npx nx g @crm/tools:service ${NAME}, in a copy of the workspace`, () => {
  it('creates the service, its contracts and its workspace link', () => {
    const out = run('generate', bin('nx'), ['g', '@crm/tools:service', NAME, '--no-interactive']);
    expect(out).toContain(`CREATE services/${NAME}/src/app.ts`);
    expect(out).toContain('UPDATE tools/src/services.json');
    expect(existsSync(join(copy.root, 'libs/contracts/src/gen/crm/lead_scoring/v1/lead_scoring.ts'))).toBe(true);
    expect(lstatSync(join(copy.root, 'node_modules/@crm', NAME)).isSymbolicLink()).toBe(true);
    // The real checkout is untouched.
    expect(existsSync(join(ROOT, 'services', NAME))).toBe(false);
    expect(existsSync(join(ROOT, 'node_modules/@crm', NAME))).toBe(false);
  });

  it('refuses the same name a second time, changing nothing', () => {
    const registry = readFileSync(join(copy.root, 'tools/src/services.json'), 'utf8');
    const out = run('generate again', bin('nx'), ['g', '@crm/tools:service', NAME, '--no-interactive'], 1);
    expect(out).toContain(`a service "${NAME}" already exists`);
    expect(readFileSync(join(copy.root, 'tools/src/services.json'), 'utf8')).toBe(registry);
  });

  it('passes buf lint', () => {
    run('buf lint', process.execPath, ['tools/scripts/buf.mjs', 'lint']);
  });

  it('typechecks: the new service, the migrations plans, npm start and the Kubernetes checks', () => {
    // Only what the service and the registry touch: the rest of the workspace is not changed by the generator.
    writeFileSync(
      join(copy.root, 'tsconfig.generated.json'),
      JSON.stringify({ extends: './tsconfig.base.json', include: [`services/${NAME}/**/*.ts`, 'tools/src/**/*.ts', 'test/k8s/**/*.ts'] }),
    );
    run('typecheck', bin('tsc'), ['-p', 'tsconfig.generated.json', '--noEmit']);
  });

  it('passes ESLint with the Nx module boundaries', () => {
    run('lint', bin('eslint'), ['--max-warnings=0', `services/${NAME}`, `tools/src/k8s/migrate/${NAME}.ts`, 'tools/src/services.ts', 'tools/src/platform.ts']);
  });

  it('passes its unit and integration tests (real engines, two tenants) and the Kubernetes checks', () => {
    // test/k8s/bundle.test.ts is left out: esbuild sees the copy's packages at their real paths (in the
    // checkout's node_modules), so its externals rule cannot hold in a copy; the lockfile test below
    // checks what it relies on (the image's `npm ci --workspace` of the new service).
    const k8s = ['parity', 'chart', 'broken-values'].map((s) => `test/k8s/${s}.test.ts`);
    const out = run('jest', bin('jest'), [`services/${NAME}/`, ...k8s, '--selectProjects', 'unit', 'integration', '--runInBand', '--ci']);
    expect(out).toMatch(new RegExp(`PASS (unit|integration) services/${NAME}/test/${NAME}\\.integration\\.test\\.ts`));
    expect(out).toMatch(new RegExp(`PASS unit services/${NAME}/src/domain/${NAME}\\.test\\.ts`));
    for (const suite of ['parity', 'chart', 'broken-values']) expect(out).toMatch(new RegExp(`PASS unit test/k8s/${suite}\\.test\\.ts`));
    // The new service is in what the checks iterate over (not skipped).
    expect(out).not.toMatch(/Tests:.*skipped/);
    const support = run('k8s names', process.execPath, ['--import', 'tsx', '-e', `const s = require('./test/k8s/support.ts'); console.log(JSON.stringify({ names: s.processNames(), schema: typeof s.configSchemas['${NAME}']?.shape }))`]);
    expect(JSON.parse(support.trim().split('\n').at(-1)!)).toEqual({ names: expect.arrayContaining([NAME]), schema: 'object' });
    expect(readFileSync(join(copy.root, `services/${NAME}/src/config.ts`), 'utf8')).toContain(`export const ${CAMEL}Env`);
  });

  it('is a workspace of package-lock.json as npm records one, so the image can `npm ci --omit=dev --workspace` it', () => {
    const lock = readLockfile(copy.root);
    const closure = productionClosure(lock, `services/${NAME}`);
    for (const pkg of ['node_modules/@crm/service', 'node_modules/@crm/db', 'node_modules/@grpc/grpc-js', 'node_modules/kafkajs', 'node_modules/pg']) expect(closure).toContain(pkg);
    // npm itself finds nothing to change: the generator wrote the lockfile exactly as `npm install` would.
    const before = readFileSync(join(copy.root, 'package-lock.json'), 'utf8');
    run('npm lockfile', 'npm', ['install', '--package-lock-only', '--offline', '--ignore-scripts', '--no-audit', '--no-fund']);
    expect(JSON.parse(readFileSync(join(copy.root, 'package-lock.json'), 'utf8'))).toEqual(JSON.parse(before));
  });
});

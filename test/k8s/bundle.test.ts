/**
 * The bundling step every Dockerfile runs (tools/scripts/k8s-bundle.mjs), run here for every process:
 * it produces the image's /app layout, each bundle needs only npm packages that the image's
 * `npm ci --omit=dev --workspace <name>` installs at the top of node_modules (read from the lockfile),
 * and the bundles start as plain `node`: with no environment they exit 78 listing exactly the
 * variables the service's schema requires.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { productionClosure, readLockfile } from '../../tools/src/k8s/lockfile';
import { requiredEnv } from '../../tools/src/k8s/parity';
import { configSchemas, processDir, processNames, ROOT } from './support';

const names = processNames();
// Inside the repository, so the bundles resolve their npm packages from its node_modules, as the
// image's do from /app/node_modules.
const out = join(ROOT, '.run', 'k8s-test', `bundle-${process.pid}`);
const withJob = new Set(readdirSync(join(ROOT, 'tools/src/k8s/migrate')).map((f) => f.replace(/\.ts$/, '')));

interface BundleReport {
  name: string;
  externals: Record<string, string[]>;
}
const reports: Record<string, BundleReport> = {};

function bundle(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['tools/scripts/k8s-bundle.mjs', name, join(out, name), '--metafile', join(out, `${name}.json`)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`k8s-bundle ${name} exited ${code}: ${stderr}`))));
  });
}

beforeAll(async () => {
  mkdirSync(out, { recursive: true });
  await Promise.all(names.map(bundle));
  for (const name of names) reports[name] = JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8')) as BundleReport;
}, 60_000);

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  // The shared parent goes too once no other run uses it.
  if (!readdirSync(dirname(out)).length) rmSync(dirname(out), { recursive: true, force: true });
});

describe.each(names)('the bundle of %s', (name) => {
  const app = () => join(out, name);

  it('has the image layout: dist/<name>/main.js, the job, and the files the code reads at run time', () => {
    expect(existsSync(join(app(), 'dist', name, 'main.js'))).toBe(true);
    expect(existsSync(join(app(), 'dist', name, 'main.js.map'))).toBe(true);
    expect(existsSync(join(app(), 'dist', name, 'migrate.js'))).toBe(withJob.has(name));
    if (withJob.has(name)) expect(readdirSync(join(app(), 'proto', 'topics'))).toEqual(readdirSync(join(ROOT, 'proto', 'topics')));
    const sql = join(ROOT, processDir(name), 'migrations');
    if (existsSync(sql)) expect(readdirSync(join(app(), 'migrations'))).toEqual(readdirSync(sql));
    else expect(existsSync(join(app(), 'migrations'))).toBe(false);
  });

  it('leaves external only npm packages that `npm ci --omit=dev --workspace` installs at the top of node_modules', () => {
    const closure = productionClosure(readLockfile(ROOT), processDir(name));
    const externals = Object.values(reports[name].externals).flat();
    expect(externals.length).toBeGreaterThan(5);
    const missing = externals.filter((pkg) => !closure.has(`node_modules/${pkg}`));
    expect(missing).toEqual([]);
    // Workspace code and the generated contracts are inside the bundle, TypeScript tooling is not needed.
    expect(externals.filter((p) => p.startsWith('@crm/') || ['tsx', 'typescript', 'esbuild'].includes(p))).toEqual([]);
  });

  it('starts with plain node and, without environment, exits 78 listing the required variables', () => {
    const entries = withJob.has(name) ? ['main.js', 'migrate.js'] : ['main.js'];
    for (const entry of entries) {
      const r = spawnSync(process.execPath, [join('dist', name, entry)], { cwd: app(), env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 20_000 });
      expect({ entry, status: r.status }).toEqual({ entry, status: 78 });
      const listed = [...r.stderr.matchAll(/^ {2}- ([A-Z_]+): missing/gm)].map((m) => m[1]).sort();
      expect(listed).toEqual(requiredEnv(configSchemas[name]));
    }
  });
});

#!/usr/bin/env node
// Bundles one service (or the gateway) for its container image; every Dockerfile runs it, and so do
// the tests in test/k8s (so what they check is what the images get).
//
//   node tools/scripts/k8s-bundle.mjs <name> <outDir> [--metafile <file>]
//
// esbuild turns the TypeScript entry into one CommonJS file: the service's code, the workspace libs
// (@crm/*) and the generated contracts are bundled; npm packages stay external and are required from
// node_modules at run time (the image gets them from `npm ci --omit=dev --workspace <service>`),
// because several of them read files next to their own code (grpc-health-check's health.proto,
// @fastify/swagger-ui's static folder) and knex requires optional drivers that are never installed.
// A package that npm nested under a workspace folder (libs/kafka/node_modules/yaml, a version the
// root does not have) would not be found from the image's node_modules, so it is bundled too.
//
// <outDir> receives the image's /app:
//   dist/<name>/main.js        the process (+ .map)
//   dist/<name>/migrate.js     the migrations job, when tools/src/k8s/migrate/<name>.ts exists
//   migrations/                services/<name>/migrations (reporting's SQL files; its code reads
//                              `<dir of the bundle>/../../migrations`, which is this folder)
//   proto/topics/              the topic registry, for the migrations job
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const rootModules = join(root, 'node_modules') + sep;

function usage(message) {
  process.stderr.write(`k8s-bundle: ${message}\nusage: node tools/scripts/k8s-bundle.mjs <name> <outDir> [--metafile <file>]\n`);
  process.exit(64);
}

const args = process.argv.slice(2);
const metaAt = args.indexOf('--metafile');
const metafilePath = metaAt >= 0 ? args.splice(metaAt, 2)[1] : undefined;
const [name, outArg] = args;
if (!name || !/^[a-z][a-z0-9-]*$/.test(name) || !outArg) usage('a name and an output folder are needed');

const projectDir = name === 'gateway' ? join(root, 'gateway') : join(root, 'services', name);
const mainEntry = join(projectDir, 'src', 'main.ts');
if (!existsSync(mainEntry)) usage(`${relative(root, mainEntry)} does not exist`);
const migratePlan = join(root, 'tools', 'src', 'k8s', 'migrate', `${name}.ts`);
const out = resolve(outArg);

/** Bare imports of npm packages installed at the root stay external; everything else is bundled. */
const externals = {
  name: 'npm-externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (a) => {
      if (isBuiltin(a.path)) return { path: a.path, external: true };
      if (a.path.startsWith('@crm/') || a.pluginData === 'resolving') return undefined;
      const r = await b.resolve(a.path, { kind: a.kind, importer: a.importer, resolveDir: a.resolveDir, pluginData: 'resolving' });
      if (r.errors.length) return { errors: r.errors };
      if (r.path.startsWith(rootModules)) return { path: a.path, external: true };
      return { path: r.path };
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  sourcesContent: false,
  keepNames: true,
  metafile: true,
  logLevel: 'warning',
  absWorkingDir: root,
  plugins: [externals],
};

rmSync(join(out, 'dist', name), { recursive: true, force: true });
mkdirSync(join(out, 'dist', name), { recursive: true });
const results = { main: await build({ ...common, entryPoints: [mainEntry], outfile: join(out, 'dist', name, 'main.js') }) };
if (existsSync(migratePlan)) {
  results.migrate = await build({
    ...common,
    stdin: {
      contents: `import { plan } from './migrate/${name}';\nimport { runMigrationJobMain } from './migrate';\nrunMigrationJobMain(plan);\n`,
      resolveDir: join(root, 'tools', 'src', 'k8s'),
      sourcefile: `migrate-${name}.ts`,
      loader: 'ts',
    },
    outfile: join(out, 'dist', name, 'migrate.js'),
  });
  cpSync(join(root, 'proto', 'topics'), join(out, 'proto', 'topics'), { recursive: true });
}
if (existsSync(join(projectDir, 'migrations'))) cpSync(join(projectDir, 'migrations'), join(out, 'migrations'), { recursive: true });

if (metafilePath) {
  // Which npm packages each bundle requires at run time (the tests check the image installs them).
  const report = {};
  for (const [entry, r] of Object.entries(results)) {
    const pkgs = new Set();
    for (const output of Object.values(r.metafile.outputs)) {
      for (const imp of output.imports) {
        if (!imp.external || isBuiltin(imp.path)) continue;
        const parts = imp.path.split('/');
        pkgs.add(imp.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
      }
    }
    report[entry] = [...pkgs].sort();
  }
  writeFileSync(metafilePath, `${JSON.stringify({ name, externals: report }, null, 2)}\n`);
}

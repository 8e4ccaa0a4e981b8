#!/usr/bin/env node
// `npm test`: lint, buf lint, buf breaking, typecheck, unit tests, then the steps against the real
// engines of the local stack (integration, fuzz, images; started once here when not running, and
// stopped afterwards) and the chaos suite on a stack of its own.
// Every step runs; the exit code is non-zero when any failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const reports = join(root, '.run', 'reports');
mkdirSync(reports, { recursive: true });
const only = process.env.TEST_STEPS ? new Set(process.env.TEST_STEPS.split(',')) : undefined;

const steps = [
  ['generate', process.execPath, [join(root, 'tools', 'scripts', 'generate.mjs')]],
  ['lint', 'npm', ['run', '--silent', 'lint']],
  ['proto:lint', process.execPath, [join(root, 'tools', 'scripts', 'buf.mjs'), 'lint']],
  ['proto:breaking', process.execPath, [join(root, 'tools', 'scripts', 'buf.mjs'), 'breaking']],
  ['typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']],
  // The committed OpenAPI document and web client (gateway/openapi.json, web/src/gen) match the gateway.
  ['openapi:check', process.execPath, ['--import', 'tsx', join(root, 'gateway', 'scripts', 'openapi.ts'), '--check']],
  ['typecheck:web', 'npm', ['run', '--silent', 'typecheck', '-w', '@crm/web']],
  ['build:web', 'npm', ['run', '--silent', 'build', '-w', '@crm/web']],
  ['unit', bin('jest'), ['--selectProjects', 'unit', '--json', `--outputFile=${join(reports, 'unit.json')}`]],
  [
    'integration',
    process.execPath,
    ['--import', 'tsx', join(root, 'tools', 'src', 'with-stack.ts'), bin('jest'), '--selectProjects', 'integration', '--runInBand', '--json', `--outputFile=${join(reports, 'integration.json')}`],
  ],
  // schemathesis on the whole API of a running platform (test/fuzz/run.ts; skipped with one line without its virtualenv).
  ['fuzz', process.execPath, ['--import', 'tsx', join(root, 'tools', 'src', 'with-stack.ts'), process.execPath, '--import', 'tsx', join(root, 'test', 'fuzz', 'run.ts')]],
  // Faults on a stack of its own (test/chaos/chaos.ts): nothing lost, duplicated or reordered.
  ['chaos', process.execPath, ['--import', 'tsx', join(root, 'test', 'chaos', 'chaos.ts')]],
  // Every process's image built with podman from the root Dockerfile and started from its filesystem
  // (test/images; skipped with a one-line reason where podman is missing).
  [
    'images',
    process.execPath,
    ['--import', 'tsx', join(root, 'tools', 'src', 'with-stack.ts'), bin('jest'), '--selectProjects', 'images', '--runInBand', '--json', `--outputFile=${join(reports, 'images.json')}`],
  ],
];

// The engine steps share one stack: the whole run goes inside with-stack once (each step's own
// with-stack then finds the URLs set and starts nothing), instead of starting and stopping it per step.
const ENGINE_STEPS = ['integration', 'fuzz', 'images'];
const needsStack = steps.some(([name]) => ENGINE_STEPS.includes(name) && (!only || only.has(name)));
if (needsStack && !(process.env.DATABASE_URL && process.env.KAFKA_BROKERS && process.env.CLICKHOUSE_URL)) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'tools', 'src', 'with-stack.ts'), process.execPath, fileURLToPath(import.meta.url)], {
    cwd: root,
    stdio: 'inherit',
    env: process.env,
  });
  // CI reads the run's closing line: repeat the tally after the stack's stop messages.
  const tally = join(reports, 'tally.txt');
  console.log(existsSync(tally) ? readFileSync(tally, 'utf8').trim() : `tests: 0 passed, 1 failed`);
  process.exit(r.status ?? 1);
}

// Only this run's reports are counted.
for (const f of ['unit.json', 'integration.json', 'images.json', 'tally.txt']) rmSync(join(reports, f), { force: true });

const results = [];
for (const [name, cmd, args] of steps) {
  if (only && !only.has(name)) continue;
  console.log(`\n=== ${name} ===`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });
  const ok = r.status === 0;
  results.push({ name, ok, s: ((Date.now() - t0) / 1000).toFixed(1) });
}

let passed = 0;
let failed = 0;
for (const f of ['unit.json', 'integration.json', 'images.json']) {
  const p = join(reports, f);
  if (!existsSync(p)) continue;
  const j = JSON.parse(readFileSync(p, 'utf8'));
  passed += j.numPassedTests;
  failed += j.numFailedTests;
}
console.log('\n=== summary ===');
for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.s}s)`);
const bad = results.filter((r) => !r.ok);
if (bad.length && failed === 0) failed = bad.length; // a failed step that is not a test still fails the run
const line = `tests: ${passed} passed, ${failed} failed`;
writeFileSync(join(reports, 'tally.txt'), `${line}\n`);
console.log(line);
process.exit(bad.length ? 1 : 0);

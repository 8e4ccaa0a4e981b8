#!/usr/bin/env node
// `npm test`: lint, buf lint, buf breaking, typecheck, unit tests, integration tests (the last against
// the real engines of the local stack, started here when not running and stopped afterwards).
// Every step runs; the exit code is non-zero when any failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
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
  ['typecheck:web', 'npm', ['run', '--silent', 'typecheck', '-w', '@crm/web']],
  ['build:web', 'npm', ['run', '--silent', 'build', '-w', '@crm/web']],
  ['unit', bin('jest'), ['--selectProjects', 'unit', '--json', `--outputFile=${join(reports, 'unit.json')}`]],
  [
    'integration',
    process.execPath,
    ['--import', 'tsx', join(root, 'tools', 'src', 'with-stack.ts'), bin('jest'), '--selectProjects', 'integration', '--runInBand', '--json', `--outputFile=${join(reports, 'integration.json')}`],
  ],
];

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
for (const f of ['unit.json', 'integration.json']) {
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
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(bad.length ? 1 : 0);

#!/usr/bin/env node
// `buf lint` and `buf breaking` (against the previous commit of main) for proto/.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const buf = join(root, 'node_modules', '.bin', 'buf');
const mode = process.argv[2];

function run(args) {
  const r = spawnSync(buf, args, { cwd: root, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

function git(args) {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

if (mode === 'lint') run(['lint', 'proto']);
if (mode === 'breaking') {
  // The baseline is the previous commit of main: HEAD~1 (or BUF_AGAINST_REF when set, e.g. origin/main).
  const ref = process.env.BUF_AGAINST_REF ?? 'HEAD~1';
  const sha = git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (!sha) {
    console.log(`proto:breaking: no ${ref} in this clone (first commit or shallow clone); nothing to compare against.`);
    process.exit(0);
  }
  if (!git(['ls-tree', '-d', sha, 'proto'])) {
    console.log(`proto:breaking: ${ref} has no proto/ folder; nothing to compare against.`);
    process.exit(0);
  }
  run(['breaking', 'proto', '--against', `.git#ref=${sha},subdir=proto`]);
}
console.error('usage: buf.mjs lint|breaking');
process.exit(2);

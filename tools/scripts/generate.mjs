#!/usr/bin/env node
// Generates TypeScript from proto/ into libs/contracts/src/gen (never committed, never edited by hand).
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const buf = join(root, 'node_modules', '.bin', 'buf');
if (!existsSync(buf)) {
  console.error('generate: node_modules/.bin/buf is missing; run `npm install` first.');
  process.exit(1);
}
const out = join(root, 'libs', 'contracts', 'src', 'gen');
rmSync(out, { recursive: true, force: true });
execFileSync(buf, ['generate'], { cwd: join(root, 'proto'), stdio: 'inherit' });
console.log('generate: contracts written to libs/contracts/src/gen');

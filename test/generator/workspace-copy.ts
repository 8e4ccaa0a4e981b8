/**
 * A throw-away copy of the workspace for tests that change it (the service generator). Sources are
 * copied (not hard-linked: a generator rewrites files in place, which would write through a hard link
 * into the real checkout); `.git`, `.run`, `.nx`, build output and generated contracts are left out.
 * Installed packages are not copied: each `node_modules` becomes a folder of symlinks to the real
 * packages, except the workspace links (`node_modules/@crm/*`), which are made again inside the copy so
 * that they point at the copy's own folders and a new workspace link lands in the copy only.
 */
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';

const SKIP_TOP = new Set(['.git', '.run', '.nx', 'node_modules', 'coverage']);
const SKIP_ANYWHERE = new Set(['node_modules', 'dist']);

export interface WorkspaceCopy {
  root: string;
  remove(): void;
}

/** Links every entry of `from` (a node_modules folder) into `to`; `@crm` is rebuilt with relative links. */
function linkModules(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    if (entry === '@crm') {
      mkdirSync(join(to, entry));
      // The real links are relative (../../libs/db), so the same text points into the copy.
      for (const pkg of readdirSync(join(from, entry))) symlinkSync(readlinkSync(join(from, entry, pkg)), join(to, entry, pkg));
    } else if (entry !== '.cache') {
      symlinkSync(join(from, entry), join(to, entry));
    }
  }
}

export function copyWorkspace(source: string, prefix = 'crm-ws-'): WorkspaceCopy {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const nested: string[] = [];
  cpSync(source, root, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (src) => {
      const rel = relative(source, src);
      if (!rel) return true;
      const parts = rel.split(sep);
      if (parts.length === 1 && SKIP_TOP.has(parts[0])) return false;
      const last = parts[parts.length - 1];
      if (last === 'node_modules' && lstatSync(src).isDirectory()) nested.push(rel);
      if (SKIP_ANYWHERE.has(last)) return false;
      return rel !== join('libs', 'contracts', 'src', 'gen');
    },
  });
  linkModules(join(source, 'node_modules'), join(root, 'node_modules'));
  for (const rel of nested) symlinkSync(join(source, rel), join(root, rel));
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

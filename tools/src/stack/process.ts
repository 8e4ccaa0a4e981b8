import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sleep } from './wait';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a short-lived command to completion, capturing its output. Rejects only if it cannot be spawned. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Like run(), but throws "<what> failed (...)" with the command's output when it exits non-zero. */
export async function runOk(what: string, cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) {
    const output = `${res.stdout}\n${res.stderr}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`${what} failed (exit code ${String(res.code)}):\n${output}`);
  }
  return res.stdout;
}

/** Absolute path of an executable found in PATH (or among `extra` paths), else undefined. */
export function which(cmd: string, extra: readonly string[] = []): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const candidates = [...dirs.map((dir) => path.join(dir, cmd)), ...extra];
  return candidates.find((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

export interface DetachedSpec {
  cmd: string;
  args: readonly string[];
  cwd: string;
  /** stdout and stderr are appended to this file */
  logFile: string;
  pidFile: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts a long-running process that outlives this one (own session, no pipes to us); writes its pid file. */
export function spawnDetached(spec: DetachedSpec): number {
  const fd = fs.openSync(spec.logFile, 'a');
  let pid: number | undefined;
  try {
    const child = spawn(spec.cmd, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.on('error', () => undefined); // reported below through the missing pid
    child.unref();
    pid = child.pid;
  } finally {
    fs.closeSync(fd);
  }
  if (pid === undefined) throw new Error(`could not start ${spec.cmd}`);
  fs.writeFileSync(spec.pidFile, `${pid}\n`);
  return pid;
}

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(pidFile, 'utf8').trim().split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True if `pid` is a live (non-zombie) process. With `match`, its command line must also contain that
 * string, so a pid reused by an unrelated process (after a reboot, say) is not mistaken for ours.
 */
export function isAlive(pid: number, match?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (state === 'Z' || state === 'X') return false;
  return match === undefined || cmdline(pid).includes(match);
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Linux: a live process whose command line contains `match`, found by scanning /proc. */
export function findProcess(match: string): number | undefined {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && pid !== process.pid && cmdline(pid).includes(match) && isAlive(pid, match)) return pid;
  }
  return undefined;
}

/**
 * The pid of our running instance: from `pidFile` if that process is alive and its command line
 * contains `match`, else found by its command line (a lost pid file), else undefined. Keeps the pid
 * file in line with what was found (a stale one is removed).
 */
export function livePid(pidFile: string, match: string): number | undefined {
  const recorded = readPid(pidFile);
  if (recorded !== undefined && isAlive(recorded, match)) return recorded;
  const found = findProcess(match);
  try {
    if (found !== undefined) fs.writeFileSync(pidFile, `${found}\n`);
    else fs.rmSync(pidFile, { force: true });
  } catch {
    // the run folder is gone; nothing to keep in line
  }
  return found;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function waitGone(pid: number, match: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid, match)) {
    if (Date.now() >= deadline) return false;
    await sleep(200);
  }
  return true;
}

/**
 * SIGTERM, wait up to `timeoutMs`, then SIGKILL (the process group too, as the processes we start are
 * group leaders). Throws if the process is still there afterwards. Returns false if it was not running.
 */
export async function stopPid(pid: number, match: string, timeoutMs = 20_000): Promise<boolean> {
  if (!isAlive(pid, match)) return false;
  signal(pid, 'SIGTERM');
  if (await waitGone(pid, match, timeoutMs)) return true;
  signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
  if (await waitGone(pid, match, 5_000)) return true;
  throw new Error(`process ${pid} did not exit after SIGKILL`);
}

/** True if something accepts TCP connections on host:port. */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (inUse: boolean): void => {
      socket.destroy();
      resolve(inUse);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function mtimeMs(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Runs `fn` holding an exclusive lock file (so two `up`/`down` runs do not race); a dead holder's lock is taken over. */
export async function withLock<T>(lockFile: string, fn: () => Promise<T>, onWait?: (holder: number) => void): Promise<T> {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  let warned = false;
  for (;;) {
    try {
      fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readPid(lockFile);
      const justCreated = holder === undefined && Date.now() - mtimeMs(lockFile) < 5_000; // pid not written yet
      if (!justCreated && (holder === undefined || !isAlive(holder))) {
        fs.rmSync(lockFile, { force: true });
        continue;
      }
      if (!warned && onWait && holder !== undefined) onWait(holder);
      warned = true;
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

/**
 * Stops a detached engine started with spawnDetached (SIGTERM, then SIGKILL after timeoutMs) and
 * removes its pid file; false when it was not running.
 */
export async function stopDetached(name: string, proc: { pidFile: string; match: string }, log: (line: string) => void, timeoutMs = 20_000): Promise<boolean> {
  const pid = livePid(proc.pidFile, proc.match);
  if (pid === undefined) return false;
  log(`[${name}] stopping pid ${pid}`);
  await stopPid(pid, proc.match, timeoutMs);
  fs.rmSync(proc.pidFile, { force: true });
  return true;
}

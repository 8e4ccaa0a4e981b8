/**
 * The local stack: PostgreSQL, Kafka (KRaft) and ClickHouse as local processes under the run folder
 * (no Docker). Each engine is skipped in favour of an external one when its URL variable is set.
 * See tools/README.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clickhouse } from './clickhouse';
import { ENGINES, type Engine, type EngineName, type Log, loadConfig, type StackConfig, StackError, URL_VARS } from './config';
import { kafka } from './kafka';
import { postgres } from './postgres';
import { isAlive, portInUse, withLock } from './process';
import { errorMessage, waitFor } from './wait';

export { ENGINES, StackError, URL_VARS, loadConfig, type EngineName, type StackConfig } from './config';
export { runningPgSettings } from './postgres';

const engines: Record<EngineName, Engine> = { postgres, kafka, clickhouse };

const PORT_VARS: Record<EngineName, string> = {
  postgres: 'CRM_PG_PORT',
  kafka: 'CRM_KAFKA_PORT / CRM_KAFKA_CONTROLLER_PORT',
  clickhouse: 'CRM_CLICKHOUSE_HTTP_PORT / CRM_CLICKHOUSE_TCP_PORT',
};

export type EngineState = 'running' | 'stopped' | 'external';

export interface EngineStatus {
  name: EngineName;
  state: EngineState;
  /** pid of the local process (null when stopped or external) */
  pid: number | null;
  url: string;
  healthy: boolean;
  /** stackUp only: whether this call started the engine or found it running */
  action?: 'started' | 'reused' | 'external';
  error?: string;
}

export interface StackStatus {
  healthy: boolean;
  engines: EngineStatus[];
}

export interface StackInfo extends StackStatus {
  /** DATABASE_URL, KAFKA_BROKERS, CLICKHOUSE_URL */
  env: Record<string, string>;
  /** engines this call started (stop only these to leave a pre-existing stack alone) */
  started: EngineName[];
  runDir: string;
}

export interface StackOptions {
  /** progress output; default console.log */
  log?: Log;
  /** default: all three */
  engines?: readonly EngineName[];
}

/** Thrown by stackUp when an engine is not healthy; `info` tells what was started nonetheless. */
export class StackUpError extends Error {
  override name = 'StackUpError';
  constructor(
    message: string,
    readonly info: StackInfo,
  ) {
    super(message);
  }
}

/** The three URLs: from the environment when set (external engines), else the local stack's. */
export function stackEnv(): Record<string, string> {
  const cfg = loadConfig();
  return Object.fromEntries(ENGINES.map((name) => [URL_VARS[name], engineUrl(name, cfg)]));
}

function engineUrl(name: EngineName, cfg: StackConfig): string {
  return process.env[URL_VARS[name]] || engines[name].localUrl(cfg);
}

const lockFile = (cfg: StackConfig): string => path.join(cfg.runDir, '.lock');

function lock<T>(cfg: StackConfig, log: Log, fn: () => Promise<T>): Promise<T> {
  return withLock(lockFile(cfg), fn, (holder) => log(`waiting for another stack command (pid ${holder}) to finish`));
}

async function upOne(engine: Engine, cfg: StackConfig, log: Log): Promise<EngineStatus> {
  const { name } = engine;
  const urlVar = URL_VARS[name];
  const external = process.env[urlVar];
  if (external) {
    try {
      await waitFor(() => engine.probe(external), { what: name, timeoutMs: 15_000 });
      log(`[${name}] external (${urlVar}), reachable`);
      return { name, state: 'external', pid: null, url: external, healthy: true, action: 'external' };
    } catch (err) {
      const error = `${urlVar} is set but ${name} is not reachable there: ${errorMessage(err)}`;
      return { name, state: 'external', pid: null, url: external, healthy: false, action: 'external', error };
    }
  }

  const url = engine.localUrl(cfg);
  let action: 'started' | 'reused' = 'reused';
  try {
    let pid = engine.pid(cfg);
    if (pid === undefined) {
      for (const port of engine.ports(cfg)) {
        if (await portInUse(port)) {
          throw new StackError(
            `port ${port} is already taken by a process this stack did not start: stop it, choose other ports (${PORT_VARS[name]}), or set ${urlVar} to use it as an external ${name}.`,
          );
        }
      }
      pid = await engine.start(cfg, log);
      action = 'started';
    }
    const running = pid;
    await waitFor(() => engine.probe(url), {
      what: name,
      timeoutMs: action === 'started' ? engine.startTimeoutMs : 30_000,
      logFiles: engine.logFiles(cfg),
      alive: () => isAlive(running),
    });
    log(`[${name}] ${action === 'started' ? 'started' : 'already running'}, healthy (pid ${pid})`);
    return { name, state: 'running', pid, url, healthy: true, action };
  } catch (err) {
    const pid = engine.pid(cfg) ?? null;
    return { name, state: pid ? 'running' : 'stopped', pid, url, healthy: false, action, error: errorMessage(err) };
  }
}

interface StackFile {
  updatedAt: string;
  runDir: string;
  env: Record<string, string>;
  engines: Partial<Record<EngineName, { mode: 'local' | 'external'; state: EngineState; pid: number | null; url: string }>>;
}

function readStackFile(cfg: StackConfig): StackFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(cfg.runDir, 'stack.json'), 'utf8')) as StackFile;
  } catch {
    return undefined;
  }
}

function writeStackFile(cfg: StackConfig, statuses: readonly EngineStatus[]): void {
  const file: StackFile = readStackFile(cfg) ?? { updatedAt: '', runDir: cfg.runDir, env: {}, engines: {} };
  file.updatedAt = new Date().toISOString();
  file.env = stackEnv();
  for (const s of statuses) {
    file.engines[s.name] = { mode: s.state === 'external' ? 'external' : 'local', state: s.state, pid: s.pid, url: s.url };
  }
  fs.writeFileSync(path.join(cfg.runDir, 'stack.json'), `${JSON.stringify(file, null, 2)}\n`);
}

/**
 * Starts what is not running yet (in parallel), waits until every engine is healthy and returns the
 * URLs. Safe to call when the stack is already up. Throws StackUpError if an engine is unhealthy.
 */
export async function stackUp(opts: StackOptions = {}): Promise<StackInfo> {
  const cfg = loadConfig();
  const log = opts.log ?? console.log;
  fs.mkdirSync(cfg.runDir, { recursive: true });
  return lock(cfg, log, async () => {
    const statuses = await Promise.all((opts.engines ?? ENGINES).map((name) => upOne(engines[name], cfg, log)));
    writeStackFile(cfg, statuses);
    const info: StackInfo = {
      healthy: statuses.every((s) => s.healthy),
      engines: statuses,
      env: stackEnv(),
      started: statuses.filter((s) => s.action === 'started').map((s) => s.name),
      runDir: cfg.runDir,
    };
    if (!info.healthy) {
      const failed = statuses.filter((s) => !s.healthy).map((s) => `${s.name}: ${s.error ?? 'not healthy'}`);
      throw new StackUpError(`stack not healthy:\n${failed.join('\n')}`, info);
    }
    return info;
  });
}

/**
 * Stops the processes this stack started (all engines, or `opts.engines`), verifies they are gone and
 * removes their pid files. External engines are never touched. Data is kept.
 */
export async function stackDown(opts: StackOptions = {}): Promise<void> {
  const cfg = loadConfig();
  const log = opts.log ?? console.log;
  if (!fs.existsSync(cfg.runDir)) return;
  await lock(cfg, log, async () => {
    const names = opts.engines ?? ENGINES;
    const results = await Promise.allSettled(names.map((name) => engines[name].stop(cfg, log)));
    const errors = results.flatMap((r, i) => (r.status === 'rejected' ? [`${names[i]}: ${errorMessage(r.reason)}`] : []));
    const stopped: EngineStatus[] = names.map((name) => ({
      name,
      state: 'stopped',
      pid: null,
      url: engines[name].localUrl(cfg),
      healthy: false,
    }));
    writeStackFile(cfg, stopped.filter((s) => engines[s.name].pid(cfg) === undefined));
    if (errors.length > 0) throw new Error(`could not stop:\n${errors.join('\n')}`);
  });
}

/** Per engine: running/stopped/external, pid, URL and a live health check. */
export async function stackStatus(): Promise<StackStatus> {
  const cfg = loadConfig();
  const statuses = await Promise.all(
    ENGINES.map(async (name): Promise<EngineStatus> => {
      const engine = engines[name];
      const external = process.env[URL_VARS[name]];
      const pid = external ? undefined : engine.pid(cfg);
      const url = engineUrl(name, cfg);
      const base = { name, url, pid: pid ?? null, state: external ? 'external' : pid ? 'running' : 'stopped' } as const;
      if (!external && pid === undefined) return { ...base, healthy: false };
      try {
        await engine.probe(url);
        return { ...base, healthy: true };
      } catch (err) {
        return { ...base, healthy: false, error: errorMessage(err) };
      }
    }),
  );
  return { healthy: statuses.every((s) => s.healthy), engines: statuses };
}

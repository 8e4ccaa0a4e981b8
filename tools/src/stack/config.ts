import os from 'node:os';
import path from 'node:path';

export type EngineName = 'postgres' | 'kafka' | 'clickhouse';
export const ENGINES: readonly EngineName[] = ['postgres', 'kafka', 'clickhouse'];

/** The environment variable that, when set, makes the stack use an external engine. */
export const URL_VARS = {
  postgres: 'DATABASE_URL',
  kafka: 'KAFKA_BROKERS',
  clickhouse: 'CLICKHOUSE_URL',
} as const satisfies Record<EngineName, string>;

export interface StackConfig {
  repoRoot: string;
  runDir: string;
  cacheDir: string;
  pgPort: number;
  kafkaPort: number;
  kafkaControllerPort: number;
  clickhouseHttpPort: number;
  clickhouseTcpPort: number;
  /**
   * How a PostgreSQL this stack starts trades durability: `durable` keeps PostgreSQL's defaults (fsync,
   * full page writes, synchronous commit; `npm start`, `stack:up`); `fast` turns them off (the test
   * runner sets it). A server already running keeps what it was started with.
   */
  pgSettings: 'durable' | 'fast';
}

/** Thrown for a missing prerequisite or a wrong setting: the message is one sentence for the user. */
export class StackError extends Error {
  override name = 'StackError';
}

/** tools/src/stack -> repo root */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new StackError(`${name} must be a TCP port number (1-65535), got "${raw}".`);
  }
  return n;
}

function pgSettings(raw: string | undefined): StackConfig['pgSettings'] {
  if (raw === undefined || raw === '' || raw === 'durable') return 'durable';
  if (raw === 'fast') return 'fast';
  throw new StackError(`CRM_PG_SETTINGS must be "durable" or "fast", got "${raw}".`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  return {
    repoRoot: REPO_ROOT,
    runDir: path.resolve(env.CRM_RUN_DIR || path.join(REPO_ROOT, '.run', 'stack')),
    cacheDir: path.resolve(env.CRM_CACHE_DIR || path.join(os.homedir(), '.cache', 'sales2')),
    pgPort: port(env, 'CRM_PG_PORT', 55432),
    kafkaPort: port(env, 'CRM_KAFKA_PORT', 59092),
    kafkaControllerPort: port(env, 'CRM_KAFKA_CONTROLLER_PORT', 59093),
    clickhouseHttpPort: port(env, 'CRM_CLICKHOUSE_HTTP_PORT', 58123),
    clickhouseTcpPort: port(env, 'CRM_CLICKHOUSE_TCP_PORT', 59000),
    pgSettings: pgSettings(env.CRM_PG_SETTINGS),
  };
}

export type Log = (message: string) => void;

/** What index.ts needs from each engine module. */
export interface Engine {
  name: EngineName;
  /** How long a freshly started instance may take to become healthy. */
  startTimeoutMs: number;
  /** The URL (in the format of its env variable) of the local instance. */
  localUrl(cfg: StackConfig): string;
  /** TCP ports the local instance listens on (checked to be free before starting). */
  ports(cfg: StackConfig): number[];
  /** Log files whose tails explain a failure. */
  logFiles(cfg: StackConfig): string[];
  /** Pid of the running local instance, or undefined (a stale pid file is removed). */
  pid(cfg: StackConfig): number | undefined;
  /** Checks prerequisites, prepares the data folder if needed and starts the instance; returns its pid. */
  start(cfg: StackConfig, log: Log): Promise<number>;
  /** Stops the local instance and verifies it is gone; false if it was not running. Data is kept. */
  stop(cfg: StackConfig, log: Log): Promise<boolean>;
  /** One health check against a URL; throws with the reason when unhealthy. */
  probe(url: string): Promise<void>;
}

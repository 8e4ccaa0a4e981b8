/**
 * Runs the platform as separate processes on the local stack: every service of the registry
 * (./services.json) and the gateway, each `node --import tsx <main.ts>` with its environment, waited
 * for until healthy. `npm start` and the end-to-end test use it.
 */
import { databaseUrl, dropDatabase, ensureDatabase } from '@crm/db';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { services, snakeName, type ServiceEntry } from './services';

export const ROOT = join(__dirname, '..', '..');

export interface PlatformEnv {
  DATABASE_URL: string;
  KAFKA_BROKERS: string;
  CLICKHOUSE_URL: string;
}

export interface PlatformOptions {
  /** Database names get this prefix (`crm_` by default; tests use a per-run prefix). */
  dbPrefix?: string;
  /** CLICKHOUSE_DATABASE of the services on ClickHouse (default `crm_<name>`). */
  clickhouseDatabase?: string;
  topicSuffix?: string;
  /** Ports by process name (defaults: the registry's grpcPort, 8080 for the gateway). */
  ports?: Partial<Record<string, number>>;
  /** Where each process's log goes (`<dir>/<name>.log`). */
  logDir: string;
  logLevel?: string;
  /** Extra gateway variables (rate limits in tests). */
  gatewayEnv?: Record<string, string>;
}

export interface RunningProcess {
  name: string;
  child: ChildProcess;
}

export interface RunningPlatform {
  gatewayUrl: string;
  /** `host:port` of every service, by name. */
  addr: Record<string, string>;
  processes: RunningProcess[];
  stop(): Promise<void>;
}

function healthCheck(address: string, timeoutMs: number): Promise<void> {
  const Client = grpc.makeGenericClientConstructor(healthService, 'health');
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const c = new Client(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
        check(r: { service: string }, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void): void;
      };
      c.check({ service: '' }, { deadline: Date.now() + 1000 }, (err, res) => {
        c.close();
        if (!err && res?.status === 'SERVING') return resolve();
        if (Date.now() > deadline) return reject(new Error(`${address} not SERVING after ${timeoutMs} ms`));
        setTimeout(attempt, 200);
      });
    };
    attempt();
  });
}

async function httpHealthy(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not healthy after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function launch(name: string, main: string, env: Record<string, string>, logDir: string): RunningProcess {
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, main)], {
    cwd: ROOT,
    env: { ...process.env, ...env, OTEL_SERVICE_NAME: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return { name, child };
}

async function stopAll(processes: RunningProcess[]): Promise<void> {
  // The gateway first, then the services (reverse start order); SIGKILL after 15 s.
  for (const p of [...processes].reverse()) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
    const exited = new Promise<void>((r) => p.child.once('exit', () => r()));
    p.child.kill('SIGTERM');
    const t = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  }
}

/**
 * Drops what a run of startPlatformProcesses with this per-run `dbPrefix` (and ClickHouse database)
 * created: every registry service's PostgreSQL database and the ClickHouse database. For tests and
 * benchmarks; `npm start`'s own databases (the default prefix) are never passed here.
 */
export async function dropPlatformData(env: PlatformEnv, opts: { dbPrefix: string; clickhouseDatabase: string }): Promise<void> {
  for (const svc of services) if (svc.engines.includes('postgres')) await dropDatabase(env.DATABASE_URL, `${opts.dbPrefix}${snakeName(svc.name)}`);
  await fetch(env.CLICKHOUSE_URL, { method: 'POST', body: `DROP DATABASE IF EXISTS ${opts.clickhouseDatabase}` });
}

/**
 * The gRPC services a service calls, as the chart's `grpcClients` (charts/crm/values.yaml): it gets
 * `<NAME>_GRPC_ADDR` of each and is started once they serve (intake matches every request in contacts).
 */
export const GRPC_CLIENTS: Readonly<Record<string, readonly string[]>> = { intake: ['contacts', 'identity'], telephony: ['intake', 'contacts', 'identity'] };

/** The registry's services, each after the services it calls (otherwise in registry order). */
export function startOrder(entries: readonly ServiceEntry[], clients: Readonly<Record<string, readonly string[]>> = GRPC_CLIENTS): ServiceEntry[] {
  const names = new Set(entries.map((s) => s.name));
  const placed = new Set<string>();
  const order: ServiceEntry[] = [];
  while (order.length < entries.length) {
    const next = entries.find((s) => !placed.has(s.name) && (clients[s.name] ?? []).every((d) => placed.has(d) || !names.has(d)));
    if (!next) throw new Error(`GRPC_CLIENTS has a cycle among ${entries.filter((s) => !placed.has(s.name)).map((s) => s.name).join(', ')}`);
    placed.add(next.name);
    order.push(next);
  }
  return order;
}

export async function startPlatformProcesses(env: PlatformEnv, opts: PlatformOptions): Promise<RunningPlatform> {
  const prefix = opts.dbPrefix ?? 'crm_';
  // Ports given for some services must be given for all: one left on its registry port would clash with
  // another platform (npm start's) on the same machine.
  const pinned = services.filter((s) => opts.ports?.[s.name] !== undefined);
  if (pinned.length && pinned.length < services.length) {
    const missing = services.filter((s) => opts.ports?.[s.name] === undefined).map((s) => s.name);
    throw new Error(`startPlatformProcesses: ports given for ${pinned.map((s) => s.name).join(', ')} but not for ${missing.join(', ')}`);
  }
  const port = (name: string, fallback: number) => opts.ports?.[name] ?? fallback;
  const addr: Record<string, string> = Object.fromEntries(services.map((svc) => [svc.name, `127.0.0.1:${port(svc.name, svc.grpcPort)}`]));
  const common = { KAFKA_BROKERS: env.KAFKA_BROKERS, LOG_LEVEL: opts.logLevel ?? 'info', TOPIC_SUFFIX: opts.topicSuffix ?? '', GRPC_HOST: '127.0.0.1' };
  const processes: RunningProcess[] = [];
  try {
    // Every service starts at once, except that one calling others waits until they serve.
    const serving = new Map<string, Promise<void>>();
    for (const svc of startOrder(services)) {
      const deps = (GRPC_CLIENTS[svc.name] ?? []).filter((d) => d in addr);
      serving.set(
        svc.name,
        (async () => {
          await Promise.all(deps.map((d) => serving.get(d)!));
          const own: Record<string, string> = { GRPC_PORT: String(port(svc.name, svc.grpcPort)) };
          for (const d of deps) own[`${snakeName(d).toUpperCase()}_GRPC_ADDR`] = addr[d];
          if (svc.engines.includes('postgres')) {
            const database = `${prefix}${snakeName(svc.name)}`;
            await ensureDatabase(env.DATABASE_URL, database);
            own.DATABASE_URL = databaseUrl(env.DATABASE_URL, database);
          }
          if (svc.engines.includes('clickhouse')) {
            own.CLICKHOUSE_URL = env.CLICKHOUSE_URL;
            own.CLICKHOUSE_DATABASE = opts.clickhouseDatabase ?? `crm_${snakeName(svc.name)}`;
          }
          processes.push(launch(svc.name, `services/${svc.name}/src/main.ts`, { ...common, ...own }, opts.logDir));
          await healthCheck(addr[svc.name], 60_000);
        })(),
      );
    }
    const failed = (await Promise.allSettled(serving.values())).find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const gatewayAddrs = Object.fromEntries(services.filter((svc) => svc.gatewayEnv).map((svc) => [svc.gatewayEnv!, addr[svc.name]]));
    const gatewayPort = port('gateway', 8080);
    processes.push(
      launch(
        'gateway',
        'gateway/src/main.ts',
        {
          ...common,
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: String(gatewayPort),
          ...gatewayAddrs,
          WEB_DIST_DIR: join(ROOT, 'web', 'dist'),
          ...opts.gatewayEnv,
        },
        opts.logDir,
      ),
    );
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    await httpHealthy(`${gatewayUrl}/healthz`, 60_000);
    for (const p of processes) {
      p.child.once('exit', (code, signal) => {
        if (signal !== 'SIGTERM' && code !== 0) process.stderr.write(`${p.name} exited (${code ?? signal}); see ${join(opts.logDir, `${p.name}.log`)}\n`);
      });
    }
    return { gatewayUrl, addr, processes, stop: () => stopAll(processes) };
  } catch (err) {
    await stopAll(processes);
    throw new Error(`${(err as Error).message}; logs in ${opts.logDir}`);
  }
}

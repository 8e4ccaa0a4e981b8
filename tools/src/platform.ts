/**
 * Runs the platform as separate processes on the local stack: every service and the gateway, each
 * `node --import tsx <main.ts>` with its environment, waited for until healthy. `npm start` and the
 * end-to-end test use it.
 */
import { databaseUrl, ensureDatabase } from '@crm/db';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

export interface PlatformEnv {
  DATABASE_URL: string;
  KAFKA_BROKERS: string;
  CLICKHOUSE_URL: string;
}

export interface PlatformOptions {
  /** Database names get this prefix (`crm_` by default; tests use a per-run prefix). */
  dbPrefix?: string;
  clickhouseDatabase?: string;
  topicSuffix?: string;
  ports?: Partial<Record<'identity' | 'intake' | 'reporting' | 'gateway', number>>;
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
  addr: Record<'identity' | 'intake' | 'reporting', string>;
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

export async function startPlatformProcesses(env: PlatformEnv, opts: PlatformOptions): Promise<RunningPlatform> {
  const prefix = opts.dbPrefix ?? 'crm_';
  const ports = { identity: 50061, intake: 50062, reporting: 50063, gateway: 8080, ...opts.ports };
  const addr = { identity: `127.0.0.1:${ports.identity}`, intake: `127.0.0.1:${ports.intake}`, reporting: `127.0.0.1:${ports.reporting}` };
  const common = { KAFKA_BROKERS: env.KAFKA_BROKERS, LOG_LEVEL: opts.logLevel ?? 'info', TOPIC_SUFFIX: opts.topicSuffix ?? '', GRPC_HOST: '127.0.0.1' };
  const processes: RunningProcess[] = [];
  try {
    for (const svc of ['identity', 'intake'] as const) {
      await ensureDatabase(env.DATABASE_URL, `${prefix}${svc}`);
      processes.push(
        launch(svc, `services/${svc}/src/main.ts`, { ...common, DATABASE_URL: databaseUrl(env.DATABASE_URL, `${prefix}${svc}`), GRPC_PORT: String(ports[svc]) }, opts.logDir),
      );
    }
    processes.push(
      launch(
        'reporting',
        'services/reporting/src/main.ts',
        { ...common, CLICKHOUSE_URL: env.CLICKHOUSE_URL, CLICKHOUSE_DATABASE: opts.clickhouseDatabase ?? 'crm_reporting', GRPC_PORT: String(ports.reporting) },
        opts.logDir,
      ),
    );
    await Promise.all(Object.values(addr).map((a) => healthCheck(a, 60_000)));
    processes.push(
      launch(
        'gateway',
        'gateway/src/main.ts',
        {
          ...common,
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: String(ports.gateway),
          IDENTITY_GRPC_ADDR: addr.identity,
          INTAKE_GRPC_ADDR: addr.intake,
          REPORTING_GRPC_ADDR: addr.reporting,
          WEB_DIST_DIR: join(ROOT, 'web', 'dist'),
          ...opts.gatewayEnv,
        },
        opts.logDir,
      ),
    );
    const gatewayUrl = `http://127.0.0.1:${ports.gateway}`;
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

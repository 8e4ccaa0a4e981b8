/**
 * Running what an image runs and asking it what the chart's probes ask: a migrations job to its end,
 * a process until it listens, grpc.health.v1 for the services, /healthz for the gateway. Shared by the
 * bundle test (the bundles run with the host's node) and the image test (each image's own filesystem,
 * entered with chroot as the image's user).
 */
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

/** A command line with its working folder and its whole environment (nothing is inherited). */
export interface Command {
  cmd: string;
  args: string[];
  cwd?: string;
  env: Record<string, string | undefined>;
}

export interface JobRun {
  status: number | null;
  stderr: string;
  /** The job's last log line ("migrations done"). */
  done?: { applied: string[]; topicsCreated: string[] };
}

/** The JSON log lines of a process's output (anything else, e.g. a stack trace, is skipped). */
export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as T];
      } catch {
        return [];
      }
    });
}

/** Runs a migrations job (`node dist/<name>/migrate.js`) to its end. */
export function runJob(command: Command): JobRun {
  const r = spawnSync(command.cmd, command.args, { cwd: command.cwd, env: command.env, encoding: 'utf8', timeout: 60_000 });
  const done = jsonLines<{ msg: string; applied: string[]; topicsCreated: string[] }>(r.stdout ?? '').find((l) => l.msg === 'migrations done');
  return { status: r.status, stderr: r.stderr ?? '', done: done && { applied: done.applied, topicsCreated: done.topicsCreated } };
}

/** grpc.health.v1 Check of the whole server (service ''), as the chart's grpc probes ask. */
export function healthStatus(address: string): Promise<string> {
  const Client = grpc.makeGenericClientConstructor(healthService, 'health');
  const client = new Client(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    check(r: { service: string }, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void): void;
  };
  return new Promise((resolve, reject) =>
    client.check({ service: '' }, { deadline: Date.now() + 5000 }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res!.status);
    }),
  );
}

export interface LogLine {
  msg: string;
  grpcPort?: number;
  address?: string;
}

export interface Started {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Every JSON log line so far. */
  lines: LogLine[];
  /** The line that said it listens ("service started" with grpcPort, "gateway listening" with address). */
  ready: LogLine;
  stderr(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts a long-running process and resolves once it logs `readyMsg` (rejects if it exits first). */
export function startProcess(command: Command, readyMsg: string, timeoutMs = 45_000): Promise<Started> {
  const child = spawn(command.cmd, command.args, { cwd: command.cwd, env: command.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return new Promise<Started>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command.args.join(' ')} did not log "${readyMsg}" within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const [line] = jsonLines<LogLine>(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        lines.push(line);
        if (line.msg === readyMsg) {
          clearTimeout(timer);
          resolve({ child, lines, ready: line, stderr: () => stderr, exited, stop });
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${command.cmd} ${command.args.join(' ')} exited ${code} before "${readyMsg}": ${stderr}`));
    });
  });
}

/**
 * `with-stack <command...>`: makes sure the local stack is up (starting only the engines that are not
 * running and have no URL set), runs the command with DATABASE_URL, KAFKA_BROKERS and CLICKHOUSE_URL
 * set, then stops exactly the engines it started. Exits with the command's exit code.
 */
import { spawn } from 'node:child_process';
import { stackDown, stackUp, StackUpError, type EngineName } from './stack';

async function main(): Promise<number> {
  const [cmd, ...args] = process.argv.slice(2);
  if (!cmd) {
    console.error('usage: with-stack <command> [args...]');
    return 2;
  }
  const log = (line: string) => process.stderr.write(`[stack] ${line}\n`);
  // Tests and benchmarks start PostgreSQL without durability (fsync off…) unless told otherwise;
  // `npm start` and `stack:up` keep the durable defaults.
  process.env.CRM_PG_SETTINGS ||= 'fast';
  let started: EngineName[] = [];
  let env: Record<string, string>;
  try {
    const info = await stackUp({ log });
    started = info.started;
    env = info.env;
  } catch (err) {
    if (err instanceof StackUpError && err.info.started.length) await stackDown({ engines: err.info.started, log });
    console.error((err as Error).message);
    return 1;
  }
  try {
    return await new Promise<number>((resolve) => {
      const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
      const forward = (sig: NodeJS.Signals) => child.kill(sig);
      process.on('SIGINT', forward);
      process.on('SIGTERM', forward);
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
      child.on('error', (err) => {
        console.error(`with-stack: cannot run ${cmd}: ${err.message}`);
        resolve(127);
      });
    });
  } finally {
    if (started.length) {
      log(`stopping what this run started: ${started.join(', ')}`);
      await stackDown({ engines: started, log });
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

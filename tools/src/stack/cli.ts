/**
 * node --import tsx tools/src/stack/cli.ts up|down|status
 *
 * Exit codes: 0 ok; 1 error (a missing prerequisite, an engine that did not become healthy, a process
 * that would not stop); 2 usage; 3 `status` found an engine not healthy.
 */
import { type EngineStatus, StackError, StackUpError, URL_VARS, stackDown, stackEnv, stackStatus, stackUp } from './index';

/** Hides the password of a URL the user gave us (external engines); our local URLs use fixed dev passwords. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

function table(rows: readonly EngineStatus[]): string {
  const lines = [
    ['ENGINE', 'STATE', 'PID', 'HEALTHY', 'URL'],
    ...rows.map((s) => [
      s.name,
      s.action === 'started' ? `${s.state} (started now)` : s.state,
      s.pid === null ? '-' : String(s.pid),
      s.healthy ? 'yes' : 'no',
      s.state === 'external' ? redact(s.url) : s.url,
    ]),
  ];
  const widths = lines[0]!.map((_, col) => Math.max(...lines.map((line) => line[col]!.length)));
  return lines.map((line) => line.map((cell, col) => cell.padEnd(widths[col]!)).join('  ').trimEnd()).join('\n');
}

function errors(rows: readonly EngineStatus[]): string {
  return rows
    .filter((s) => s.error)
    .map((s) => `\n${s.name}: ${s.error ?? ''}`)
    .join('\n');
}

function envLines(): string {
  const fromEnv = new Set<string>(Object.values(URL_VARS).filter((name) => process.env[name]));
  return Object.entries(stackEnv())
    .map(([key, value]) => `${key}=${fromEnv.has(key) ? redact(value) : value}`)
    .join('\n');
}

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'up': {
      const t0 = Date.now();
      try {
        const info = await stackUp();
        console.log(`\n${table(info.engines)}\n\n${envLines()}\n\nready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        return 0;
      } catch (err) {
        if (!(err instanceof StackUpError)) throw err;
        console.error(`\n${table(err.info.engines)}\n${errors(err.info.engines)}\n\nThe stack is not healthy.`);
        return 1;
      }
    }
    case 'down':
      await stackDown();
      console.log('stack stopped (data kept)');
      return 0;
    case 'status': {
      const status = await stackStatus();
      console.log(table(status.engines));
      const problems = errors(status.engines);
      if (problems) console.log(problems);
      return status.healthy ? 0 : 3;
    }
    default:
      console.error('usage: node --import tsx tools/src/stack/cli.ts up|down|status');
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof StackError ? err.message : err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);

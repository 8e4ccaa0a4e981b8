import fs from 'node:fs';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return errorMessage(err.errors[0]);
  if (err instanceof Error) {
    const message = err.message || err.name;
    // fetch() says only "fetch failed"; the reason (ECONNREFUSED...) is in `cause`
    return err.cause instanceof Error ? `${message} (${errorMessage(err.cause)})` : message;
  }
  return String(err);
}

/** The last `lines` lines of a (possibly large) log file, or '' when it does not exist. */
export function tail(file: string, lines = 20): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, size - length);
    return buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } finally {
    fs.closeSync(fd);
  }
}

/** Log tails formatted for an error message. */
export function logTails(files: readonly string[], lines = 20): string {
  return files
    .map((file) => [file, tail(file, lines)] as const)
    .filter(([, text]) => text !== '')
    .map(([file, text]) => `\n--- last lines of ${file} ---\n${text}`)
    .join('');
}

export interface WaitOptions {
  /** e.g. "kafka" — used in the error message */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** log files whose last lines are appended to the error */
  logFiles?: readonly string[];
  /** when given and it returns false, stop waiting at once: the process died */
  alive?: () => boolean;
}

/** Calls `probe` until it resolves; throws a clear error (with log tails) on timeout or process death. */
export async function waitFor(probe: () => Promise<void>, opts: WaitOptions): Promise<void> {
  const started = Date.now();
  let lastError = 'no attempt made';
  for (;;) {
    if (opts.alive && !opts.alive()) {
      throw new Error(`${opts.what} exited during startup (last probe: ${lastError})${logTails(opts.logFiles ?? [])}`);
    }
    try {
      await probe();
      return;
    } catch (err) {
      lastError = errorMessage(err);
    }
    if (Date.now() - started >= opts.timeoutMs) {
      const secs = Math.round(opts.timeoutMs / 1000);
      throw new Error(`${opts.what} not healthy after ${secs} s: ${lastError}${logTails(opts.logFiles ?? [])}`);
    }
    await sleep(opts.intervalMs ?? 500);
  }
}

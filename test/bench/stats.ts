/** Percentile of a list of numbers (nearest-rank). */
export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function fmt(n: number, digits = 1): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function machine(): string {
  const os = require('node:os') as typeof import('node:os');
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** What the benchmark's PostgreSQL trades of durability, read from the server (README: durable vs fast). */
export async function postgresSettings(databaseUrl: string): Promise<string> {
  const { Client } = require('pg') as typeof import('pg');
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const names = ['fsync', 'synchronous_commit', 'full_page_writes'];
    const values = [];
    for (const n of names) values.push(`${n}=${(await c.query(`SHOW ${n}`)).rows[0][n]}`);
    return `PostgreSQL ${values.join(' ')}`;
  } finally {
    await c.end();
  }
}

/**
 * CPU seconds so far of the platform's processes by name (`own`: pid → name) and of this run's
 * PostgreSQL backends (their database starts with `dbPrefix`) as `postgres`, from /proc.
 */
export function processCpu(own: Map<number, string>, dbPrefix: string): Map<string, number> {
  const { readdirSync, readFileSync } = require('node:fs') as typeof import('node:fs');
  const by = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const s = (Number(f[11]) + Number(f[12])) / 100;
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const backend = /^postgres: \S+ (\S+) /.exec(args);
      const key = own.get(Number(pid)) ?? (backend?.[1]?.startsWith(dbPrefix) ? 'postgres' : undefined);
      if (key) by.set(key, (by.get(key) ?? 0) + s);
    } catch {
      // gone
    }
  }
  return by;
}

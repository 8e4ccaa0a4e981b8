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

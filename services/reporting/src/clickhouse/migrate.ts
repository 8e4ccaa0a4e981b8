/**
 * Numbered SQL migrations (`migrations/NNNN_name.sql`), applied in order and recorded in
 * `schema_migrations`. Running it again applies nothing. ClickHouse DDL is not transactional, so
 * every statement must be idempotent (`IF NOT EXISTS`): a file interrupted half-way is simply re-run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouse } from './client';
import { toDateTimeText } from '../domain/request-rows';
import { sql, str, trustedSql } from './sql';

export const MIGRATIONS_DIR = join(__dirname, '..', '..', 'migrations');

export interface MigrationFile {
  version: number;
  name: string;
  statements: string[];
}

const FILE_RE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Splits a file into statements: `--` comment lines dropped, a statement ends with `;` at a line end. */
export function splitStatements(text: string): string[] {
  const lines = text.split(/\r?\n/).filter((l) => !/^\s*--/.test(l));
  return lines
    .join('\n')
    .split(/;[ \t]*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Reads and orders the migration files; a wrong name or a repeated number is an error. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const seen = new Set<number>();
  return files.map((file) => {
    const m = FILE_RE.exec(file);
    if (!m) throw new Error(`migration file ${file} is not named NNNN_name.sql`);
    const version = Number(m[1]);
    if (seen.has(version)) throw new Error(`migration number ${m[1]} is used twice`);
    seen.add(version);
    const statements = splitStatements(readFileSync(join(dir, file), 'utf8'));
    if (!statements.length) throw new Error(`migration file ${file} has no statement`);
    return { version, name: file.replace(/\.sql$/, ''), statements };
  });
}

/**
 * Settings DDL needs on this server. 18.x refuses `LowCardinality` unless
 * `allow_experimental_low_cardinality_type = 1`; current servers removed that setting and would
 * reject it as unknown, so it is sent only when the server still lists it.
 */
export async function ddlSettings(ch: ClickHouse): Promise<Record<string, number>> {
  const rows = await ch.query<{ name: string }>(sql`SELECT name FROM system.settings WHERE name = ${str('allow_experimental_low_cardinality_type')}`);
  return rows.length ? { allow_experimental_low_cardinality_type: 1 } : {};
}

/** Applies the pending migrations; returns the names applied (empty when up to date). */
export async function migrate(ch: ClickHouse, migrations: MigrationFile[] = loadMigrations()): Promise<string[]> {
  await ch.command(sql`
    CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime('UTC'))
    ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`);
  const applied = new Map(
    (await ch.query<{ version: number; name: string }>(sql`SELECT version, any(name) AS name FROM schema_migrations GROUP BY version`)).map((r) => [Number(r.version), r.name]),
  );
  const settings = await ddlSettings(ch);
  const done: string[] = [];
  for (const m of migrations) {
    const recorded = applied.get(m.version);
    if (recorded !== undefined) {
      if (recorded !== m.name) throw new Error(`migration ${m.version} was applied as ${recorded}, but the file is now ${m.name}`);
      continue;
    }
    for (const statement of m.statements) {
      try {
        await ch.command(trustedSql(statement), { settings });
      } catch (err) {
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
    }
    await ch.insert('schema_migrations', [{ version: m.version, name: m.name, applied_at: toDateTimeText(new Date()) }]);
    done.push(m.name);
  }
  return done;
}

/** Rows in schema_migrations, before any merge (tests check that a second run adds none). */
export async function recordedMigrations(ch: ClickHouse): Promise<number> {
  const [row] = await ch.query<{ n: string }>(sql`SELECT count() AS n FROM schema_migrations`);
  return Number(row.n);
}

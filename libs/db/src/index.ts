import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migration } from '@mikro-orm/migrations';
import { Client } from 'pg';

export { MikroORM, Migration };
export { EntitySchema, type EntityManager } from '@mikro-orm/postgresql';
export { uuidv7, isUuid } from './ids';

/** A migration class as MikroORM's Migrator takes it, with its name (kept in the mikro_orm_migrations table). */
export interface NamedMigration {
  name: string;
  class: new (...args: ConstructorParameters<typeof Migration>) => Migration;
}

const DB_NAME_RE = /^[a-z][a-z0-9_]{0,62}$/;

/** The same server URL pointing at another database. */
export function databaseUrl(baseUrl: string, database: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates the database when it does not exist (one database per service). Idempotent. */
export async function ensureDatabase(baseUrl: string, database: string): Promise<void> {
  if (!DB_NAME_RE.test(database)) throw new Error(`invalid database name "${database}": use [a-z][a-z0-9_]*`);
  const client = new Client({ connectionString: databaseUrl(baseUrl, 'postgres') });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${database}"`);
      } catch (err) {
        // Two processes racing to create the same database: the loser sees duplicate_database.
        if ((err as { code?: string }).code !== '42P04') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

/** Drops a database (tests clean up their per-run databases). */
export async function dropDatabase(baseUrl: string, database: string): Promise<void> {
  if (!DB_NAME_RE.test(database)) throw new Error(`invalid database name "${database}"`);
  const client = new Client({ connectionString: databaseUrl(baseUrl, 'postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export interface DbConfig {
  /** postgres://user:pass@host:port/database — the service's own database. */
  clientUrl: string;
  entities: NonNullable<Options['entities']>;
  migrations: NamedMigration[];
  poolMax?: number;
  debug?: boolean;
}

/** MikroORM for one service's database, with the shared defaults. */
export async function createOrm(cfg: DbConfig): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl: cfg.clientUrl,
    entities: cfg.entities,
    discovery: { warnWhenNoEntities: false },
    pool: { min: 0, max: cfg.poolMax ?? 10 },
    debug: cfg.debug ?? false,
    allowGlobalContext: false,
    forceUtcTimezone: true,
    migrations: {
      migrationsList: cfg.migrations,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    extensions: [(await import('@mikro-orm/migrations')).Migrator],
  });
}

/** Applies every pending migration; returns the names applied. */
export async function migrate(orm: MikroORM): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((m) => m.name);
}

/**
 * intake's migrations job: its PostgreSQL database, graphile-worker's schema in it (the durable timers:
 * intake adds jobs inside its own transactions, so the schema must exist before it serves) and the
 * topics it owns (crm.intake.*).
 */
// A plan packages the service's own migrations into its image's job, so it imports the service (an
// Nx "app"); only these plan files do, and the service never imports them back.
import { intakeEnv } from '@crm/intake/src/config';
import { intakeMigrations } from '@crm/intake/src/db/migrations/intake_0001_requests';
import { migrateTimers } from '@crm/intake/src/timers/runner';
import { Client } from 'pg';
import type { MigrationPlan } from '../migrate';

/** graphile-worker's newest applied migration (0: its schema does not exist yet). */
async function graphileVersion(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    // Two statements: a relation in a subquery is resolved when the statement is planned, CASE or not.
    const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('graphile_worker.migrations')::text AS t`);
    if (!exists.rows[0]?.t) return 0;
    const { rows } = await client.query<{ v: number | null }>('SELECT max(id) AS v FROM graphile_worker.migrations');
    return Number(rows[0]?.v ?? 0);
  } finally {
    await client.end();
  }
}

export const plan: MigrationPlan<typeof intakeEnv> = {
  service: 'intake',
  envSchema: intakeEnv,
  postgres: (env) => ({ url: env.DATABASE_URL, migrations: intakeMigrations }),
  other: async (env, logger) => {
    const before = await graphileVersion(env.DATABASE_URL);
    await migrateTimers(env.DATABASE_URL, logger);
    const after = await graphileVersion(env.DATABASE_URL);
    return after === before ? [] : [`graphile_worker_${String(after).padStart(6, '0')}`];
  },
};

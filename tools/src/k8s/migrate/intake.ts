/**
 * intake's migrations job: its PostgreSQL database, graphile-worker's schema in it (the durable timers:
 * intake adds jobs inside its own transactions, so the schema must exist before it serves) and the
 * topics it owns (crm.intake.*).
 */
// A plan packages the service's own migrations into its image's job, so it imports the service (an
// Nx "app"); only these plan files do, and the service never imports them back.
import { intakeEnv } from '@crm/intake/src/config';
import { intakeMigrations } from '@crm/intake/src/db/migrations/intake_0001_requests';
import { TIMERS_LOCK_NAME } from '@crm/intake/src/timers';
import { migrateJobsStep } from '@crm/jobs';
import type { MigrationPlan } from '../migrate';

export const plan: MigrationPlan<typeof intakeEnv> = {
  service: 'intake',
  envSchema: intakeEnv,
  postgres: (env) => ({ url: env.DATABASE_URL, migrations: intakeMigrations }),
  other: (env, logger) => migrateJobsStep(TIMERS_LOCK_NAME, env.DATABASE_URL, logger),
};

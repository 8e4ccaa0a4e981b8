/**
 * The migrations job of telephony: its PostgreSQL database, graphile-worker's schema in it (webhook
 * processing and recording downloads: telephony adds jobs inside its own transactions, so the schema must
 * exist before it serves) and the topics it owns (crm.telephony.*).
 */
// A plan packages the service's own migrations into its image's job, so it imports the service (an
// Nx "app"); only these plan files do, and the service never imports them back.
import { JOBS_LOCK_NAME } from '@crm/telephony/src/calls/runner';
import { telephonyEnv } from '@crm/telephony/src/config';
import { telephonyMigrations } from '@crm/telephony/src/db';
import { migrateJobsStep } from '@crm/jobs';
import type { MigrationPlan } from '../migrate';

export const plan: MigrationPlan<typeof telephonyEnv> = {
  service: 'telephony',
  envSchema: telephonyEnv,
  postgres: (env) => ({ url: env.DATABASE_URL, migrations: telephonyMigrations }),
  other: (env, logger) => migrateJobsStep(JOBS_LOCK_NAME, env.DATABASE_URL, logger),
};

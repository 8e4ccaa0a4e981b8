/** The migrations job of telephony: its PostgreSQL database and the topics it owns (crm.telephony.*). */
// A plan packages the service's own migrations into its image's job, so it imports the service (an
// Nx "app"); only these plan files do, and the service never imports them back.
import { telephonyEnv } from '@crm/telephony/src/config';
import { telephonyMigrations } from '@crm/telephony/src/db';
import type { MigrationPlan } from '../migrate';

export const plan: MigrationPlan<typeof telephonyEnv> = {
  service: 'telephony',
  envSchema: telephonyEnv,
  postgres: (env) => ({ url: env.DATABASE_URL, migrations: telephonyMigrations }),
};

/** intake's migrations job: its PostgreSQL database and the topics it owns (crm.intake.*). */
// A plan packages the service's own migrations into its image's job, so it imports the service (an
// Nx "app"); only these plan files do, and the service never imports them back.
import { intakeEnv } from '@crm/intake/src/config';
import { intakeMigrations } from '@crm/intake/src/db/migrations/intake_0001_requests';
import type { MigrationPlan } from '../migrate';

export const plan: MigrationPlan<typeof intakeEnv> = {
  service: 'intake',
  envSchema: intakeEnv,
  postgres: (env) => ({ url: env.DATABASE_URL, migrations: intakeMigrations }),
};

/**
 * The migrations job of contacts: its PostgreSQL database and the topics it owns (crm.contacts.*); the
 * funnel's deal topic, which it consumes, is funnel's job's.
 */
// A plan packages the service's own migrations into its image's job, so it imports the service (an
// Nx "app"); only these plan files do, and the service never imports them back.
import { contactsEnv } from '@crm/contacts/src/config';
import { contactsMigrations } from '@crm/contacts/src/db';
import type { MigrationPlan } from '../migrate';

export const plan: MigrationPlan<typeof contactsEnv> = {
  service: 'contacts',
  envSchema: contactsEnv,
  postgres: (env) => ({ url: env.DATABASE_URL, migrations: contactsMigrations }),
};

/**
 * The migrations job of contacts: its PostgreSQL database, the topics it owns (crm.contacts.*) and the
 * funnel's deal topic, which it consumes before the funnel service exists (move it to the funnel's plan then).
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
  aheadOfOwner: ['crm.funnel.deal.v1'],
};

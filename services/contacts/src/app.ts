import { startService, type RunningService } from '@crm/service';
import type { ContactsEnv } from './config';
import { contactsEntities, contactsMigrations } from './db';
import { contactsServer } from './grpc/contacts.server';
import { clientCardsServer, companiesServer } from './grpc/cards.server';
import { contactConsumers } from './kafka/consumers';
import { importsServer } from './grpc/imports.server';
import { ImportRunner } from './imports/runner';

export { contactsEnv, type ContactsEnv } from './config';
export { CONTACTS_SERVICE_NAME } from './grpc/contacts.server';

/**
 * Starts contacts in this process: its database (created and migrated, with the runtime's outbox), the
 * outbox relay, the consumers of the read models (timeline, request and deal links, card state), the import
 * runner and the gRPC servers (with grpc.health.v1). src/main.ts, the integration tests and `npm start` use it.
 */
export function startContacts(env: ContactsEnv, opts: { handleSignals?: boolean } = {}): Promise<RunningService> {
  return startService(
    {
      name: 'contacts',
      env,
      database: { entities: contactsEntities, migrations: contactsMigrations },
      build: ({ orm, logger }) => ({
        grpc: [
          contactsServer(orm!, env),
          companiesServer(orm!),
          clientCardsServer(orm!, env),
          importsServer(orm!, env),
        ],
        // The read models: request and deal links, card state, the timeline (src/kafka/).
        consumers: contactConsumers(env, logger),
        // CSV imports, resumed from their checkpoint by whichever replica holds the lease.
        workers: [
          new ImportRunner({ orm: orm!, databaseUrl: env.DATABASE_URL, logger }),
        ],
      }),
    },
    opts,
  );
}

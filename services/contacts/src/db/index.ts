import type { NamedMigration } from '@crm/db';
import { Migration0001Init } from './migrations/contacts_0001_init';

/** The entities of contacts (the runtime's outbox entities are added by startService); contacts' own code uses raw SQL. */
export const contactsEntities: never[] = [];

/** In order; the name of each is its file name (test/k8s checks the migrations job applies every file). */
export const contactsMigrations: NamedMigration[] = [{ name: 'contacts_0001_init', class: Migration0001Init }];

import type { NamedMigration } from '@crm/db';
import { Migration0001Registry } from './migrations/telephony_0001_registry';
import { Migration0002Dni } from './migrations/telephony_0002_dni';
import { Migration0003Calls } from './migrations/telephony_0003_calls';

/** The entities of telephony (none: it works in SQL; the runtime's outbox entities are added by startService). */
export const telephonyEntities = [];

/** In order; the name of each is its file name (test/k8s checks the migrations job applies every file). */
export const telephonyMigrations: NamedMigration[] = [
  { name: 'telephony_0001_registry', class: Migration0001Registry },
  { name: 'telephony_0002_dni', class: Migration0002Dni },
  { name: 'telephony_0003_calls', class: Migration0003Calls },
];

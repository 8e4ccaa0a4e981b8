import type { NamedMigration } from '@crm/db';
import { Migration0001Init } from './migrations/funnel_0001_init';

/** The entities of funnel (none: it works in SQL; the runtime's outbox entities are added by startService). */
export const funnelEntities = [];

/** In order; the name of each is its file name (test/k8s checks the migrations job applies every file). */
export const funnelMigrations: NamedMigration[] = [{ name: 'funnel_0001_init', class: Migration0001Init }];

import { EntitySchema } from '@crm/db';

/** A tenant (platform-level: not scoped by another tenant). */
export interface Tenant {
  id: string;
  name: string;
  slug: string;
  locale: string;
  /** IANA time zone name in ICU's canonical spelling (`Europe/Moscow`, `UTC`). */
  timeZone: string;
  createdAt: Date;
}

export const TenantSchema = new EntitySchema<Tenant>({
  name: 'Tenant',
  tableName: 'tenants',
  properties: {
    id: { type: 'uuid', primary: true },
    name: { type: 'text' },
    slug: { type: 'text' },
    locale: { type: 'text' },
    timeZone: { type: 'text', fieldName: 'time_zone' },
    createdAt: { type: 'datetime', fieldName: 'created_at', columnType: 'timestamptz' },
  },
});

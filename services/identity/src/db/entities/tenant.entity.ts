import { EntitySchema } from '@crm/db';

/** A tenant (platform-level: not scoped by another tenant). */
export interface Tenant {
  id: string;
  name: string;
  slug: string;
  locale: string;
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
    createdAt: { type: 'datetime', fieldName: 'created_at', columnType: 'timestamptz' },
  },
});

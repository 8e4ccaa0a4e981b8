import { EntitySchema } from '@crm/db';

export interface Department {
  id: string;
  tenantId: string;
  /** Unique per tenant, case-insensitively. */
  name: string;
  createdAt: Date;
}

export const DepartmentSchema = new EntitySchema<Department>({
  name: 'Department',
  tableName: 'departments',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', fieldName: 'tenant_id' },
    name: { type: 'text' },
    createdAt: { type: 'datetime', fieldName: 'created_at', columnType: 'timestamptz' },
  },
});

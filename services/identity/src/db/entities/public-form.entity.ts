import { EntitySchema } from '@crm/db';

/** A public web form; its id (`pf_…`) is public, embedded in a customer's site. */
export interface PublicForm {
  id: string;
  tenantId: string;
  name: string;
  enabled: boolean;
  createdAt: Date;
}

export const PublicFormSchema = new EntitySchema<PublicForm>({
  name: 'PublicForm',
  tableName: 'public_forms',
  properties: {
    id: { type: 'text', primary: true },
    tenantId: { type: 'uuid', fieldName: 'tenant_id' },
    name: { type: 'text' },
    enabled: { type: 'boolean' },
    createdAt: { type: 'datetime', fieldName: 'created_at', columnType: 'timestamptz' },
  },
});

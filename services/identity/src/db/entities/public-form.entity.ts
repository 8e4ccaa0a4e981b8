import { EntitySchema } from '@crm/db';
import type { StoredFieldMapping } from '../../domain/public-form';

/** A public web form; its id (`pf_…`) is public, embedded in a customer's site. */
export interface PublicForm {
  id: string;
  tenantId: string;
  name: string;
  enabled: boolean;
  createdAt: Date;
  /** The form's own incoming field names per target (identity_0003). */
  fieldMapping: StoredFieldMapping;
  /** Where a browser goes after a plain form post; null: the gateway's built-in page. */
  thankYouUrl: string | null;
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
    fieldMapping: { type: 'json', fieldName: 'field_mapping', columnType: 'jsonb' },
    thankYouUrl: { type: 'text', fieldName: 'thank_you_url', nullable: true },
  },
});

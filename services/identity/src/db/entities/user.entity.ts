import { EntitySchema } from '@crm/db';

export interface User {
  id: string;
  tenantId: string;
  /** Lower-cased; unique per tenant. */
  email: string;
  displayName: string;
  /** `scrypt$N$r$p$salt$key` (see domain/password.ts). */
  passwordHash: string;
  /** Role names: admin, head_of_sales, seller, analyst. */
  roles: string[];
  departmentId?: string | null;
  /** Departments the user works in, the primary (= departmentId) first (identity_0004). */
  departmentIds?: string[];
  createdAt: Date;
  updatedAt: Date;
}

export const UserSchema = new EntitySchema<User>({
  name: 'User',
  tableName: 'users',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', fieldName: 'tenant_id' },
    email: { type: 'text' },
    displayName: { type: 'text', fieldName: 'display_name' },
    passwordHash: { type: 'text', fieldName: 'password_hash', lazy: true },
    roles: { type: 'string[]', columnType: 'text[]' },
    departmentId: { type: 'uuid', fieldName: 'department_id', nullable: true },
    departmentIds: { type: 'string[]', fieldName: 'department_ids', columnType: 'uuid[]', nullable: true },
    createdAt: { type: 'datetime', fieldName: 'created_at', columnType: 'timestamptz' },
    updatedAt: { type: 'datetime', fieldName: 'updated_at', columnType: 'timestamptz' },
  },
});

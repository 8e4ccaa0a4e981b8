import { EntitySchema } from '@crm/db';

export interface ApiKey {
  id: string;
  tenantId: string;
  name: string;
  /** The 8 characters after `crm_` in the secret; globally unique, the Authenticate lookup key. */
  prefix: string;
  /** SHA-256 of the whole secret; the secret itself is never stored. */
  secretHash: Buffer;
  scopes: string[];
  createdAt: Date;
  revokedAt?: Date | null;
  lastUsedAt?: Date | null;
}

export const ApiKeySchema = new EntitySchema<ApiKey>({
  name: 'ApiKey',
  tableName: 'api_keys',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', fieldName: 'tenant_id' },
    name: { type: 'text' },
    prefix: { type: 'text' },
    secretHash: { type: 'blob', fieldName: 'secret_hash', columnType: 'bytea', lazy: true },
    scopes: { type: 'string[]', columnType: 'text[]' },
    createdAt: { type: 'datetime', fieldName: 'created_at', columnType: 'timestamptz' },
    revokedAt: { type: 'datetime', fieldName: 'revoked_at', columnType: 'timestamptz', nullable: true },
    lastUsedAt: { type: 'datetime', fieldName: 'last_used_at', columnType: 'timestamptz', nullable: true },
  },
});

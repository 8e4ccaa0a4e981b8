import { EntitySchema } from '@crm/db';

/**
 * The step between a right password and the second factor (identity_0005): only the SHA-256 of the
 * token is stored; at most a few wrong codes, then it is dead; used once.
 */
export interface LoginChallenge {
  id: string;
  tokenHash: Buffer;
  tenantId: string;
  userId: string;
  kind: 'code' | 'enroll';
  address: string;
  userAgent: string;
  attempts: number;
  createdAt: Date;
  expiresAt: Date;
  usedAt?: Date | null;
}

export const LoginChallengeSchema = new EntitySchema<LoginChallenge>({
  name: 'LoginChallenge',
  tableName: 'login_challenges',
  properties: {
    id: { type: 'uuid', primary: true },
    tokenHash: { type: 'blob', fieldName: 'token_hash', columnType: 'bytea' },
    tenantId: { type: 'uuid', fieldName: 'tenant_id' },
    userId: { type: 'uuid', fieldName: 'user_id' },
    kind: { type: 'text' },
    address: { type: 'text' },
    userAgent: { type: 'text', fieldName: 'user_agent' },
    attempts: { type: 'integer' },
    createdAt: { type: 'datetime', fieldName: 'created_at', columnType: 'timestamptz' },
    expiresAt: { type: 'datetime', fieldName: 'expires_at', columnType: 'timestamptz' },
    usedAt: { type: 'datetime', fieldName: 'used_at', columnType: 'timestamptz', nullable: true },
  },
});

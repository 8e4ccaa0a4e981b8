import { EntitySchema } from '@crm/db';

/** A login session; only the SHA-256 of its token is stored. */
export interface Session {
  id: string;
  tenantId: string;
  userId: string;
  tokenHash: Buffer;
  createdAt: Date;
  expiresAt: Date;
  revokedAt?: Date | null;
  lastSeenAt: Date;
  address: string;
  userAgent: string;
  secondFactor: boolean;
  endedReason?: string | null;
}

export const SessionSchema = new EntitySchema<Session>({
  name: 'Session',
  tableName: 'sessions',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', fieldName: 'tenant_id' },
    userId: { type: 'uuid', fieldName: 'user_id' },
    tokenHash: { type: 'blob', fieldName: 'token_hash', columnType: 'bytea' },
    createdAt: { type: 'datetime', fieldName: 'created_at', columnType: 'timestamptz' },
    expiresAt: { type: 'datetime', fieldName: 'expires_at', columnType: 'timestamptz' },
    revokedAt: { type: 'datetime', fieldName: 'revoked_at', columnType: 'timestamptz', nullable: true },
    lastSeenAt: { type: 'datetime', fieldName: 'last_seen_at', columnType: 'timestamptz' },
    address: { type: 'text' },
    userAgent: { type: 'text', fieldName: 'user_agent' },
    secondFactor: { type: 'boolean', fieldName: 'second_factor' },
    endedReason: { type: 'text', fieldName: 'ended_reason', nullable: true },
  },
});

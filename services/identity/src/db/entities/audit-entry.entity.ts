import { EntitySchema } from '@crm/db';

/** One management write: who did what to which record, written in the transaction of the write. */
export interface AuditEntry {
  id?: string;
  tenantId: string;
  actorKind: string;
  actorId: string;
  /** e.g. `user.created`, `user.roles_changed`, `api_key.revoked`. */
  action: string;
  /** `<kind>:<id>`, e.g. `user:0193…`. */
  target: string;
  at: Date;
  details: Record<string, unknown>;
}

export const AuditEntrySchema = new EntitySchema<AuditEntry>({
  name: 'AuditEntry',
  tableName: 'audit_log',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    tenantId: { type: 'uuid', fieldName: 'tenant_id' },
    actorKind: { type: 'text', fieldName: 'actor_kind' },
    actorId: { type: 'text', fieldName: 'actor_id' },
    action: { type: 'text' },
    target: { type: 'text' },
    at: { type: 'datetime', columnType: 'timestamptz' },
    details: { type: 'json', columnType: 'jsonb' },
  },
});

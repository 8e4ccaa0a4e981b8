import type { EntityManager } from '@crm/db';
import type { CallerKind } from '@crm/grpc';
import { AuditEntrySchema } from './db/entities/audit-entry.entity';

/** Who performs a write: the call's caller. */
export interface Actor {
  kind: CallerKind;
  id: string;
}

/** Adds an audit row to the unit of work of `em` (so it commits or rolls back with the write). */
export function audit(em: EntityManager, tenantId: string, actor: Actor, action: string, target: string, details: Record<string, unknown> = {}): void {
  em.create(AuditEntrySchema, { tenantId, actorKind: actor.kind, actorId: actor.id, action, target, at: new Date(), details });
}

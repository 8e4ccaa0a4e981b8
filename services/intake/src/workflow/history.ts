/**
 * The request's history (table `request_history`, intake_0004): one row per changed field of every
 * change, written in the change's transaction, read oldest first.
 */
import type { HistoryEntry } from '@crm/contracts/crm/intake/v1/workflow';
import { uuidv7, type EntityManager } from '@crm/db';

export type ActorKind = 'user' | 'api_key' | 'service' | 'system';

export interface Actor {
  kind: ActorKind;
  id: string;
}

/** `created`, `state`, `assignee`, `department`, `meaning`, `qualification`, `contact`, `sla_breached`, `first_response`, `revisit`, `routed`. */
export interface HistoryChange {
  field: string;
  from: string | null;
  to: string | null;
  reason?: string | null;
  details?: Record<string, unknown>;
}

/** Inserts the entries of one change (all at `at`, ordered by their uuidv7 ids). */
export async function writeHistory(em: EntityManager, tenantId: string, requestId: string, actor: Actor, at: Date, changes: HistoryChange[]): Promise<void> {
  if (!changes.length) return;
  const values: string[] = [];
  const params: unknown[] = [];
  for (const c of changes) {
    values.push('(?, ?, ?, ?::timestamptz, ?, ?, ?, ?, ?, ?, ?::jsonb)');
    params.push(uuidv7(), tenantId, requestId, at.toISOString(), actor.kind, actor.id, c.field, c.from, c.to, c.reason ?? null, JSON.stringify(c.details ?? {}));
  }
  await em.execute(
    `INSERT INTO request_history (id, tenant_id, request_id, at, actor_kind, actor_id, field, from_value, to_value, reason, details) VALUES ${values.join(', ')}`,
    params,
  );
}

/** At most this many entries are answered (the oldest); a request collects a few dozen in practice. */
export const HISTORY_MAX = 1000;

export async function readHistory(em: EntityManager, tenantId: string, requestId: string): Promise<HistoryEntry[]> {
  const rows = await em.execute<Record<string, unknown>[]>(
    'SELECT * FROM request_history WHERE tenant_id = ? AND request_id = ? ORDER BY at, id LIMIT ?',
    [tenantId, requestId, HISTORY_MAX],
  );
  return rows.map((r) => ({
    id: String(r.id),
    requestId: String(r.request_id),
    at: (r.at instanceof Date ? r.at : new Date(String(r.at))).toISOString(),
    actorKind: String(r.actor_kind),
    actorId: String(r.actor_id),
    field: String(r.field),
    from: r.from_value === null ? '' : String(r.from_value),
    to: r.to_value === null ? '' : String(r.to_value),
    reason: r.reason === null ? '' : String(r.reason),
    detailsJson: JSON.stringify(r.details ?? {}),
  }));
}

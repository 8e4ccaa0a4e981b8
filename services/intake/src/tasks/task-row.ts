/**
 * A follow-up task as stored (table `tasks`, intake_0004), read with plain SQL, and its proto form.
 * Shared by the TasksService and the timers (reminders, a revisit closing its task).
 */
import type { Task } from '@crm/contracts/crm/intake/v1/tasks';
import type { EntityManager } from '@crm/db';

export interface TaskRow {
  id: string;
  tenantId: string;
  title: string;
  note: string | null;
  dueAt: Date;
  remindBeforeMinutes: number;
  assigneeId: string;
  requestId: string | null;
  contactId: string | null;
  dealId: string | null;
  status: 'open' | 'done';
  kind: 'manual' | 'revisit';
  doneAt: Date | null;
  remindedAt: Date | null;
  deletedAt: Date | null;
  idempotencyKey: string | null;
  version: number;
  createdAt: Date;
  createdBy: string;
  updatedAt: Date;
}

function date(v: unknown): Date {
  return v instanceof Date ? v : new Date(String(v));
}
function dateOrNull(v: unknown): Date | null {
  return v === null || v === undefined ? null : date(v);
}
function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** One row of `SELECT * FROM tasks` (snake_case) → TaskRow. */
export function taskFromDb(r: Record<string, unknown>): TaskRow {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    title: String(r.title),
    note: strOrNull(r.note),
    dueAt: date(r.due_at),
    remindBeforeMinutes: Number(r.remind_before_minutes),
    assigneeId: String(r.assignee_id),
    requestId: strOrNull(r.request_id),
    contactId: strOrNull(r.contact_id),
    dealId: strOrNull(r.deal_id),
    status: r.status as TaskRow['status'],
    kind: r.kind as TaskRow['kind'],
    doneAt: dateOrNull(r.done_at),
    remindedAt: dateOrNull(r.reminded_at),
    deletedAt: dateOrNull(r.deleted_at),
    idempotencyKey: strOrNull(r.idempotency_key),
    version: Number(r.version),
    createdAt: date(r.created_at),
    createdBy: String(r.created_by),
    updatedAt: date(r.updated_at),
  };
}

/** When the reminder fires: due_at minus remind_before. */
export function remindAtOf(t: Pick<TaskRow, 'dueAt' | 'remindBeforeMinutes'>): Date {
  return new Date(t.dueAt.getTime() - t.remindBeforeMinutes * 60_000);
}

export function toProtoTask(t: TaskRow, now: Date = new Date()): Task {
  return {
    id: t.id,
    title: t.title,
    note: t.note ?? '',
    dueAt: t.dueAt.toISOString(),
    remindBeforeMinutes: t.remindBeforeMinutes,
    assigneeId: t.assigneeId,
    requestId: t.requestId ?? '',
    contactId: t.contactId ?? '',
    dealId: t.dealId ?? '',
    status: t.status,
    doneAt: t.doneAt ? t.doneAt.toISOString() : '',
    createdAt: t.createdAt.toISOString(),
    createdBy: t.createdBy,
    kind: t.kind,
    overdue: t.status === 'open' && t.deletedAt === null && t.dueAt.getTime() < now.getTime(),
    version: t.version,
    remindedAt: t.remindedAt ? t.remindedAt.toISOString() : '',
  };
}

/** The task under a row lock (FOR UPDATE), or null when it is not this tenant's. */
export async function lockTask(em: EntityManager, tenantId: string, id: string): Promise<TaskRow | null> {
  const rows = await em.execute<Record<string, unknown>[]>('SELECT * FROM tasks WHERE tenant_id = ? AND id = ? FOR UPDATE', [tenantId, id]);
  return rows[0] ? taskFromDb(rows[0]) : null;
}

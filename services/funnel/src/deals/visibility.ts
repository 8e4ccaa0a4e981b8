/**
 * Who sees which deals (funnel.md; the idea of intake's workflow/visibility.ts, not imported across
 * services): admin, analyst, API key, service see all of the tenant; a seller the deals they own and
 * those of the departments they work in; a head of sales also those of the departments they head and
 * the deals of no department. A deal outside it is NOT_FOUND on a single read or change and absent from
 * lists, counts and totals.
 */
import { visibilityOf, type TenantContext, type Visibility } from '@crm/grpc';
import { DomainError } from '@crm/errors';

export type { Visibility };

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface SqlFragment {
  /** A boolean expression over `d.` columns ('true' when the caller sees everything). */
  sql: string;
  params: unknown[];
}

export function visibilityFor(ctx: TenantContext): Visibility {
  return visibilityOf(ctx);
}

/** The fragment over deals `d` (owner_id, department_id). Ids that are not UUIDs match nothing. */
export function visibilitySql(v: Visibility): SqlFragment {
  if (v.all) return { sql: 'true', params: [] };
  const any: string[] = [];
  const params: unknown[] = [];
  if (UUID_RE.test(v.userId)) {
    any.push('d.owner_id = ?::uuid');
    params.push(v.userId.toLowerCase());
  }
  const departments = [...new Set(v.departmentIds.filter((d) => UUID_RE.test(d)).map((d) => d.toLowerCase()))];
  if (departments.length) {
    any.push(`d.department_id IN (${departments.map(() => '?::uuid').join(', ')})`);
    params.push(...departments);
  }
  if (v.head) any.push('d.department_id IS NULL');
  return { sql: any.length ? `(${any.join(' OR ')})` : 'false', params };
}

/** The same rule on a row in memory. */
export function canSee(v: Visibility, row: { owner_id: string | null; department_id: string | null }): boolean {
  if (v.all) return true;
  if (row.owner_id !== null && row.owner_id.toLowerCase() === v.userId.toLowerCase()) return true;
  if (row.department_id === null) return v.head;
  return v.departmentIds.some((d) => d.toLowerCase() === row.department_id!.toLowerCase());
}

/** Users who may change deals: sellers, heads of sales, admins (an analyst only reads); others all may. */
export function requireWriter(ctx: TenantContext): void {
  if (ctx.callerKind !== 'user') return;
  const roles = ctx.roles ?? [];
  if (roles.includes('admin') || roles.includes('head_of_sales') || roles.includes('seller')) return;
  throw new DomainError('PERMISSION_DENIED', 'changing deals needs the seller, head of sales or admin role', { details: { reason: 'role_required' } });
}

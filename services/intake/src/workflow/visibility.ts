/**
 * Who sees what (DOMAIN.md), as a SQL fragment every read and write path of intake adds to its WHERE:
 * - admin, analyst, API key, service: everything of the tenant (no fragment);
 * - seller: the requests assigned to them or in a department they work in;
 * - head of sales: the same over the departments they head or work in, plus the requests with no
 *   department (nobody's queue yet).
 * A request outside the fragment is NOT_FOUND on a single read or change and absent from lists and counts.
 */
import { visibilityOf, visibilitySql as fragmentOver, type SqlFragment, type TenantContext, type Visibility } from '@crm/grpc';

export type { SqlFragment, Visibility };

export const SEE_ALL: Visibility = { all: true };

/** The caller's visibility (from the call's metadata). */
export function visibilityFor(ctx: TenantContext): Visibility {
  return visibilityOf(ctx);
}

/**
 * The fragment over the `requests` columns (prefix them with `alias.` when the query joins). Ids that
 * are not UUIDs (a caller id of another shape) match nothing rather than failing the cast.
 */
export function visibilitySql(v: Visibility, alias = ''): SqlFragment {
  const col = (c: string) => (alias ? `${alias}.${c}` : c);
  return fragmentOver(v, { owner: col('assignee_id'), department: col('department_id') });
}

/** The same rule on a row in memory (after a change, to answer what the caller may still see). */
export function canSee(v: Visibility, row: { assigneeId: string | null; departmentId: string | null }): boolean {
  if (v.all) return true;
  if (row.assigneeId !== null && row.assigneeId.toLowerCase() === v.userId.toLowerCase()) return true;
  if (row.departmentId === null) return v.head;
  return v.departmentIds.some((d) => d.toLowerCase() === row.departmentId!.toLowerCase());
}

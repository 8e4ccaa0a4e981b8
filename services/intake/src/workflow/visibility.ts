/**
 * Who sees what (DOMAIN.md), as a SQL fragment every read and write path of intake adds to its WHERE:
 * - admin, analyst, API key, service: everything of the tenant (no fragment);
 * - seller: the requests assigned to them or in a department they work in;
 * - head of sales: the same over the departments they head or work in, plus the requests with no
 *   department (nobody's queue yet).
 * A request outside the fragment is NOT_FOUND on a single read or change and absent from lists and counts.
 */
import { visibilityOf, type TenantContext, type Visibility } from '@crm/grpc';

export type { Visibility };

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const SEE_ALL: Visibility = { all: true };

export interface SqlFragment {
  /** A boolean expression ('true' when the caller sees everything). */
  sql: string;
  params: unknown[];
}

/** The caller's visibility (from the call's metadata). */
export function visibilityFor(ctx: TenantContext): Visibility {
  return visibilityOf(ctx);
}

/**
 * The fragment over the `requests` columns (prefix them with `alias.` when the query joins). Ids that
 * are not UUIDs (a caller id of another shape) match nothing rather than failing the cast.
 */
export function visibilitySql(v: Visibility, alias = ''): SqlFragment {
  if (v.all) return { sql: 'true', params: [] };
  const col = (c: string) => (alias ? `${alias}.${c}` : c);
  const any: string[] = [];
  const params: unknown[] = [];
  if (UUID_RE.test(v.userId)) {
    any.push(`${col('assignee_id')} = ?::uuid`);
    params.push(v.userId.toLowerCase());
  }
  const departments = [...new Set(v.departmentIds.filter((d) => UUID_RE.test(d)).map((d) => d.toLowerCase()))];
  if (departments.length) {
    any.push(`${col('department_id')} IN (${departments.map(() => '?::uuid').join(', ')})`);
    params.push(...departments);
  }
  if (v.head) any.push(`${col('department_id')} IS NULL`);
  return { sql: any.length ? `(${any.join(' OR ')})` : 'false', params };
}

/** The same rule on a row in memory (after a change, to answer what the caller may still see). */
export function canSee(v: Visibility, row: { assigneeId: string | null; departmentId: string | null }): boolean {
  if (v.all) return true;
  if (row.assigneeId !== null && row.assigneeId.toLowerCase() === v.userId.toLowerCase()) return true;
  if (row.departmentId === null) return v.head;
  return v.departmentIds.some((d) => d.toLowerCase() === row.departmentId!.toLowerCase());
}

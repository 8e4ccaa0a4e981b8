/**
 * Who sees which deals (funnel.md; the rule is @crm/grpc's `visibilityOf` / `visibilitySql`, shared with
 * intake's requests): admin, analyst, API key, service see all of the tenant; a seller the deals they own and
 * those of the departments they work in; a head of sales also those of the departments they head and
 * the deals of no department. A deal outside it is NOT_FOUND on a single read or change and absent from
 * lists, counts and totals.
 */
import { visibilityOf, visibilitySql as fragmentOver, type SqlFragment, type TenantContext, type Visibility } from '@crm/grpc';
import { DomainError } from '@crm/errors';

export type { SqlFragment, Visibility };

export function visibilityFor(ctx: TenantContext): Visibility {
  return visibilityOf(ctx);
}

/** The fragment over deals `d` (owner_id, department_id); @crm/grpc's rule, as intake's requests use it. */
export function visibilitySql(v: Visibility): SqlFragment {
  return fragmentOver(v, { owner: 'd.owner_id', department: 'd.department_id' });
}

/** Users who may change deals: sellers, heads of sales, admins (an analyst only reads); others all may. */
export function requireWriter(ctx: TenantContext): void {
  if (ctx.callerKind !== 'user') return;
  const roles = ctx.roles ?? [];
  if (roles.includes('admin') || roles.includes('head_of_sales') || roles.includes('seller')) return;
  throw new DomainError('PERMISSION_DENIED', 'changing deals needs the seller, head of sales or admin role', { details: { reason: 'role_required' } });
}

import type { Metadata } from '@grpc/grpc-js';
import { DomainError } from '@crm/errors';

/** Metadata keys every call carries. */
export const MD = {
  tenant: 'x-tenant-id',
  caller: 'x-caller-id',
  callerKind: 'x-caller-kind',
  /** Users only: comma-separated roles (`admin`, `head_of_sales`, `seller`, `analyst`). */
  roles: 'x-caller-roles',
  /** Users only: comma-separated ids of the departments they work in / head. */
  departments: 'x-caller-departments',
  headed: 'x-caller-headed',
} as const;

export type CallerRole = 'admin' | 'head_of_sales' | 'seller' | 'analyst';

export type CallerKind = 'user' | 'api_key' | 'service';

/** Who a call is made for: required on every call. */
export interface TenantContext {
  tenantId: string;
  callerId: string;
  callerKind: CallerKind;
  /** For users (the gateway sets them from identity's principal); absent for API keys and services. */
  roles?: CallerRole[];
  departmentIds?: string[];
  headedDepartmentIds?: string[];
}

/**
 * Who-sees-what (DOMAIN.md): `all` for admins, analysts, API keys and services; else the caller's own
 * (assigned to them) plus the departments they work in (a seller) or also head (a head of sales).
 */
export type Visibility = { all: true } | { all: false; userId: string; departmentIds: string[]; head: boolean };

export function visibilityOf(ctx: TenantContext): Visibility {
  if (ctx.callerKind !== 'user') return { all: true };
  const roles = ctx.roles ?? [];
  if (roles.includes('admin') || roles.includes('analyst')) return { all: true };
  const head = roles.includes('head_of_sales');
  const departmentIds = [...new Set([...(ctx.departmentIds ?? []), ...(head ? (ctx.headedDepartmentIds ?? []) : [])])];
  return { all: false, userId: ctx.callerId, departmentIds, head };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A boolean SQL expression with its `?` parameters ('true' when the caller sees everything). */
export interface SqlFragment {
  sql: string;
  params: unknown[];
}

/**
 * The who-sees-what rule as a WHERE fragment over a row's owner and department columns (a request's
 * assignee, a deal's owner): the caller's own, their departments' and — for a head of sales — the rows of
 * no department. Ids that are not UUIDs match nothing rather than failing the cast.
 */
export function visibilitySql(v: Visibility, columns: { owner: string; department: string }): SqlFragment {
  if (v.all) return { sql: 'true', params: [] };
  const any: string[] = [];
  const params: unknown[] = [];
  if (UUID_RE.test(v.userId)) {
    any.push(`${columns.owner} = ?::uuid`);
    params.push(v.userId.toLowerCase());
  }
  const departments = [...new Set(v.departmentIds.filter((d) => UUID_RE.test(d)).map((d) => d.toLowerCase()))];
  if (departments.length) {
    any.push(`${columns.department} IN (${departments.map(() => '?::uuid').join(', ')})`);
    params.push(...departments);
  }
  if (v.head) any.push(`${columns.department} IS NULL`);
  return { sql: any.length ? `(${any.join(' OR ')})` : 'false', params };
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;
const KINDS = new Set<CallerKind>(['user', 'api_key', 'service']);
const ROLES = new Set<CallerRole>(['admin', 'head_of_sales', 'seller', 'analyst']);

function list(md: Metadata, key: string, ok: (v: string) => boolean): string[] | undefined {
  const raw = first(md, key);
  if (raw === undefined) return undefined;
  const items = raw.split(',').filter((v) => v !== '');
  if (items.length > 200 || items.some((v) => !ok(v))) throw new DomainError('INVALID_ARGUMENT', `metadata ${key} is malformed`);
  return items;
}

export class MissingContextError extends DomainError {
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
  }
}

function first(md: Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return v === undefined ? undefined : v.toString();
}

/** Reads and validates the tenant context from incoming metadata. */
export function readTenantContext(md: Metadata): TenantContext {
  const tenantId = first(md, MD.tenant);
  const callerId = first(md, MD.caller);
  const kind = first(md, MD.callerKind) ?? 'service';
  if (!tenantId) throw new MissingContextError(`metadata ${MD.tenant} is required`);
  if (!ID_RE.test(tenantId)) throw new DomainError('INVALID_ARGUMENT', `metadata ${MD.tenant} is malformed`);
  if (!callerId) throw new MissingContextError(`metadata ${MD.caller} is required`);
  if (!ID_RE.test(callerId)) throw new DomainError('INVALID_ARGUMENT', `metadata ${MD.caller} is malformed`);
  if (!KINDS.has(kind as CallerKind)) throw new DomainError('INVALID_ARGUMENT', `metadata ${MD.callerKind} must be user, api_key or service`);
  const ctx: TenantContext = { tenantId, callerId, callerKind: kind as CallerKind };
  if (kind === 'user') {
    const roles = list(md, MD.roles, (v) => ROLES.has(v as CallerRole));
    if (roles) ctx.roles = roles as CallerRole[];
    const departments = list(md, MD.departments, (v) => UUID_RE.test(v));
    if (departments) ctx.departmentIds = departments;
    const headed = list(md, MD.headed, (v) => UUID_RE.test(v));
    if (headed) ctx.headedDepartmentIds = headed;
  }
  return ctx;
}

export function writeTenantContext(md: Metadata, ctx: TenantContext): Metadata {
  md.set(MD.tenant, ctx.tenantId);
  md.set(MD.caller, ctx.callerId);
  md.set(MD.callerKind, ctx.callerKind);
  if (ctx.roles) md.set(MD.roles, ctx.roles.join(','));
  if (ctx.departmentIds) md.set(MD.departments, ctx.departmentIds.join(','));
  if (ctx.headedDepartmentIds) md.set(MD.headed, ctx.headedDepartmentIds.join(','));
  return md;
}

import type { Metadata } from '@grpc/grpc-js';
import { DomainError } from '@crm/errors';

/** Metadata keys every call carries. */
export const MD = {
  tenant: 'x-tenant-id',
  caller: 'x-caller-id',
  callerKind: 'x-caller-kind',
} as const;

export type CallerKind = 'user' | 'api_key' | 'service';

/** Who a call is made for: required on every call. */
export interface TenantContext {
  tenantId: string;
  callerId: string;
  callerKind: CallerKind;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;
const KINDS = new Set<CallerKind>(['user', 'api_key', 'service']);

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
  return { tenantId, callerId, callerKind: kind as CallerKind };
}

export function writeTenantContext(md: Metadata, ctx: TenantContext): Metadata {
  md.set(MD.tenant, ctx.tenantId);
  md.set(MD.caller, ctx.callerId);
  md.set(MD.callerKind, ctx.callerKind);
  return md;
}

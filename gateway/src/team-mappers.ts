/**
 * gRPC messages of identity's team settings (TeamService) and its API keys / public forms ↔ the REST
 * API's snake_case JSON. Enum values are spoken in words (`ROLE_HEAD_OF_SALES` → `head_of_sales`); an
 * empty optional time is left out, never null.
 */
import { Role, type ApiKey, type FieldMapping, type PublicForm } from '@crm/contracts/crm/identity/v1/identity';
import {
  DepartmentKind,
  type AuditEntry,
  type GetRosterResponse,
  type Project,
  type RosterDepartment,
  type RosterUser,
  type Shift,
  type TeamDepartment,
  type TeamUser,
  type WorkSchedule,
} from '@crm/contracts/crm/identity/v1/team';
import { DomainError } from '@crm/errors';
import { utcInstant } from './instant';
import { words } from './enum-words';

export const ROLES = words([
  [Role.ROLE_ADMIN, 'admin'],
  [Role.ROLE_HEAD_OF_SALES, 'head_of_sales'],
  [Role.ROLE_SELLER, 'seller'],
  [Role.ROLE_ANALYST, 'analyst'],
]);
export const DEPARTMENT_KINDS = words([
  [DepartmentKind.DEPARTMENT_KIND_SALES, 'sales'],
  [DepartmentKind.DEPARTMENT_KIND_SUPPORT, 'support'],
  [DepartmentKind.DEPARTMENT_KIND_SERVICE, 'service'],
  [DepartmentKind.DEPARTMENT_KIND_OTHER, 'other'],
]);
/** The scopes an API key may carry (identity's list; the gateway's Scope type). */
export const API_KEY_SCOPES = ['requests:read', 'requests:write', 'reports:read', 'contacts:read', 'contacts:write', 'team:read', 'tasks:read', 'tasks:write', 'routing:write', 'identity:admin', 'deals:read', 'deals:write', 'pipelines:write', 'calls:read', 'calls:write', 'telephony:admin'] as const;

/** An RFC 3339 date-time of the body or query, as the one UTC form identity stores; '' when absent. */
export function instantIn(field: string, value: string | undefined): string {
  if (value === undefined || value === '') return '';
  const utc = utcInstant(value);
  if (utc === null) throw new DomainError('INVALID_ARGUMENT', `${field} must be an RFC 3339 date-time`, { violations: [{ field, message: 'must be an RFC 3339 date-time' }] });
  return utc;
}

/** Fields present only when set: an empty string of the wire is an absent field of the JSON. */
const opt = <K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> => (value ? ({ [key]: value } as Record<K, string>) : {});

export function teamUserOut(u: TeamUser) {
  return {
    id: u.id,
    email: u.email,
    display_name: u.displayName,
    roles: u.roles.map(ROLES.out).filter((r) => r !== 'unspecified'),
    department_ids: u.departmentIds,
    headed_department_ids: u.headedDepartmentIds,
    active: u.active,
    invited: u.invited,
    away: u.away,
    ...opt('away_until', u.awayUntil),
    created_at: u.createdAt,
    updated_at: u.updatedAt,
    ...opt('deactivated_at', u.deactivatedAt),
  };
}

export interface WorkScheduleBody {
  time_zone?: string;
  hours?: { weekday: number; from: string; to: string }[];
  holidays?: string[];
}

export function scheduleIn(s: WorkScheduleBody | undefined): WorkSchedule | undefined {
  if (!s) return undefined;
  return { timeZone: s.time_zone ?? '', hours: (s.hours ?? []).map((h) => ({ weekday: h.weekday, from: h.from, to: h.to })), holidays: s.holidays ?? [] };
}

export function scheduleOut(s: WorkSchedule | undefined) {
  return {
    time_zone: s?.timeZone ?? '',
    hours: (s?.hours ?? []).map((h) => ({ weekday: h.weekday, from: h.from, to: h.to })),
    holidays: s?.holidays ?? [],
  };
}

export function departmentOut(d: TeamDepartment) {
  return {
    id: d.id,
    name: d.name,
    kind: DEPARTMENT_KINDS.out(d.kind),
    head_user_ids: d.headUserIds,
    sla_first_response_minutes: d.slaFirstResponseMinutes,
    schedule: scheduleOut(d.schedule),
    member_count: d.memberCount,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
  };
}

export function projectOut(p: Project) {
  return { id: p.id, name: p.name, code: p.code, archived: p.archived, created_at: p.createdAt, updated_at: p.updatedAt };
}

export function shiftOut(s: Shift) {
  return { id: s.id, user_id: s.userId, starts_at: s.startsAt, ends_at: s.endsAt, created_at: s.createdAt };
}

function rosterDepartmentOut(d: RosterDepartment) {
  return {
    id: d.id,
    name: d.name,
    kind: DEPARTMENT_KINDS.out(d.kind),
    sla_first_response_minutes: d.slaFirstResponseMinutes,
    schedule: scheduleOut(d.schedule),
    open: d.open,
    head_user_ids: d.headUserIds,
  };
}

function rosterUserOut(u: RosterUser) {
  return {
    id: u.id,
    display_name: u.displayName,
    roles: u.roles.map(ROLES.out).filter((r) => r !== 'unspecified'),
    department_ids: u.departmentIds,
    away: u.away,
    on_shift: u.onShift,
  };
}

export function rosterOut(r: GetRosterResponse) {
  return { at: r.at, tenant_time_zone: r.tenantTimeZone || 'UTC', departments: r.departments.map(rosterDepartmentOut), users: r.users.map(rosterUserOut) };
}

/** identity's `details_json` as an object (never a secret); anything but a JSON object is `{}`. */
function detailsOf(json: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(json || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function auditEntryOut(e: AuditEntry) {
  return {
    id: e.id,
    at: e.at,
    actor_kind: e.actorKind,
    actor_id: e.actorId,
    action: e.action,
    target_kind: e.targetKind,
    target_id: e.targetId,
    details: detailsOf(e.detailsJson),
  };
}

export function apiKeyOut(k: ApiKey) {
  return { id: k.id, name: k.name, prefix: k.prefix, scopes: k.scopes, created_at: k.createdAt, ...opt('revoked_at', k.revokedAt), ...opt('last_used_at', k.lastUsedAt) };
}

export interface FieldMappingBody {
  name?: string[];
  phone?: string[];
  email?: string[];
  message?: string[];
}

export function fieldMappingIn(m: FieldMappingBody | undefined): FieldMapping | undefined {
  if (!m) return undefined;
  return { name: m.name ?? [], phone: m.phone ?? [], email: m.email ?? [], message: m.message ?? [] };
}

export function publicFormOut(f: PublicForm) {
  const m = f.fieldMapping;
  return {
    id: f.id,
    name: f.name,
    enabled: f.enabled,
    field_mapping: { name: m?.name ?? [], phone: m?.phone ?? [], email: m?.email ?? [], message: m?.message ?? [] },
    thank_you_url: f.thankYouUrl,
    created_at: f.createdAt,
  };
}

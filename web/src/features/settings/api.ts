/**
 * The team settings part of the gateway's REST API (users, invites, departments and schedules, projects,
 * shifts, the roster, the audit log, API keys, public forms), as the settings pages use it. Paths,
 * parameters, bodies and answers are typed by `gen/api.ts` (generated from the gateway's OpenAPI
 * document, `npm run openapi`); lists are `{ items, next_cursor? }`.
 */
import { client, unwrap } from '../../api';
import type { components, paths } from '../../gen/api';

type S = components['schemas'];

export type TeamUser = S['TeamUser'];
export type RoleName = TeamUser['roles'][number];
export type TeamDepartment = S['TeamDepartment'];
export type DepartmentKind = Exclude<TeamDepartment['kind'], 'unspecified'>;
export type WorkSchedule = S['WorkSchedule'];
export type WorkingHours = S['WorkingHours'];
export type Project = S['Project'];
export type Shift = S['Shift'];
export type Roster = S['Roster'];
export type AuditEntry = S['AuditEntry'];
export type ApiKey = S['ApiKey'];
export type PublicForm = S['PublicForm'];
export type FieldMapping = S['FieldMapping'];

// Every value once (a missing or unknown value is a compile error).
const ROLE_SET: Record<RoleName, true> = { admin: true, head_of_sales: true, seller: true, analyst: true };
const KIND_SET: Record<DepartmentKind, true> = { sales: true, support: true, service: true, other: true };
export const ROLES = Object.keys(ROLE_SET) as readonly RoleName[];
export const DEPARTMENT_KINDS = Object.keys(KIND_SET) as readonly DepartmentKind[];
/** The scopes an API key may be given (identity knows these). */
export type KeyScope = S['CreateApiKey']['scopes'][number];
export type AuditTarget = NonNullable<NonNullable<paths['/v1/audit']['get']['parameters']['query']>['target_kind']>;
const SCOPE_SET: Record<KeyScope, true> = {
  'requests:read': true,
  'requests:write': true,
  'reports:read': true,
  'contacts:read': true,
  'contacts:write': true,
  'team:read': true,
  'tasks:read': true,
  'tasks:write': true,
  'routing:write': true,
  'identity:admin': true,
  'deals:read': true,
  'deals:write': true,
  'calls:read': true,
  'calls:write': true,
  'telephony:admin': true,
  'pipelines:write': true,
};
const TARGET_SET: Record<AuditTarget, true> = { user: true, department: true, project: true, shift: true, api_key: true, public_form: true, tenant: true };
/** The scopes an API key may be given. */
export const KEY_SCOPES = Object.keys(SCOPE_SET) as readonly KeyScope[];
export const AUDIT_TARGETS = Object.keys(TARGET_SET) as readonly AuditTarget[];

export interface Paged<T> {
  items: T[];
  next_cursor: string | null;
}

const path = (id: string) => ({ path: { id } });

export const teamApi = {
  listUsers: (f: { query?: string; department?: string; includeInactive?: boolean; cursor?: string | null; limit?: number }, signal?: AbortSignal): Promise<Paged<TeamUser>> =>
    unwrap(
      client.GET('/v1/team/users', {
        params: { query: { q: f.query || undefined, department_id: f.department || undefined, include_inactive: f.includeInactive || undefined, cursor: f.cursor || undefined, limit: f.limit } },
        signal,
      }),
      signal,
    ),
  getUser: (id: string, signal?: AbortSignal): Promise<TeamUser> => unwrap(client.GET('/v1/team/users/{id}', { params: path(id), signal }), signal),
  updateUser: (id: string, body: { display_name?: string; roles?: RoleName[]; department_ids?: string[]; headed_department_ids?: string[] }): Promise<TeamUser> =>
    unwrap(client.PATCH('/v1/team/users/{id}', { params: path(id), body })),
  invite: (body: S['InviteUser']): Promise<S['Invite']> => unwrap(client.POST('/v1/team/invites', { body })),
  acceptInvite: (token: string, password: string): Promise<S['AcceptedInvite']> => unwrap(client.POST('/v1/invites/{token}/accept', { params: { path: { token } }, body: { password } })),
  setActive: async (id: string, active: boolean): Promise<TeamUser> => (await unwrap(client.POST('/v1/team/users/{id}/activation', { params: path(id), body: { active } }))).user,
  setAway: (id: string, away: boolean, until?: string): Promise<TeamUser> => unwrap(client.PUT('/v1/team/users/{id}/away', { params: path(id), body: until ? { away, until } : { away } })),

  listDepartments: async (signal?: AbortSignal): Promise<TeamDepartment[]> => (await unwrap(client.GET('/v1/team/departments', { signal }), signal)).items,
  getDepartment: (id: string, signal?: AbortSignal): Promise<TeamDepartment> => unwrap(client.GET('/v1/team/departments/{id}', { params: path(id), signal }), signal),
  createDepartment: (body: { name: string; kind: DepartmentKind; sla_first_response_minutes: number }): Promise<TeamDepartment> => unwrap(client.POST('/v1/team/departments', { body })),
  updateDepartment: (id: string, body: { name?: string; kind?: DepartmentKind; sla_first_response_minutes?: number }): Promise<TeamDepartment> =>
    unwrap(client.PATCH('/v1/team/departments/{id}', { params: path(id), body })),
  setSchedule: (id: string, schedule: WorkSchedule): Promise<TeamDepartment> => unwrap(client.PUT('/v1/team/departments/{id}/schedule', { params: path(id), body: schedule })),

  listProjects: async (includeArchived: boolean, signal?: AbortSignal): Promise<Project[]> =>
    (await unwrap(client.GET('/v1/team/projects', { params: { query: { include_archived: includeArchived || undefined } }, signal }), signal)).items,
  createProject: (body: { name: string; code: string }): Promise<Project> => unwrap(client.POST('/v1/team/projects', { body })),
  updateProject: (id: string, body: { name?: string; archived?: boolean }): Promise<Project> => unwrap(client.PATCH('/v1/team/projects/{id}', { params: path(id), body })),

  listShifts: async (f: { from: string; to: string; department?: string; user?: string }, signal?: AbortSignal): Promise<Shift[]> =>
    (await unwrap(client.GET('/v1/team/shifts', { params: { query: { from: f.from, to: f.to, department_id: f.department || undefined, user_id: f.user || undefined } }, signal }), signal)).items,
  addShift: (body: { user_id: string; starts_at: string; ends_at: string }): Promise<Shift> => unwrap(client.POST('/v1/team/shifts', { body })),
  removeShift: async (id: string): Promise<void> => {
    await unwrap(client.DELETE('/v1/team/shifts/{id}', { params: path(id) }));
  },
  roster: (signal?: AbortSignal): Promise<Roster> => unwrap(client.GET('/v1/team/roster', { signal }), signal),

  audit: (f: { targetKind?: AuditTarget | ''; actor?: string; targetId?: string; cursor?: string | null; limit?: number }, signal?: AbortSignal): Promise<Paged<AuditEntry>> =>
    unwrap(
      client.GET('/v1/audit', {
        params: { query: { target_kind: f.targetKind || undefined, actor_id: f.actor || undefined, target_id: f.targetId || undefined, cursor: f.cursor || undefined, limit: f.limit } },
        signal,
      }),
      signal,
    ),

  listKeys: async (signal?: AbortSignal): Promise<ApiKey[]> => (await unwrap(client.GET('/v1/api-keys', { signal }), signal)).items,
  createKey: (body: { name: string; scopes: KeyScope[] }): Promise<{ key: ApiKey; secret: string }> => unwrap(client.POST('/v1/api-keys', { body })),
  revokeKey: (id: string): Promise<ApiKey> => unwrap(client.POST('/v1/api-keys/{id}/revocation', { params: path(id) })),

  listForms: async (signal?: AbortSignal): Promise<PublicForm[]> => (await unwrap(client.GET('/v1/public-forms', { signal }), signal)).items,
  createForm: (body: { name: string; field_mapping?: FieldMapping; thank_you_url?: string }): Promise<PublicForm> => unwrap(client.POST('/v1/public-forms', { body })),
  updateForm: (id: string, body: { name?: string; enabled?: boolean; field_mapping?: FieldMapping; thank_you_url?: string }): Promise<PublicForm> =>
    unwrap(client.PATCH('/v1/public-forms/{id}', { params: path(id), body })),
};

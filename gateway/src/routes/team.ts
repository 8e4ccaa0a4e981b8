import { AcceptInviteRequest, InviteUserRequest, UpdateUserRequest } from '@crm/contracts/crm/identity/v1/team';
import type { FastifyInstance } from 'fastify';
import { PLATFORM, requireScope } from '../auth';
import type { GatewayDeps } from '../deps';
import { enforceLimits, INVITE_ACCEPT_RATE } from '../limiter';
import { AUTHENTICATED, idParam, json, NO_NUL, problems, uuid, WITH_BODY } from '../schemas';
import {
  apiKeyOut,
  auditEntryOut,
  DEPARTMENT_KINDS,
  departmentOut,
  fieldMappingIn,
  instantIn,
  projectOut,
  publicFormOut,
  ROLES,
  rosterOut,
  scheduleIn,
  shiftOut,
  teamUserOut,
  type FieldMappingBody,
  type WorkScheduleBody,
} from '../team-mappers';

/** Accepting invites (no credential): attempts per client IP, and per token, per minute. */
export { INVITE_ACCEPT_RATE };

const cursor = { type: 'string', minLength: 1, maxLength: 500, pattern: '^[A-Za-z0-9_=-]+$', description: 'The next_cursor of the previous page, unchanged' } as const;
const limit = { type: 'integer', minimum: 1, maximum: 200, default: 50 } as const;
const publicFormParam = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: '^pf_[A-Za-z0-9_-]{8,64}$' } } } as const;
const tokenParam = {
  type: 'object',
  additionalProperties: false,
  required: ['token'],
  properties: { token: { type: 'string', minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'The token of the invite link `/invite/<token>`' } },
} as const;
const nextCursor = (c: string | undefined) => c || null;

/** Links for stateful clients and fuzzers. */
const userLinks = (id: string) => ({
  GetTeamUser: { operationId: 'getTeamUser', parameters: { id }, description: 'The user' },
  UpdateTeamUser: { operationId: 'updateTeamUser', parameters: { id }, description: 'Change roles or departments' },
  SetUserAway: { operationId: 'setUserAway', parameters: { id }, description: 'Mark away or back' },
});
const departmentLinks = (id: string) => ({
  GetTeamDepartment: { operationId: 'getTeamDepartment', parameters: { id }, description: 'The department' },
  SetDepartmentSchedule: { operationId: 'setDepartmentSchedule', parameters: { id }, description: 'Its work schedule' },
});

interface UserBody {
  display_name?: string;
  roles?: string[];
  department_ids?: string[];
  headed_department_ids?: string[];
}

/**
 * Team settings over identity's TeamService (users, invites, away, departments and schedules, projects,
 * shifts, the roster), the audit log, and the admin of API keys and public forms (IdentityService).
 * Reads need `team:read` (every role). Writes only an admin may make need `identity:admin`; the writes a
 * head of sales may make for the departments they head (invite a seller, away, shifts, the department's
 * name/SLA/schedule) need `team:read` here and identity answers 403 for anyone else. Another tenant's
 * id is a 404, like a missing one.
 */
export async function teamRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;

  // ---- users ----

  app.get<{ Querystring: { department_id?: string; include_inactive?: boolean; q?: string; limit?: number; cursor?: string } }>(
    '/v1/team/users',
    {
      schema: {
        tags: ['team'],
        operationId: 'listTeamUsers',
        summary: 'List the users of the tenant, by display name',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            department_id: { ...uuid, description: 'Members of this department' },
            include_inactive: { type: 'boolean', default: false, description: 'Include deactivated users (invited ones are always listed)' },
            q: { type: 'string', maxLength: 200, pattern: NO_NUL, description: 'Part of the name or e-mail, any case' },
            limit,
            cursor,
          },
        },
        response: { 200: json('A page of users', { $ref: 'TeamUserPage#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'team:read');
      const q = req.query;
      const res = await clients.team.listTeamUsers(
        { page: { pageSize: q.limit ?? 50, cursor: q.cursor ?? '' }, departmentId: q.department_id ?? '', includeInactive: q.include_inactive ?? false, query: q.q ?? '' },
        req.caller!.tenant,
      );
      return { items: res.users.map(teamUserOut), next_cursor: nextCursor(res.page?.nextCursor) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/team/users/:id',
    {
      schema: {
        tags: ['team'],
        operationId: 'getTeamUser',
        summary: 'Get a user with their team fields',
        params: idParam,
        response: { 200: json('The user', { $ref: 'TeamUser#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'team:read');
      const res = await clients.team.getTeamUser({ id: req.params.id }, req.caller!.tenant);
      return teamUserOut(res.user!);
    },
  );

  app.patch<{ Params: { id: string }; Body: UserBody }>(
    '/v1/team/users/:id',
    {
      schema: {
        tags: ['team'],
        operationId: 'updateTeamUser',
        summary: "Change a user's name, roles, departments or headed departments",
        description: 'Admins only (scope identity:admin). Only the fields sent are changed; a list sent replaces the stored one.',
        params: idParam,
        body: { $ref: 'UpdateTeamUser#' },
        response: { 200: json('The user after the change', { $ref: 'TeamUser#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
      links: { 200: userLinks('$response.body#/id') },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const b = req.body ?? {};
      const res = await clients.team.updateUser(
        UpdateUserRequest.fromPartial({
          id: req.params.id,
          displayName: b.display_name,
          roles: (b.roles ?? []).map(ROLES.in),
          updateRoles: b.roles !== undefined,
          departmentIds: b.department_ids ?? [],
          updateDepartmentIds: b.department_ids !== undefined,
          headedDepartmentIds: b.headed_department_ids ?? [],
          updateHeadedDepartmentIds: b.headed_department_ids !== undefined,
        }),
        req.caller!.tenant,
      );
      // Their cached principal on this replica carries the old roles and departments.
      deps.auth.forgetSubject(req.params.id);
      return teamUserOut(res.user!);
    },
  );

  app.post<{ Body: UserBody & { email: string } }>(
    '/v1/team/invites',
    {
      schema: {
        tags: ['team'],
        operationId: 'inviteUser',
        summary: 'Invite a user (they set their password through the invite link)',
        description:
          'An admin invites anyone; a head of sales may invite a seller into the departments they head (else 403). The token is shown only here; the web UI page is `invite_path` (`/invite/<token>`), valid 7 days. A taken e-mail is a 409.',
        body: { $ref: 'InviteUser#' },
        response: {
          201: json('Invited', { $ref: 'Invite#' }, { location: { type: 'string', description: 'The user: /v1/team/users/{id}' } }),
          ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409),
        },
      },
      links: { 201: userLinks('$response.body#/user/id') },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'team:read');
      const b = req.body;
      const res = await clients.team.inviteUser(
        InviteUserRequest.fromPartial({
          email: b.email,
          displayName: b.display_name ?? '',
          roles: (b.roles ?? []).map(ROLES.in),
          departmentIds: b.department_ids ?? [],
          headedDepartmentIds: b.headed_department_ids ?? [],
        }),
        req.caller!.tenant,
      );
      return reply
        .code(201)
        .header('location', `/v1/team/users/${res.user!.id}`)
        .send({ user: teamUserOut(res.user!), invite_token: res.inviteToken, invite_path: `/invite/${res.inviteToken}`, invite_expires_at: res.inviteExpiresAt });
    },
  );

  app.post<{ Params: { token: string }; Body: { password: string } }>(
    '/v1/invites/:token/accept',
    {
      config: { public: true, signIn: true },
      schema: {
        tags: ['team'],
        operationId: 'acceptInvite',
        summary: 'Accept an invite: set the password and activate the user (no credential)',
        description: `Then log in with \`POST /v1/session\` (the tenant is \`tenant_slug\`). An unknown, used or expired token is a 404. At most ${INVITE_ACCEPT_RATE} attempts a minute per client and per token (429).`,
        security: [],
        params: tokenParam,
        body: { $ref: 'AcceptInvite#' },
        response: { 200: json('Accepted; the user is active', { $ref: 'AcceptedInvite#' }), ...problems(...WITH_BODY, 404, 429, 503, 504) },
      },
    },
    async (req, reply) => {
      await enforceLimits(reply, 'too many attempts; try again later', [deps.limits.invitePerIp, req.ip], [deps.limits.invitePerToken, req.params.token]);
      const res = await clients.team.acceptInvite(AcceptInviteRequest.fromPartial({ token: req.params.token, password: req.body.password }), PLATFORM);
      return { user: teamUserOut(res.user!), tenant_slug: res.tenantSlug };
    },
  );

  app.post<{ Params: { id: string }; Body: { active: boolean } }>(
    '/v1/team/users/:id/activation',
    {
      schema: {
        tags: ['team'],
        operationId: 'setUserActivation',
        summary: 'Deactivate or reactivate a user',
        description:
          'Admins only (scope identity:admin). A deactivated user cannot log in and their sessions end at once, on every gateway replica (SessionsEnded); routing skips them. The last active admin cannot be deactivated (409).',
        params: idParam,
        body: { $ref: 'UserActivation#' },
        response: { 200: json('The user after the change', { $ref: 'UserActivationResult#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const res = await clients.team.setUserActive({ id: req.params.id, active: req.body.active }, req.caller!.tenant);
      // Identity refuses their sessions from now on; this replica stops trusting what it cached at once.
      deps.auth.forgetSubject(req.params.id);
      return { user: teamUserOut(res.user!), sessions_revoked: res.sessionsRevoked };
    },
  );

  app.put<{ Params: { id: string }; Body: { away: boolean; until?: string } }>(
    '/v1/team/users/:id/away',
    {
      schema: {
        tags: ['team'],
        operationId: 'setUserAway',
        summary: 'Mark a user away (until a time, or until cleared) or back',
        description: 'An admin for anyone; a head of sales for the members of the departments they head (else 403). Routing skips away employees.',
        params: idParam,
        body: { $ref: 'SetAway#' },
        response: { 200: json('The user after the change', { $ref: 'TeamUser#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'team:read');
      const res = await clients.team.setAway({ userId: req.params.id, away: req.body.away, until: instantIn('until', req.body.until) }, req.caller!.tenant);
      return teamUserOut(res.user!);
    },
  );

  // ---- departments ----

  app.get(
    '/v1/team/departments',
    {
      schema: {
        tags: ['team'],
        operationId: 'listTeamDepartments',
        summary: 'List the departments with kind, heads, SLA and schedule',
        response: { 200: json('Every department, by name', { $ref: 'TeamDepartmentList#' }), ...problems(...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'team:read');
      const res = await clients.team.listTeamDepartments({}, req.caller!.tenant);
      return { items: res.departments.map(departmentOut) };
    },
  );

  app.post<{ Body: { name: string; kind?: string; sla_first_response_minutes?: number; schedule?: WorkScheduleBody } }>(
    '/v1/team/departments',
    {
      schema: {
        tags: ['team'],
        operationId: 'createTeamDepartment',
        summary: 'Create a department',
        description: 'Admins only (scope identity:admin). A name taken in the tenant (any case) is a 409; an invalid schedule is a 400 naming the entry (`schedule.hours[2].to`).',
        body: { $ref: 'CreateTeamDepartment#' },
        response: {
          201: json('Created', { $ref: 'TeamDepartment#' }, { location: { type: 'string', description: 'The department: /v1/team/departments/{id}' } }),
          ...problems(...WITH_BODY, ...AUTHENTICATED, 409),
        },
      },
      links: { 201: departmentLinks('$response.body#/id') },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'identity:admin');
      const b = req.body;
      const res = await clients.team.createTeamDepartment(
        { name: b.name, kind: DEPARTMENT_KINDS.in(b.kind ?? 'sales'), slaFirstResponseMinutes: b.sla_first_response_minutes, schedule: scheduleIn(b.schedule) },
        req.caller!.tenant,
      );
      return reply.code(201).header('location', `/v1/team/departments/${res.department!.id}`).send(departmentOut(res.department!));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/team/departments/:id',
    {
      schema: {
        tags: ['team'],
        operationId: 'getTeamDepartment',
        summary: 'Get a department',
        params: idParam,
        response: { 200: json('The department', { $ref: 'TeamDepartment#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'team:read');
      const res = await clients.team.getTeamDepartment({ id: req.params.id }, req.caller!.tenant);
      return departmentOut(res.department!);
    },
  );

  app.patch<{ Params: { id: string }; Body: { name?: string; kind?: string; sla_first_response_minutes?: number } }>(
    '/v1/team/departments/:id',
    {
      schema: {
        tags: ['team'],
        operationId: 'updateTeamDepartment',
        summary: "Change a department's name, kind or SLA",
        description: 'An admin, or a head of sales of this department (else 403). Only the fields sent are changed; a taken name is a 409.',
        params: idParam,
        body: { $ref: 'UpdateTeamDepartment#' },
        response: { 200: json('The department after the change', { $ref: 'TeamDepartment#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'team:read');
      const b = req.body ?? {};
      const res = await clients.team.updateTeamDepartment(
        { id: req.params.id, name: b.name, kind: b.kind === undefined ? 0 : DEPARTMENT_KINDS.in(b.kind), slaFirstResponseMinutes: b.sla_first_response_minutes },
        req.caller!.tenant,
      );
      return departmentOut(res.department!);
    },
  );

  app.put<{ Params: { id: string }; Body: WorkScheduleBody }>(
    '/v1/team/departments/:id/schedule',
    {
      schema: {
        tags: ['team'],
        operationId: 'setDepartmentSchedule',
        summary: "Replace a department's work schedule",
        description:
          'An admin, or a head of sales of this department (else 403). Inverted or overlapping hours, an unknown time zone or a malformed holiday is a 400 naming the entry (`schedule.hours[2].to`). No hours: open around the clock.',
        params: idParam,
        body: { $ref: 'WorkSchedule#' },
        response: { 200: json('The department with its new schedule', { $ref: 'TeamDepartment#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'team:read');
      const res = await clients.team.setSchedule({ departmentId: req.params.id, schedule: scheduleIn(req.body ?? {}) }, req.caller!.tenant);
      return departmentOut(res.department!);
    },
  );

  // ---- projects ----

  app.get<{ Querystring: { include_archived?: boolean } }>(
    '/v1/team/projects',
    {
      schema: {
        tags: ['team'],
        operationId: 'listProjects',
        summary: "List the tenant's projects",
        querystring: { type: 'object', additionalProperties: false, properties: { include_archived: { type: 'boolean', default: false } } },
        response: { 200: json('Projects', { $ref: 'ProjectList#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'team:read');
      const res = await clients.team.listProjects({ includeArchived: req.query.include_archived ?? false }, req.caller!.tenant);
      return { items: res.projects.map(projectOut) };
    },
  );

  app.post<{ Body: { name: string; code: string } }>(
    '/v1/team/projects',
    {
      schema: {
        tags: ['team'],
        operationId: 'createProject',
        summary: 'Create a project',
        description: 'Admins only (scope identity:admin). A taken code is a 409.',
        body: { $ref: 'CreateProject#' },
        response: { 201: json('Created', { $ref: 'Project#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 409) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'identity:admin');
      const res = await clients.team.createProject({ name: req.body.name, code: req.body.code }, req.caller!.tenant);
      return reply.code(201).send(projectOut(res.project!));
    },
  );

  app.patch<{ Params: { id: string }; Body: { name?: string; archived?: boolean } }>(
    '/v1/team/projects/:id',
    {
      schema: {
        tags: ['team'],
        operationId: 'updateProject',
        summary: 'Rename or archive a project',
        description: 'Admins only (scope identity:admin). Only the fields sent are changed.',
        params: idParam,
        body: { $ref: 'UpdateProject#' },
        response: { 200: json('The project after the change', { $ref: 'Project#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const b = req.body ?? {};
      const res = await clients.team.updateProject({ id: req.params.id, name: b.name, archived: b.archived }, req.caller!.tenant);
      return projectOut(res.project!);
    },
  );

  // ---- shifts and the roster ----

  app.get<{ Querystring: { from: string; to: string; user_id?: string; department_id?: string } }>(
    '/v1/team/shifts',
    {
      schema: {
        tags: ['team'],
        operationId: 'listShifts',
        summary: 'Shifts overlapping [from, to) (at most 62 days), of one user or one department’s members',
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'to'],
          properties: {
            from: { type: 'string', format: 'date-time', description: 'RFC 3339, any offset' },
            to: { type: 'string', format: 'date-time', description: 'RFC 3339, any offset; after from, at most 62 days later' },
            user_id: uuid,
            department_id: uuid,
          },
        },
        response: { 200: json('Shifts', { $ref: 'ShiftList#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'team:read');
      const q = req.query;
      const res = await clients.team.listShifts({ from: instantIn('from', q.from), to: instantIn('to', q.to), userId: q.user_id ?? '', departmentId: q.department_id ?? '' }, req.caller!.tenant);
      return { items: res.shifts.map(shiftOut) };
    },
  );

  app.post<{ Body: { user_id: string; starts_at: string; ends_at: string } }>(
    '/v1/team/shifts',
    {
      schema: {
        tags: ['team'],
        operationId: 'addShift',
        summary: 'Add a shift of an employee',
        description: 'An admin for anyone; a head of sales for the members of the departments they head (else 403). Inverted, longer than 24 h, or overlapping another shift of the user: 400. A deactivated user: 409.',
        body: { $ref: 'CreateShift#' },
        response: { 201: json('Created', { $ref: 'Shift#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'team:read');
      const b = req.body;
      const res = await clients.team.addShift({ userId: b.user_id, startsAt: instantIn('starts_at', b.starts_at), endsAt: instantIn('ends_at', b.ends_at) }, req.caller!.tenant);
      return reply.code(201).send(shiftOut(res.shift!));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/team/shifts/:id',
    {
      schema: {
        tags: ['team'],
        operationId: 'removeShift',
        summary: 'Remove a shift',
        description: 'An admin for anyone; a head of sales for the members of the departments they head (else 403).',
        params: idParam,
        response: { 204: { type: 'null', description: 'Removed' }, ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'team:read');
      await clients.team.removeShift({ id: req.params.id }, req.caller!.tenant);
      return reply.code(204).send();
    },
  );

  app.get<{ Querystring: { at?: string } }>(
    '/v1/team/roster',
    {
      schema: {
        tags: ['team'],
        operationId: 'getRoster',
        summary: 'Who is working at an instant (default now): departments open, users away or on shift',
        querystring: { type: 'object', additionalProperties: false, properties: { at: { type: 'string', format: 'date-time', description: 'RFC 3339, any offset; absent: now' } } },
        response: { 200: json('The roster', { $ref: 'Roster#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'team:read');
      const res = await clients.team.getRoster({ at: instantIn('at', req.query.at) }, req.caller!.tenant);
      return rosterOut(res);
    },
  );

  // ---- audit ----

  app.get<{ Querystring: { target_kind?: string; target_id?: string; actor_id?: string; limit?: number; cursor?: string } }>(
    '/v1/audit',
    {
      schema: {
        tags: ['audit'],
        operationId: 'listAuditEntries',
        summary: "The tenant's audit log, newest first",
        description: 'Admins only (scope identity:admin).',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            target_kind: { type: 'string', enum: ['user', 'department', 'project', 'shift', 'api_key', 'public_form', 'tenant'] },
            target_id: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$', description: 'With target_kind: a user, department, project, shift or API key id, or a public form id (`pf_…`)' },
            actor_id: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.-]+$', description: 'The user, API key or service that made the change' },
            limit,
            cursor,
          },
        },
        response: { 200: json('A page of the audit log', { $ref: 'AuditEntryPage#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const q = req.query;
      const res = await clients.team.listAuditEntries(
        { page: { pageSize: q.limit ?? 50, cursor: q.cursor ?? '' }, targetKind: q.target_kind ?? '', targetId: q.target_id ?? '', actorId: q.actor_id ?? '' },
        req.caller!.tenant,
      );
      return { items: res.entries.map(auditEntryOut), next_cursor: nextCursor(res.page?.nextCursor) };
    },
  );

  // ---- API keys ----

  app.get(
    '/v1/api-keys',
    {
      schema: {
        tags: ['api-keys'],
        operationId: 'listApiKeys',
        summary: "The tenant's API keys, newest first (revoked ones included; never their secrets)",
        description: 'Admins only (scope identity:admin).',
        response: { 200: json('API keys', { $ref: 'ApiKeyList#' }), ...problems(...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const res = await clients.identity.listApiKeys({}, req.caller!.tenant);
      return { items: res.keys.map(apiKeyOut) };
    },
  );

  app.post<{ Body: { name: string; scopes: string[] } }>(
    '/v1/api-keys',
    {
      schema: {
        tags: ['api-keys'],
        operationId: 'createApiKey',
        summary: 'Create an API key (its secret is shown only in this answer)',
        description: 'Admins only (scope identity:admin). Use the secret as `Authorization: Bearer <secret>`.',
        body: { $ref: 'CreateApiKey#' },
        response: { 201: json('Created; keep the secret now', { $ref: 'CreatedApiKey#' }), ...problems(...WITH_BODY, ...AUTHENTICATED) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'identity:admin');
      const res = await clients.identity.createApiKey({ name: req.body.name, scopes: req.body.scopes }, req.caller!.tenant);
      return reply.code(201).send({ key: apiKeyOut(res.key!), secret: res.secret });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/api-keys/:id/revocation',
    {
      schema: {
        tags: ['api-keys'],
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key (idempotent)',
        description: 'Admins only (scope identity:admin). The key stops working at once in identity and on this gateway replica, on the others within AUTH_CACHE_TTL_MS.',
        params: idParam,
        response: { 200: json('The key, revoked', { $ref: 'ApiKey#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const res = await clients.identity.revokeApiKey({ id: req.params.id }, req.caller!.tenant);
      deps.auth.forgetSubject(req.params.id);
      return apiKeyOut(res.key!);
    },
  );

  // ---- public forms ----

  app.get(
    '/v1/public-forms',
    {
      schema: {
        tags: ['public-forms'],
        operationId: 'listPublicForms',
        summary: "The tenant's public web forms, newest first",
        description: 'Admins only (scope identity:admin).',
        response: { 200: json('Public forms', { $ref: 'PublicFormList#' }), ...problems(...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const res = await clients.identity.listPublicForms({}, req.caller!.tenant);
      return { items: res.forms.map(publicFormOut) };
    },
  );

  app.post<{ Body: { name: string; field_mapping?: FieldMappingBody; thank_you_url?: string } }>(
    '/v1/public-forms',
    {
      schema: {
        tags: ['public-forms'],
        operationId: 'createPublicForm',
        summary: 'Create a public web form (enabled)',
        description: 'Admins only (scope identity:admin). Its id is embedded in the site: `POST /v1/forms/{id}/submissions` takes the posts with no secret.',
        body: { $ref: 'CreatePublicForm#' },
        response: { 201: json('Created', { $ref: 'PublicForm#' }), ...problems(...WITH_BODY, ...AUTHENTICATED) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'identity:admin');
      const b = req.body;
      const res = await clients.identity.createPublicForm({ name: b.name, fieldMapping: fieldMappingIn(b.field_mapping), thankYouUrl: b.thank_you_url }, req.caller!.tenant);
      return reply.code(201).send(publicFormOut(res.form!));
    },
  );

  app.patch<{ Params: { id: string }; Body: { name?: string; field_mapping?: FieldMappingBody; thank_you_url?: string; enabled?: boolean } }>(
    '/v1/public-forms/:id',
    {
      schema: {
        tags: ['public-forms'],
        operationId: 'updatePublicForm',
        summary: "Change a public form's name, field mapping, thank-you URL, or enable/disable it",
        description:
          'Admins only (scope identity:admin). Only the fields sent are changed; `field_mapping` replaces the whole mapping. An invalid value is a 400 with nothing changed. A disabled form refuses submissions (404).',
        params: publicFormParam,
        body: { $ref: 'UpdatePublicForm#' },
        response: { 200: json('The form after the change', { $ref: 'PublicForm#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const b = req.body ?? {};
      const ctx = req.caller!.tenant;
      const id = req.params.id;
      // The settings first (all checked, nothing changed when one is invalid), then the switch (idempotent).
      const edits = b.name !== undefined || b.field_mapping !== undefined || b.thank_you_url !== undefined;
      let form = edits || b.enabled === undefined ? (await clients.identity.updatePublicForm({ id, name: b.name, fieldMapping: fieldMappingIn(b.field_mapping), thankYouUrl: b.thank_you_url }, ctx)).form : undefined;
      if (b.enabled !== undefined) form = (await clients.identity.setPublicFormEnabled({ id, enabled: b.enabled }, ctx)).form;
      return publicFormOut(form!);
    },
  );
}

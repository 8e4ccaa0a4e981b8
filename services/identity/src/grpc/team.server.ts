import { TeamServiceService } from '@crm/contracts/crm/identity/v1/team';
import type { MikroORM } from '@crm/db';
import { registration, type ServiceRegistration } from '@crm/grpc';
import type { SecurityAreas } from '../security';
import { scheduleOfRow, TeamService } from '../team.service';
import { auditEntryMessage, projectMessage, scheduleMessage, shiftMessage, teamDepartmentMessage, teamUserMessage } from './team.messages';

export const TEAM_SERVICE_NAME = 'crm.identity.v1.TeamService';

/**
 * crm.identity.v1.TeamService. Every RPC but AcceptInvite resolves the caller for the call's tenant
 * first (TeamService.caller: reads for any caller of the tenant, writes checked per RPC) and scopes
 * every query by the tenant. AcceptInvite is pre-authentication: the token decides the tenant.
 */
export function teamServer(orm: MikroORM, areas: SecurityAreas): ServiceRegistration {
  const team = new TeamService(orm, areas.sessions);

  return registration(TEAM_SERVICE_NAME, TeamServiceService, {
    inviteUser: async (req, ctx) => {
      const c = await team.caller(ctx);
      const { user, token, expiresAt } = await team.inviteUser(ctx.tenantId, c, req);
      return { user: teamUserMessage(user), inviteToken: token, inviteExpiresAt: expiresAt.toISOString() };
    },
    acceptInvite: async (req) => {
      const { user, tenantSlug } = await team.acceptInvite(req.token, req.password);
      return { user: teamUserMessage(user), tenantSlug };
    },
    updateUser: async (req, ctx) => {
      const c = await team.caller(ctx);
      const user = await team.updateUser(ctx.tenantId, c, {
        id: req.id,
        displayName: req.displayName,
        roles: req.updateRoles ? req.roles : undefined,
        departmentIds: req.updateDepartmentIds ? req.departmentIds : undefined,
        headedDepartmentIds: req.updateHeadedDepartmentIds ? req.headedDepartmentIds : undefined,
      });
      return { user: teamUserMessage(user) };
    },
    setUserActive: async (req, ctx) => {
      const c = await team.caller(ctx);
      const { user, sessionsRevoked } = await team.setUserActive(ctx.tenantId, c, req.id, req.active);
      return { user: teamUserMessage(user), sessionsRevoked };
    },
    setAway: async (req, ctx) => {
      const c = await team.caller(ctx);
      return { user: teamUserMessage(await team.setAway(ctx.tenantId, c, req)) };
    },
    listTeamUsers: async (req, ctx) => {
      await team.caller(ctx);
      const { users, nextCursor } = await team.listUsers(ctx.tenantId, {
        pageSize: req.page?.pageSize ?? 0,
        cursor: req.page?.cursor ?? '',
        departmentId: req.departmentId,
        includeInactive: req.includeInactive,
        query: req.query,
      });
      const now = new Date();
      return { users: users.map((u) => teamUserMessage(u, now)), page: { nextCursor } };
    },
    getTeamUser: async (req, ctx) => {
      await team.caller(ctx);
      return { user: teamUserMessage(await team.getUser(ctx.tenantId, req.id)) };
    },
    createTeamDepartment: async (req, ctx) => {
      const c = await team.caller(ctx);
      return { department: teamDepartmentMessage(await team.createDepartment(ctx.tenantId, c, req)) };
    },
    updateTeamDepartment: async (req, ctx) => {
      const c = await team.caller(ctx);
      return { department: teamDepartmentMessage(await team.updateDepartment(ctx.tenantId, c, req)) };
    },
    listTeamDepartments: async (_req, ctx) => {
      await team.caller(ctx);
      return { departments: (await team.listDepartments(ctx.tenantId)).map(teamDepartmentMessage) };
    },
    getTeamDepartment: async (req, ctx) => {
      await team.caller(ctx);
      return { department: teamDepartmentMessage(await team.getDepartment(ctx.tenantId, req.id)) };
    },
    setSchedule: async (req, ctx) => {
      const c = await team.caller(ctx);
      return { department: teamDepartmentMessage(await team.setSchedule(ctx.tenantId, c, req)) };
    },
    createProject: async (req, ctx) => {
      const c = await team.caller(ctx);
      return { project: projectMessage(await team.createProject(ctx.tenantId, c, req)) };
    },
    updateProject: async (req, ctx) => {
      const c = await team.caller(ctx);
      return { project: projectMessage(await team.updateProject(ctx.tenantId, c, req)) };
    },
    listProjects: async (req, ctx) => {
      await team.caller(ctx);
      return { projects: (await team.listProjects(ctx.tenantId, req.includeArchived)).map(projectMessage) };
    },
    addShift: async (req, ctx) => {
      const c = await team.caller(ctx);
      return { shift: shiftMessage(await team.addShift(ctx.tenantId, c, req)) };
    },
    removeShift: async (req, ctx) => {
      const c = await team.caller(ctx);
      await team.removeShift(ctx.tenantId, c, req.id);
      return {};
    },
    listShifts: async (req, ctx) => {
      await team.caller(ctx);
      return { shifts: (await team.listShifts(ctx.tenantId, req)).map(shiftMessage) };
    },
    getRoster: async (req, ctx) => {
      const c = await team.caller(ctx);
      const r = await team.roster(ctx.tenantId, c, req.at);
      return {
        at: r.at.toISOString(),
        tenantTimeZone: r.tenantTimeZone,
        departments: r.departments.map((d) => ({
          id: d.id,
          name: d.name,
          kind: teamDepartmentMessage(d).kind,
          slaFirstResponseMinutes: d.sla_first_response_minutes,
          schedule: scheduleMessage(scheduleOfRow(d)),
          open: d.open,
          headUserIds: d.head_user_ids,
        })),
        users: r.users.map((u) => ({
          id: u.id,
          displayName: u.display_name,
          roles: teamUserMessage(u, r.at).roles,
          departmentIds: u.department_ids,
          away: u.awayNow,
          onShift: u.onShift,
        })),
      };
    },
    listAuditEntries: async (req, ctx) => {
      await team.caller(ctx);
      const { entries, nextCursor } = await team.listAudit(ctx.tenantId, {
        pageSize: req.page?.pageSize ?? 0,
        cursor: req.page?.cursor ?? '',
        targetKind: req.targetKind,
        targetId: req.targetId,
        actorId: req.actorId,
      });
      return { entries: entries.map(auditEntryMessage), page: { nextCursor } };
    },
  });
}

import { SecurityServiceService } from '@crm/contracts/crm/identity/v1/security';
import { isUuid } from '@crm/db';
import { DomainError } from '@crm/errors';
import { registration, type CallContext, type ServiceRegistration } from '@crm/grpc';
import { AdminService } from '../admin.service';
import type { Actor } from '../audit';
import type { SecurityAreas } from '../security';

export const SECURITY_SERVICE_NAME = 'crm.identity.v1.SecurityService';

/**
 * crm.identity.v1.SecurityService: thin handlers over the security areas (src/security/*). The *Own* RPCs
 * are for the user of the call (an active user of the call's tenant); the admin ones go through
 * AdminService.authorize; ConsumeQuota is for services only.
 */
export function securityServer(areas: SecurityAreas): ServiceRegistration {
  const { orm, throttle, sessions, secondFactor, quotas } = areas;
  const admin = new AdminService(orm);

  /** The user of the call with their roles, read fresh (a deactivated user is refused). */
  const own = async (ctx: CallContext): Promise<{ actor: Actor; userId: string; roles: string[] }> => {
    const denied = () => new DomainError('PERMISSION_DENIED', 'only a signed-in user may manage their own sign-in');
    if (ctx.callerKind !== 'user' || !isUuid(ctx.tenantId) || !isUuid(ctx.callerId)) throw denied();
    const rows = await orm.em
      .getConnection()
      .execute<{ roles: string[] }[]>('SELECT roles FROM users WHERE tenant_id = ? AND id = ? AND active', [ctx.tenantId, ctx.callerId]);
    if (!rows[0]) throw denied();
    return { actor: { kind: 'user', id: ctx.callerId }, userId: ctx.callerId, roles: rows[0].roles };
  };

  return registration(SECURITY_SERVICE_NAME, SecurityServiceService, {
    listLoginLocks: async (req, ctx) => {
      await admin.authorize(ctx);
      return throttle.listLocks(ctx.tenantId, { lockedOnly: req.lockedOnly, pageSize: req.pageSize, cursor: req.cursor });
    },
    unlockLogin: async (req, ctx) => {
      const actor = await admin.authorize(ctx);
      return { lock: await throttle.unlock(ctx.tenantId, actor, req.id) };
    },

    listOwnSessions: async (req, ctx) => {
      const me = await own(ctx);
      return { sessions: await sessions.listOwn(ctx.tenantId, me.userId, req.currentSessionId) };
    },
    endOwnSession: async (req, ctx) => {
      const me = await own(ctx);
      return { ended: await sessions.endOwn(ctx.tenantId, me.userId, req.id) };
    },
    endOwnSessions: async (req, ctx) => {
      const me = await own(ctx);
      return { ended: await sessions.endOwnAll(ctx.tenantId, me.userId, req.keepCurrent ? req.currentSessionId : undefined) };
    },
    listUserSessions: async (req, ctx) => {
      await admin.authorize(ctx);
      return { sessions: await sessions.listUser(ctx.tenantId, req.userId) };
    },
    endUserSessions: async (req, ctx) => {
      const actor = await admin.authorize(ctx);
      const ended = await orm.em.fork().transactional((em) => sessions.endAllOfUser(em, ctx.tenantId, req.userId, actor, 'ended_by_admin'));
      return { ended };
    },

    getOwnTwoFactor: async (_req, ctx) => {
      const me = await own(ctx);
      return { state: await secondFactor.state(ctx.tenantId, me.userId, me.roles) };
    },
    beginOwnTotpEnrollment: async (_req, ctx) => {
      const me = await own(ctx);
      return { enrollment: await secondFactor.beginEnrollment(ctx.tenantId, me.userId, me.actor) };
    },
    confirmOwnTotpEnrollment: async (req, ctx) => {
      const me = await own(ctx);
      return { codes: await secondFactor.confirmEnrollment(ctx.tenantId, me.userId, me.actor, req.code) };
    },
    disableOwnTotp: async (req, ctx) => {
      const me = await own(ctx);
      const p = req.proof;
      const proof = p?.$case === 'recoveryCode' ? { recoveryCode: p.value } : { code: p?.$case === 'code' ? p.value : '' };
      return { state: await secondFactor.disable(ctx.tenantId, me.userId, me.roles, me.actor, proof) };
    },
    regenerateOwnRecoveryCodes: async (req, ctx) => {
      const me = await own(ctx);
      return { codes: await secondFactor.regenerateRecoveryCodes(ctx.tenantId, me.userId, me.actor, req.code) };
    },
    resetUserTwoFactor: async (req, ctx) => {
      const actor = await admin.authorize(ctx);
      await orm.em.fork().transactional(async (em) => {
        await secondFactor.reset(em, ctx.tenantId, req.userId, actor);
        await sessions.endAllOfUser(em, ctx.tenantId, req.userId, actor, 'second_factor_reset');
      });
      const roles = await orm.em.getConnection().execute<{ roles: string[] }[]>('SELECT roles FROM users WHERE tenant_id = ? AND id = ?', [ctx.tenantId, req.userId]);
      return { state: await secondFactor.state(ctx.tenantId, req.userId, roles[0]?.roles ?? []) };
    },

    getSecurityPolicy: async (_req, ctx) => {
      await admin.authorize(ctx);
      return { policy: await secondFactor.policy(ctx.tenantId) };
    },
    updateSecurityPolicy: async (req, ctx) => {
      const actor = await admin.authorize(ctx);
      return { policy: await secondFactor.updatePolicy(ctx.tenantId, actor, { requireSecondFactorForPrivileged: req.requireSecondFactorForPrivileged }) };
    },

    consumeQuota: async (req, ctx) => {
      if (ctx.callerKind !== 'service') throw new DomainError('PERMISSION_DENIED', 'only a service may consume shared quotas');
      const r = await quotas.consume(req.key, req.windowSeconds, Number(req.limit), Number(req.want));
      return { granted: r.granted, used: r.used, windowEndsAt: r.windowEndsAt.toISOString() };
    },
  });
}

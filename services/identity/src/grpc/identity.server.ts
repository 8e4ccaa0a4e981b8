import { IdentityServiceService, SecondFactorStep } from '@crm/contracts/crm/identity/v1/identity';
import type { MikroORM } from '@crm/db';
import { registration, type CallContext, type ServiceRegistration } from '@crm/grpc';
import type { Logger } from '@crm/logger';
import { AdminService } from '../admin.service';
import { AuthService, InvalidCredentialsError } from '../auth.service';
import type { SecurityAreas } from '../security';
import { apiKeyMessage, departmentMessage, publicFormMessage, tenantMessage, userMessage } from './messages';

export const IDENTITY_SERVICE_NAME = 'crm.identity.v1.IdentityService';

/**
 * crm.identity.v1.IdentityService. Pre-authentication RPCs ignore the call's tenant; management RPCs
 * authorize the caller for the call's tenant first and scope every query by it.
 */
export function identityServer(orm: MikroORM, logger: Logger, areas: SecurityAreas): ServiceRegistration {
  const auth = new AuthService(orm, logger, areas);
  const admin = new AdminService(orm);
  const actorOf = (ctx: CallContext) => ({ kind: ctx.callerKind, id: ctx.callerId });

  return registration(IDENTITY_SERVICE_NAME, IdentityServiceService, {
    authenticate: async (req) => {
      const c = req.credential;
      if (c?.$case === 'apiKey') return { principal: await auth.authenticateApiKey(c.value) };
      if (c?.$case === 'sessionToken') return { principal: await auth.authenticateSession(c.value) };
      throw new InvalidCredentialsError();
    },
    login: async (req) => {
      const out = await auth.login(req);
      if (out.kind === 'challenge') {
        const step = out.step === 'code' ? SecondFactorStep.SECOND_FACTOR_STEP_CODE : SecondFactorStep.SECOND_FACTOR_STEP_ENROLL;
        return { sessionToken: '', expiresAt: '', principal: undefined, challengeToken: out.token, secondFactor: step, challengeExpiresAt: out.expiresAt.toISOString(), recoveryCodes: [] };
      }
      return { sessionToken: out.token, expiresAt: out.expiresAt.toISOString(), principal: out.principal, challengeToken: '', secondFactor: SecondFactorStep.SECOND_FACTOR_STEP_UNSPECIFIED, challengeExpiresAt: '', recoveryCodes: out.recoveryCodes };
    },
    verifySecondFactor: async (req) => {
      const p = req.proof;
      const proof = p?.$case === 'recoveryCode' ? { recoveryCode: p.value } : { code: p?.$case === 'code' ? p.value : '' };
      const s = await auth.verifySecondFactor({ challengeToken: req.challengeToken, proof, clientAddress: req.clientAddress, userAgent: req.userAgent });
      return { sessionToken: s.token, expiresAt: s.expiresAt.toISOString(), principal: s.principal, recoveryCodes: s.recoveryCodes };
    },
    beginLoginEnrollment: async (req) => ({ enrollment: await auth.beginLoginEnrollment(req.challengeToken) }),
    logout: async (req) => {
      await auth.logout(req.sessionToken);
      return {};
    },
    resolvePublicForm: async (req) => auth.resolvePublicForm(req.publicFormId),
    createTenant: async (req, ctx) => ({ tenant: tenantMessage(await auth.createTenant(actorOf(ctx), req)) }),

    createUser: async (req, ctx) => {
      const actor = await admin.authorize(ctx);
      return { user: userMessage(await admin.createUser(ctx.tenantId, actor, req)) };
    },
    getUser: async (req, ctx) => {
      await admin.authorize(ctx);
      return { user: userMessage(await admin.getUser(ctx.tenantId, req.id)) };
    },
    listUsers: async (req, ctx) => {
      await admin.authorize(ctx);
      const { users, nextCursor } = await admin.listUsers(ctx.tenantId, { pageSize: req.page?.pageSize ?? 0, cursor: req.page?.cursor ?? '' });
      return { users: users.map(userMessage), page: { nextCursor } };
    },
    updateUserRoles: async (req, ctx) => {
      const actor = await admin.authorize(ctx);
      return { user: userMessage(await admin.updateUserRoles(ctx.tenantId, actor, req.id, req.roles)) };
    },
    createDepartment: async (req, ctx) => {
      const actor = await admin.authorize(ctx);
      return { department: departmentMessage(await admin.createDepartment(ctx.tenantId, actor, req)) };
    },
    listDepartments: async (_req, ctx) => {
      await admin.authorize(ctx);
      return { departments: (await admin.listDepartments(ctx.tenantId)).map(departmentMessage) };
    },
    createApiKey: async (req, ctx) => {
      const actor = await admin.authorize(ctx);
      const { key, secret } = await admin.createApiKey(ctx.tenantId, actor, req);
      return { key: apiKeyMessage(key), secret };
    },
    listApiKeys: async (_req, ctx) => {
      await admin.authorize(ctx);
      return { keys: (await admin.listApiKeys(ctx.tenantId)).map(apiKeyMessage) };
    },
    revokeApiKey: async (req, ctx) => {
      const actor = await admin.authorize(ctx);
      return { key: apiKeyMessage(await admin.revokeApiKey(ctx.tenantId, actor, req.id)) };
    },
    createPublicForm: async (req, ctx) => {
      const actor = await admin.authorize(ctx);
      return { form: publicFormMessage(await admin.createPublicForm(ctx.tenantId, actor, req)) };
    },
    listPublicForms: async (_req, ctx) => {
      await admin.authorize(ctx);
      return { forms: (await admin.listPublicForms(ctx.tenantId)).map(publicFormMessage) };
    },
    setPublicFormEnabled: async (req, ctx) => {
      const actor = await admin.authorize(ctx);
      return { form: publicFormMessage(await admin.setPublicFormEnabled(ctx.tenantId, actor, req.id, req.enabled)) };
    },
    updatePublicForm: async (req, ctx) => {
      const actor = await admin.authorize(ctx);
      const input = { name: req.name, fieldMapping: req.fieldMapping, thankYouUrl: req.thankYouUrl };
      return { form: publicFormMessage(await admin.updatePublicForm(ctx.tenantId, actor, req.id, input)) };
    },
    getTenant: async (_req, ctx) => {
      await admin.authorize(ctx);
      return { tenant: tenantMessage(await admin.getTenant(ctx.tenantId)) };
    },
    updateTenant: async (req, ctx) => {
      const actor = await admin.authorize(ctx);
      return { tenant: tenantMessage(await admin.updateTenant(ctx.tenantId, actor, { timeZone: req.timeZone })) };
    },
  });
}

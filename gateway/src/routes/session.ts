import { roleToJSON } from '@crm/contracts/crm/identity/v1/identity';
import type { FastifyInstance } from 'fastify';
import { PLATFORM, SESSION_COOKIE, toCaller, type Caller } from '../auth';
import { readCookie, serializeCookie } from '../cookies';
import { AUTHENTICATED, json, problems, WITH_BODY } from '../schemas';
import type { GatewayDeps } from '../deps';

function me(c: Caller) {
  const p = c.principal;
  return {
    tenant_id: p.tenantId,
    tenant_slug: p.tenantSlug,
    locale: p.tenantLocale,
    time_zone: p.tenantTimeZone || 'UTC',
    subject_id: p.subjectId,
    kind: c.tenant.callerKind,
    display_name: p.displayName,
    email: p.email,
    roles: p.roles.map((r) => roleToJSON(r).replace(/^ROLE_/, '').toLowerCase()),
    scopes: [...c.scopes].sort(),
  };
}

/** Session login for the web UI: an HttpOnly, SameSite=Lax cookie holding the session token. */
export async function sessionRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  app.post<{ Body: { tenant: string; email: string; password: string } }>(
    '/v1/session',
    {
      config: { public: true },
      schema: {
        tags: ['session'],
        operationId: 'login',
        summary: 'Log in (sets the session cookie)',
        security: [],
        body: { $ref: 'Session#' },
        response: {
          200: json('Logged in; the session cookie is set', { $ref: 'Me#' }, { 'set-cookie': { type: 'string', description: 'crm_session=…; HttpOnly; SameSite=Lax' } }),
          ...problems(...WITH_BODY, 401, 503, 504),
        },
      },
    },
    async (req, reply) => {
      const res = await deps.clients.identity.login(
        { tenantSlug: req.body.tenant, email: req.body.email, password: req.body.password, clientAddress: req.ip, userAgent: String(req.headers['user-agent'] ?? '').slice(0, 512) },
        PLATFORM,
      );
      reply.header('set-cookie', serializeCookie(SESSION_COOKIE, res.sessionToken, { expires: new Date(res.expiresAt), secure: deps.env.SESSION_COOKIE_SECURE }));
      return me(toCaller(res.principal!, 'session'));
    },
  );

  app.delete(
    '/v1/session',
    {
      schema: {
        tags: ['session'],
        operationId: 'logout',
        summary: 'Log out (clears the session cookie)',
        response: { 204: { type: 'null', description: 'Logged out' }, ...problems(...AUTHENTICATED) },
      },
    },
    async (req, reply) => {
      const token = readCookie(req.headers.cookie, SESSION_COOKIE);
      if (token) {
        await deps.clients.identity.logout({ sessionToken: token }, PLATFORM);
        deps.auth.forgetSession(token);
      }
      reply.header('set-cookie', serializeCookie(SESSION_COOKIE, '', { expires: new Date(0), secure: deps.env.SESSION_COOKIE_SECURE }));
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/me',
    { schema: { tags: ['session'], operationId: 'getMe', summary: 'Who am I', response: { 200: json('The caller', { $ref: 'Me#' }), ...problems(401, 429, 503, 504) } } },
    async (req) => me(req.caller!),
  );
}

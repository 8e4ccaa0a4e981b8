import { roleToJSON } from '@crm/contracts/crm/identity/v1/identity';
import type { FastifyInstance } from 'fastify';
import { PLATFORM, SESSION_COOKIE, toCaller, type Caller } from '../auth';
import { readCookie, serializeCookie } from '../cookies';
import { errorResponses } from '../schemas';
import type { GatewayDeps } from '../app';

const meSchema = {
  type: 'object',
  properties: {
    tenant_id: { type: 'string' },
    tenant_slug: { type: 'string' },
    locale: { type: 'string' },
    subject_id: { type: 'string' },
    kind: { type: 'string', enum: ['user', 'api_key'] },
    display_name: { type: 'string' },
    email: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    scopes: { type: 'array', items: { type: 'string' } },
  },
} as const;

function me(c: Caller) {
  const p = c.principal;
  return {
    tenant_id: p.tenantId,
    tenant_slug: p.tenantSlug,
    locale: p.tenantLocale,
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
        summary: 'Log in (sets the session cookie)',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['tenant', 'email', 'password'],
          properties: { tenant: { type: 'string', minLength: 1, maxLength: 63 }, email: { type: 'string', minLength: 3, maxLength: 320 }, password: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: { 200: meSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const res = await deps.clients.identity.login({ tenantSlug: req.body.tenant, email: req.body.email, password: req.body.password }, PLATFORM);
      reply.header('set-cookie', serializeCookie(SESSION_COOKIE, res.sessionToken, { expires: new Date(res.expiresAt), secure: deps.env.SESSION_COOKIE_SECURE }));
      return me(toCaller(res.principal!, 'session'));
    },
  );

  app.delete('/v1/session', { schema: { tags: ['session'], summary: 'Log out', response: { 204: { type: 'null' }, ...errorResponses } } }, async (req, reply) => {
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (token) {
      await deps.clients.identity.logout({ sessionToken: token }, PLATFORM);
      deps.auth.forgetSession(token);
    }
    reply.header('set-cookie', serializeCookie(SESSION_COOKIE, '', { expires: new Date(0), secure: deps.env.SESSION_COOKIE_SECURE }));
    return reply.code(204).send();
  });

  app.get('/v1/me', { schema: { tags: ['session'], summary: 'Who am I', response: { 200: meSchema, ...errorResponses } } }, async (req) => me(req.caller!));
}

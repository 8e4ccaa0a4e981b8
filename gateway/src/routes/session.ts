import { roleToJSON, SecondFactorStep } from '@crm/contracts/crm/identity/v1/identity';
import type { FastifyInstance } from 'fastify';
import { PLATFORM, SESSION_COOKIE, toCaller, type Caller } from '../auth';
import { readCookie, serializeCookie } from '../cookies';
import { AUTHENTICATED, json, problems, WITH_BODY } from '../schemas';
import type { GatewayDeps } from '../deps';
import { enforceLimits } from '../limiter';

/** The `Me` JSON of a caller (also the body of the login's second step). */
export function me(c: Caller) {
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
      config: { public: true, signIn: true },
      schema: {
        tags: ['session'],
        operationId: 'login',
        summary: 'Log in (sets the session cookie)',
        description:
          'A right password opens a session (200, the cookie set) unless the user has two-factor sign-in, or the tenant requires it of their role: then 202 with a challenge and no cookie (`second_factor: code` — send a code; `enroll` — enrol an authenticator first).',
        security: [],
        body: { $ref: 'Session#' },
        response: {
          200: json('Logged in; the session cookie is set', { $ref: 'Me#' }, { 'set-cookie': { type: 'string', description: 'crm_session=…; HttpOnly; SameSite=Lax' } }),
          202: json('The password was right and a second factor is needed: no cookie yet; continue with `POST /v1/session/second-factor`', { $ref: 'SecondFactorChallenge#' }),
          ...problems(...WITH_BODY, 401, 429, 503, 504),
        },
      },
    },
    async (req, reply) => {
      // Per client address, shared by every replica (LOGIN_RATE_PER_IP): a guessing flood is refused before identity hashes.
      await enforceLimits(reply, 'too many sign-in attempts from this address; try again later', [deps.limits.loginPerIp, req.ip]);
      const res = await deps.clients.identity.login(
        { tenantSlug: req.body.tenant, email: req.body.email, password: req.body.password, clientAddress: req.ip, userAgent: String(req.headers['user-agent'] ?? '').slice(0, 512) },
        PLATFORM,
      );
      if (res.challengeToken) {
        const step = res.secondFactor === SecondFactorStep.SECOND_FACTOR_STEP_ENROLL ? 'enroll' : 'code';
        return reply.code(202).send({ second_factor: step, challenge: res.challengeToken, expires_at: res.challengeExpiresAt });
      }
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

/**
 * Sessions people can manage (issue 16 §2): /v1/me/sessions (list, end one, end all / all others) and an
 * admin's /v1/team/users/{id}/sessions.
 *
 * Ending a session here tells identity, which ends it and publishes SessionsEnded: every gateway replica
 * (this one too, revocations.ts) forgets what it cached of the session at once and closes its live stream.
 * This replica also forgets at once, before the event comes back.
 */
import type { SessionInfo } from '@crm/contracts/crm/identity/v1/security';
import { DomainError } from '@crm/errors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requireScope, SESSION_COOKIE, type Caller } from '../auth';
import { readCookie, serializeCookie } from '../cookies';
import type { GatewayDeps } from '../deps';
import { AUTHENTICATED, idParam, json, problems, uuid } from '../schemas';

const dateTime = { type: 'string', format: 'date-time' } as const;

export const sessionInfoSchema = {
  $id: 'SessionInfo',
  type: 'object',
  description: 'An open session (signed in, not ended, not past its absolute or idle end)',
  required: ['id', 'user_id', 'created_at', 'last_seen_at', 'expires_at', 'idle_expires_at', 'address', 'user_agent', 'second_factor', 'current'],
  properties: {
    id: { ...uuid, description: 'The session id (never its token)' },
    user_id: uuid,
    created_at: { ...dateTime, description: 'When it was opened (the login)' },
    last_seen_at: { ...dateTime, description: 'Its last request, to the minute' },
    expires_at: { ...dateTime, description: 'The absolute end (SESSION_ABSOLUTE_HOURS after the login)' },
    idle_expires_at: { ...dateTime, description: 'It ends then unless used before (SESSION_IDLE_MINUTES after the last request)' },
    address: { type: 'string', description: "The client address it was opened from ('' when unknown)" },
    user_agent: { type: 'string', description: "The User-Agent it was opened with ('' when none)" },
    second_factor: { type: 'boolean', description: 'Opened with a second factor' },
    current: { type: 'boolean', description: 'The session of this call' },
  },
} as const;

export const sessionListSchema = {
  $id: 'SessionList',
  type: 'object',
  description: 'Open sessions, newest first (at most 100)',
  required: ['items'],
  properties: { items: { type: 'array', maxItems: 100, items: { $ref: 'SessionInfo#' } } },
} as const;

export const sessionsEndedSchema = {
  $id: 'SessionsEnded',
  type: 'object',
  required: ['ended'],
  properties: { ended: { type: 'integer', minimum: 0, description: 'How many sessions this call ended' } },
} as const;

export const sessionsSchemas: { $id: string }[] = [sessionInfoSchema, sessionListSchema, sessionsEndedSchema];

const sessionIdParam = idParam;
const SESSION_ONLY = 'Only with the session cookie of the web UI (an API key has no sessions: 403).';

function sessionOut(s: SessionInfo) {
  return {
    id: s.id,
    user_id: s.userId,
    created_at: s.createdAt,
    last_seen_at: s.lastSeenAt,
    expires_at: s.expiresAt,
    idle_expires_at: s.idleExpiresAt,
    address: s.address,
    user_agent: s.userAgent,
    second_factor: s.secondFactor,
    current: s.current,
  };
}

/** The caller's session (the `/v1/me/sessions` routes are for signed-in users only). */
function ownSession(caller: Caller): string {
  if (caller.via !== 'session' || !caller.principal.sessionId) {
    throw new DomainError('PERMISSION_DENIED', 'sessions are managed with the session of a signed-in user; an API key has no sessions');
  }
  return caller.principal.sessionId;
}

export async function sessionsRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients, auth } = deps;

  /** The current session ended: this replica forgets it and the browser drops its cookie. */
  const signedOutHere = (req: FastifyRequest, reply: FastifyReply) => {
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (token) auth.forgetSession(token);
    reply.header('set-cookie', serializeCookie(SESSION_COOKIE, '', { expires: new Date(0), secure: deps.env.SESSION_COOKIE_SECURE }));
  };

  app.get(
    '/v1/me/sessions',
    {
      schema: {
        tags: ['session'],
        operationId: 'listMySessions',
        summary: 'My open sessions, newest first (the current one marked)',
        description: SESSION_ONLY,
        security: [{ session: [] }],
        response: { 200: json('The open sessions', { $ref: 'SessionList#' }), ...problems(...AUTHENTICATED) },
      },
    },
    async (req) => {
      const caller = req.caller!;
      const current = ownSession(caller);
      const res = await clients.security.listOwnSessions({ currentSessionId: current }, caller.tenant);
      return { items: res.sessions.map(sessionOut) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/me/sessions/:id',
    {
      schema: {
        tags: ['session'],
        operationId: 'endMySession',
        summary: 'Sign out one of my sessions',
        description: `${SESSION_ONLY} Another user's session is a 404; an ended one of mine is a 204 again. Ending the current session also clears the cookie.`,
        security: [{ session: [] }],
        params: sessionIdParam,
        response: { 204: { type: 'null', description: 'Ended' }, ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req, reply) => {
      const caller = req.caller!;
      const current = ownSession(caller);
      await clients.security.endOwnSession({ id: req.params.id }, caller.tenant);
      auth.forgetSessionId(req.params.id);
      if (req.params.id.toLowerCase() === current.toLowerCase()) signedOutHere(req, reply);
      return reply.code(204).send();
    },
  );

  app.delete<{ Querystring: { keep_current: boolean } }>(
    '/v1/me/sessions',
    {
      schema: {
        tags: ['session'],
        operationId: 'endMySessions',
        summary: 'Sign out everywhere else (keep_current=true) or everywhere (keep_current=false)',
        description: `${SESSION_ONLY} With keep_current=false the current session ends too and the cookie is cleared.`,
        security: [{ session: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['keep_current'],
          properties: { keep_current: { type: 'boolean', description: 'true: keep this session (sign out elsewhere); false: end it too' } },
        },
        response: { 200: json('How many sessions ended', { $ref: 'SessionsEnded#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req, reply) => {
      const caller = req.caller!;
      const current = ownSession(caller);
      const keep = req.query.keep_current;
      const res = await clients.security.endOwnSessions({ keepCurrent: keep, currentSessionId: current }, caller.tenant);
      if (keep) auth.forgetSubject(caller.principal.subjectId, current);
      else {
        auth.forgetSubject(caller.principal.subjectId);
        signedOutHere(req, reply);
      }
      return { ended: res.ended };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/team/users/:id/sessions',
    {
      schema: {
        tags: ['team'],
        operationId: 'listTeamUserSessions',
        summary: "A user's open sessions (admins)",
        description: 'Admins only (scope identity:admin). Another tenant\'s user is a 404.',
        params: idParam,
        response: { 200: json('The open sessions', { $ref: 'SessionList#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const res = await clients.security.listUserSessions({ userId: req.params.id }, req.caller!.tenant);
      return { items: res.sessions.map(sessionOut) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/team/users/:id/sessions',
    {
      schema: {
        tags: ['team'],
        operationId: 'endTeamUserSessions',
        summary: "End every session of a user (admins)",
        description: 'Admins only (scope identity:admin). The user is signed out on every device at once (every gateway replica). Another tenant\'s user is a 404.',
        params: idParam,
        response: { 200: json('How many sessions ended', { $ref: 'SessionsEnded#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const res = await clients.security.endUserSessions({ userId: req.params.id }, req.caller!.tenant);
      auth.forgetSubject(req.params.id);
      return { ended: res.ended };
    },
  );
}

/**
 * Login locks for admins (issue 16 §1): GET /v1/security/login-locks, DELETE /v1/security/login-locks/{id}.
 */
import type { LoginLock } from '@crm/contracts/crm/identity/v1/security';
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth';
import type { GatewayDeps } from '../deps';
import { AUTHENTICATED, idParam, json, problems, uuid } from '../schemas';

const dateTime = { type: 'string', format: 'date-time' } as const;

export const loginLockSchema = {
  $id: 'LoginLock',
  type: 'object',
  description:
    'An account (tenant + e-mail as typed at sign-in, whether or not it is a user) with failed sign-in attempts in the current window, or locked',
  required: ['id', 'email', 'user_id', 'failures', 'last_failure_at', 'last_address', 'locked', 'locked_until'],
  properties: {
    id: { ...uuid, description: 'Pass to DELETE /v1/security/login-locks/{id} to unlock' },
    email: { type: 'string', format: 'idn-email', description: 'Lower-cased, as typed at sign-in' },
    user_id: { anyOf: [uuid, { type: 'null' }], description: 'The active user with that e-mail; null when there is none' },
    failures: { type: 'integer', minimum: 0, description: 'Failed attempts in the current window (LOGIN_FAILURE_WINDOW_SECONDS)' },
    last_failure_at: { anyOf: [dateTime, { type: 'null' }] },
    last_address: { type: ['string', 'null'], description: 'The client address of the last failed attempt' },
    locked: { type: 'boolean' },
    locked_until: { anyOf: [dateTime, { type: 'null' }], description: 'While locked: when the lock ends by itself' },
  },
} as const;

export const loginLockListSchema = {
  $id: 'LoginLockList',
  type: 'object',
  description: 'Locked accounts first, then by the last failure, newest first',
  required: ['items', 'next_cursor'],
  properties: {
    items: { type: 'array', items: { $ref: 'LoginLock#' } },
    next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page' },
  },
} as const;

export const securitySchemas: { $id: string }[] = [loginLockSchema, loginLockListSchema];

export function loginLockOut(l: LoginLock) {
  return {
    id: l.id,
    email: l.email,
    user_id: l.userId ?? null,
    failures: l.failures,
    last_failure_at: l.lastFailureAt ?? null,
    last_address: l.lastAddress ?? null,
    locked: !!l.lockedUntil,
    locked_until: l.lockedUntil ?? null,
  };
}

const cursor = { type: 'string', minLength: 1, maxLength: 300, pattern: '^[A-Za-z0-9_-]+$', description: 'The next_cursor of the previous page, unchanged' } as const;
const limit = { type: 'integer', minimum: 1, maximum: 200, default: 50 } as const;

export async function securityRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;

  app.get<{ Querystring: { locked_only?: boolean; limit?: number; cursor?: string } }>(
    '/v1/security/login-locks',
    {
      schema: {
        tags: ['security'],
        operationId: 'listLoginLocks',
        summary: "The tenant's accounts with recent failed sign-in attempts, and the locked ones",
        description:
          'Admins only (scope identity:admin). Failures are counted per account (tenant + e-mail, known or not) and per client address; ' +
          'LOGIN_ACCOUNT_LOCK_AFTER failures in LOGIN_FAILURE_WINDOW_SECONDS lock the account for LOGIN_LOCK_SECONDS.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { locked_only: { type: 'boolean', default: false, description: 'Only the locked accounts' }, limit, cursor },
        },
        response: { 200: json('A page of accounts', { $ref: 'LoginLockList#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const q = req.query;
      const res = await clients.security.listLoginLocks({ lockedOnly: q.locked_only ?? false, pageSize: q.limit ?? 50, cursor: q.cursor ?? '' }, req.caller!.tenant);
      return { items: res.locks.map(loginLockOut), next_cursor: res.nextCursor || null };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/security/login-locks/:id',
    {
      schema: {
        tags: ['security'],
        operationId: 'unlockLogin',
        summary: "Unlock an account: clear its failed attempts and its lock (idempotent)",
        description: "Admins only (scope identity:admin). Audited as `login.unlocked`. The client address's own count is not cleared.",
        params: idParam,
        response: { 200: json('The account, unlocked', { $ref: 'LoginLock#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const res = await clients.security.unlockLogin({ id: req.params.id }, req.caller!.tenant);
      return loginLockOut(res.lock!);
    },
  );
}

import { DomainError } from '@crm/errors';
import { fromServiceError, isServiceError } from '@crm/grpc';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PLATFORM, requireScope } from '../auth';
import type { GatewayDeps } from '../deps';
import { dniScript } from '../dni-script';
import { enforceLimits } from '../limiter';
import { kindIn, leaseOut, numberFieldsIn, numberOut, poolFieldsIn, poolOut, statsOut, type KindWord, type NumberBody, type PoolBody } from '../number-mappers';
import { cursorParam, NUMBER_KINDS, numberNamedSchemas } from '../number-schemas';
import { problem, sendProblem, toProblem } from '../problem';
import { AUTHENTICATED, json, problems, strictIdParam as idParam, strictUuid, WITH_BODY } from '../schemas';

/** Named schemas of the numbers, pools and DNI routes. */
export const numberSchemas: { $id: string }[] = numberNamedSchemas;

const REASONS = new Set(['number_taken', 'number_in_pool', 'number_archived', 'pool_archived', 'origin_not_allowed']);

/** A telephony refusal as problem+json, with its machine-readable `reason` when it has one of ours. */
async function answer<T>(req: FastifyRequest, reply: FastifyReply, work: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await work();
  } catch (err) {
    const e = isServiceError(err) ? fromServiceError(err) : err;
    const reason = e instanceof DomainError && typeof e.details.reason === 'string' && REASONS.has(e.details.reason) ? e.details.reason : undefined;
    if (!reason) throw e;
    return sendProblem(reply, { ...toProblem(e), reason }, req);
  }
}

const publicIdParam = {
  type: 'object',
  additionalProperties: false,
  required: ['public_id'],
  properties: { public_id: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,64}$' } },
} as const;

const numberListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: NUMBER_KINDS },
    pool_id: strictUuid,
    include_archived: { type: 'boolean', default: false },
    search: { type: 'string', pattern: '^[0-9 ()+-]{1,30}$', description: 'Digits anywhere in the phone' },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
    cursor: cursorParam,
  },
} as const;

const poolListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { include_archived: { type: 'boolean', default: false }, limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 }, cursor: cursorParam },
} as const;

const statsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    since: { type: 'string', format: 'date-time', description: 'Default: 7 days before `until`' },
    until: { type: 'string', format: 'date-time', description: 'Default: now' },
  },
} as const;

/** CORS of the public DNI endpoints: the Origin is echoed only on an accepted answer (telephony checks it against the pool's allowed origins). */
function cors(reply: FastifyReply, origin: string | undefined): FastifyReply {
  reply.header('vary', 'Origin');
  if (origin) reply.header('access-control-allow-origin', origin);
  return reply;
}

const originOf = (req: FastifyRequest): string => {
  const o = req.headers.origin;
  return typeof o === 'string' && o.length <= 300 ? o : '';
};

/**
 * Numbers (`GET` with `calls:read`, writes with `telephony:admin`), pools (`telephony:admin`), their
 * stats, and the public DNI endpoints and script (no credential; limited per client address).
 */
export async function numberRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;

  // ---- numbers --------------------------------------------------------------------------------------------

  app.get<{ Querystring: { kind?: KindWord; pool_id?: string; include_archived?: boolean; search?: string; limit?: number; cursor?: string } }>(
    '/v1/numbers',
    {
      schema: {
        tags: ['numbers'],
        operationId: 'listNumbers',
        summary: "The tenant's phone numbers, newest first (filters: kind, pool, archived, digits)",
        querystring: numberListQuery,
        response: { 200: json('A page of numbers', { $ref: 'PhoneNumberPage#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'calls:read');
      const q = req.query;
      const res = await clients.numbers.listNumbers(
        { pageSize: q.limit ?? 50, pageToken: q.cursor ?? '', kind: kindIn(q.kind), poolId: q.pool_id ?? '', includeArchived: q.include_archived === true, search: q.search ?? '' },
        req.caller!.tenant,
      );
      return { items: res.numbers.map(numberOut), next_cursor: res.nextPageToken || null };
    },
  );

  app.post<{ Body: NumberBody }>(
    '/v1/numbers',
    {
      schema: {
        tags: ['numbers'],
        operationId: 'createNumber',
        summary: 'Add a phone number (one active number per phone across the platform)',
        body: { $ref: 'CreateNumber#' },
        response: {
          201: json('Created', { $ref: 'PhoneNumber#' }, { location: { type: 'string', description: 'The new number: /v1/numbers/{id}' } }),
          ...problems(...WITH_BODY, 409, ...AUTHENTICATED),
        },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'telephony:admin');
      const { fields } = numberFieldsIn(req.body);
      return answer(req, reply, async () => {
        const n = (await clients.numbers.createNumber({ number: fields, defaultCountry: req.body.default_country ?? deps.env.DEFAULT_PHONE_COUNTRY }, req.caller!.tenant)).number!;
        return reply.code(201).header('location', `/v1/numbers/${n.id}`).send(numberOut(n));
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/numbers/:id',
    {
      schema: { tags: ['numbers'], operationId: 'getNumber', summary: 'A phone number', params: idParam, response: { 200: json('The number', { $ref: 'PhoneNumber#' }), ...problems(400, 404, ...AUTHENTICATED) } },
    },
    async (req) => {
      requireScope(req.caller!, 'calls:read');
      return numberOut((await clients.numbers.getNumber({ id: req.params.id }, req.caller!.tenant)).number!);
    },
  );

  app.patch<{ Params: { id: string }; Body: NumberBody }>(
    '/v1/numbers/:id',
    {
      schema: {
        tags: ['numbers'],
        operationId: 'updateNumber',
        summary: 'Change the fields present (not the phone; an archived number cannot change)',
        params: idParam,
        body: { $ref: 'UpdateNumber#' },
        response: { 200: json('The number', { $ref: 'PhoneNumber#' }), ...problems(...WITH_BODY, 404, 409, ...AUTHENTICATED) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'telephony:admin');
      const { fields, mask } = numberFieldsIn(req.body);
      return answer(req, reply, async () => numberOut((await clients.numbers.updateNumber({ id: req.params.id, number: fields, updateMask: mask }, req.caller!.tenant)).number!));
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/numbers/:id/archive',
    {
      schema: {
        tags: ['numbers'],
        operationId: 'archiveNumber',
        summary: 'Archive a number (it leaves its pool; its calls stay; its phone may be added again)',
        params: idParam,
        response: { 200: json('The archived number', { $ref: 'PhoneNumber#' }), ...problems(400, 404, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'telephony:admin');
      return numberOut((await clients.numbers.archiveNumber({ id: req.params.id }, req.caller!.tenant)).number!);
    },
  );

  // ---- pools ----------------------------------------------------------------------------------------------

  app.get<{ Querystring: { include_archived?: boolean; limit?: number; cursor?: string } }>(
    '/v1/number-pools',
    {
      schema: {
        tags: ['numbers'],
        operationId: 'listNumberPools',
        summary: 'Dynamic number insertion pools, newest first',
        querystring: poolListQuery,
        response: { 200: json('A page of pools', { $ref: 'NumberPoolPage#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'telephony:admin');
      const res = await clients.numbers.listPools({ pageSize: req.query.limit ?? 50, pageToken: req.query.cursor ?? '', includeArchived: req.query.include_archived === true }, req.caller!.tenant);
      return { items: res.pools.map(poolOut), next_cursor: res.nextPageToken || null };
    },
  );

  app.post<{ Body: PoolBody }>(
    '/v1/number-pools',
    {
      schema: {
        tags: ['numbers'],
        operationId: 'createNumberPool',
        summary: "A site's DNI pool (advertising numbers, each in at most one pool)",
        body: { $ref: 'CreateNumberPool#' },
        response: {
          201: json('Created', { $ref: 'NumberPool#' }, { location: { type: 'string', description: 'The new pool: /v1/number-pools/{id}' } }),
          ...problems(...WITH_BODY, 409, ...AUTHENTICATED),
        },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'telephony:admin');
      const { fields } = poolFieldsIn(req.body);
      return answer(req, reply, async () => {
        const p = (await clients.numbers.createPool({ pool: fields }, req.caller!.tenant)).pool!;
        return reply.code(201).header('location', `/v1/number-pools/${p.id}`).send(poolOut(p));
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/number-pools/:id',
    {
      schema: { tags: ['numbers'], operationId: 'getNumberPool', summary: 'A DNI pool', params: idParam, response: { 200: json('The pool', { $ref: 'NumberPool#' }), ...problems(400, 404, ...AUTHENTICATED) } },
    },
    async (req) => {
      requireScope(req.caller!, 'telephony:admin');
      return poolOut((await clients.numbers.getPool({ id: req.params.id }, req.caller!.tenant)).pool!);
    },
  );

  app.patch<{ Params: { id: string }; Body: PoolBody }>(
    '/v1/number-pools/:id',
    {
      schema: {
        tags: ['numbers'],
        operationId: 'updateNumberPool',
        summary: 'Change the fields present; archived: true archives the pool and frees its numbers',
        params: idParam,
        body: { $ref: 'UpdateNumberPool#' },
        response: { 200: json('The pool', { $ref: 'NumberPool#' }), ...problems(...WITH_BODY, 404, 409, ...AUTHENTICATED) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'telephony:admin');
      const { fields, mask } = poolFieldsIn(req.body);
      return answer(req, reply, async () =>
        poolOut((await clients.numbers.updatePool({ id: req.params.id, pool: fields, updateMask: mask, archived: req.body.archived }, req.caller!.tenant)).pool!),
      );
    },
  );

  app.get<{ Params: { id: string }; Querystring: { since?: string; until?: string } }>(
    '/v1/number-pools/:id/stats',
    {
      schema: {
        tags: ['numbers'],
        operationId: 'getNumberPoolStats',
        summary: 'Lends, fallback shows, calls and how they were attributed (collision rate) over [since, until)',
        params: idParam,
        querystring: statsQuery,
        response: { 200: json('The stats', { $ref: 'NumberPoolStats#' }), ...problems(400, 404, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'telephony:admin');
      const until = req.query.until ? new Date(req.query.until) : new Date();
      const since = req.query.since ? new Date(req.query.since) : new Date(until.getTime() - 7 * 86_400_000);
      if (Number.isNaN(since.getTime()) || Number.isNaN(until.getTime())) throw Object.assign(new Error('since and until must be RFC 3339 times'), { statusCode: 400 });
      const s = await clients.numbers.getPoolStats({ poolId: req.params.id, since: since.toISOString(), until: until.toISOString() }, req.caller!.tenant);
      return statsOut(s, since.toISOString(), until.toISOString());
    },
  );

  // ---- public DNI -----------------------------------------------------------------------------------------

  for (const what of ['lend', 'heartbeat'] as const) {
    app.options(`/v1/public/dni/:public_id/${what}`, { schema: { hide: true }, config: { public: true, embeddable: true } }, async (req, reply) =>
      cors(reply, originOf(req) || undefined)
        .header('access-control-allow-methods', 'POST, OPTIONS')
        .header('access-control-allow-headers', 'content-type')
        .header('access-control-max-age', '600')
        .code(204)
        .send(),
    );
  }

  const publicDni = (what: 'lend' | 'heartbeat') => ({
    config: { public: true, embeddable: true },
    schema: {
      tags: ['dni'],
      operationId: what === 'lend' ? 'lendDniNumber' : 'heartbeatDniNumber',
      summary: what === 'lend' ? "Lend a pool number to a site visitor's session (the DNI script; no credential)" : "Keep a session's number lent (the DNI script; no credential)",
      description:
        what === 'lend'
          ? 'The same session keeps its number while its lease lives; otherwise the free number released longest ago. Every number lent: the fallback (`fallback: true`). ' +
            "A pool with allowed origins answers only those sites' browsers (403 otherwise)."
          : 'Extends the lease by the pool\'s quiet period; a lapsed lease gets a number again (maybe another).',
      security: [],
      params: publicIdParam,
      body: { $ref: what === 'lend' ? 'DniLend#' : 'DniHeartbeat#' },
      response: { 200: json('The number to show', { $ref: 'DniLease#' }), ...problems(...WITH_BODY, 403, 404, 429, 503, 504) },
    },
  });

  app.post<{ Params: { public_id: string }; Body: { session_id: string } & Record<string, string | undefined> }>('/v1/public/dni/:public_id/lend', publicDni('lend'), async (req, reply) => {
    await enforceLimits(reply, 'too many DNI requests from this address; slow down', [deps.limits.dniPerIp, req.ip]);
    const origin = originOf(req);
    const b = req.body;
    const lease = await answer(req, reply, () => clients.dni.lendNumber(
      {
        poolPublicId: req.params.public_id,
        sessionId: b.session_id,
        utmSource: b.utm_source ?? '',
        utmMedium: b.utm_medium ?? '',
        utmCampaign: b.utm_campaign ?? '',
        utmContent: b.utm_content ?? '',
        utmTerm: b.utm_term ?? '',
        landingPage: b.landing_page ?? '',
        referrer: b.referrer ?? (typeof req.headers.referer === 'string' ? req.headers.referer.slice(0, 2000) : ''),
        origin,
      },
      PLATFORM,
    ));
    if (!('phone' in lease)) return lease;
    return cors(reply, origin || undefined).send(leaseOut(lease));
  });

  app.post<{ Params: { public_id: string }; Body: { session_id: string } }>('/v1/public/dni/:public_id/heartbeat', publicDni('heartbeat'), async (req, reply) => {
    await enforceLimits(reply, 'too many DNI requests from this address; slow down', [deps.limits.dniPerIp, req.ip]);
    const origin = originOf(req);
    const lease = await answer(req, reply, () => clients.dni.heartbeat({ poolPublicId: req.params.public_id, sessionId: req.body.session_id, origin }, PLATFORM));
    if (!('phone' in lease)) return lease;
    return cors(reply, origin || undefined).send(leaseOut(lease));
  });

  app.get<{ Params: { file: string } }>('/dni/:file', { schema: { hide: true }, config: { embeddable: true } }, async (req, reply) => {
    const m = /^([A-Za-z0-9_-]{8,64})\.js$/.exec(req.params.file);
    if (!m) return sendProblem(reply, problem(404, 'no such script'), req);
    return reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .header('access-control-allow-origin', '*')
      .send(dniScript(m[1]!));
  });
}

import { DomainError } from '@crm/errors';
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth';
import type { GatewayDeps } from '../deps';
import { AUTHENTICATED, json, problems, WITH_BODY } from '../schemas';
import { decisionOut, routeInputIn, routingProblemOut, routingVersionOut, ruleIn, strategyIn, type RouteInputBody, type RuleBody } from '../work-mappers';
import { utc } from './work';

/** `{version}`: a version number, or `published`. */
const versionParam = {
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: { version: { type: 'string', pattern: '^(published|[1-9][0-9]{0,8})$', description: 'A version number, or `published`' } },
} as const;

/** A version number for intake (0: the published one); beyond int32 is a 400. */
function versionIn(v: string): number {
  if (v === 'published') return 0;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1 || n > 2147483647) throw new DomainError('INVALID_ARGUMENT', 'version must be a version number or `published`', { violations: [{ field: 'version', message: 'out of range' }] });
  return n;
}

interface DraftBody {
  rules: RuleBody[];
  fallback_department_id?: string | null;
  fallback_strategy?: string;
  comment?: string;
}

/**
 * Routing between departments (intake's RoutingService): versioned rule sets, their problems, publishing,
 * and the simulator. Reads and the simulator: `requests:read`; drafts and publishing: `routing:write`
 * (identity and intake keep the finer checks).
 */
export async function routingRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;

  app.get<{ Querystring: { limit?: number } }>(
    '/v1/routing/versions',
    {
      schema: {
        tags: ['routing'],
        operationId: 'listRoutingVersions',
        summary: 'Routing versions, newest first (without their rules)',
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 } } },
        response: { 200: json('The versions', { $ref: 'RoutingVersionList#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'requests:read');
      const res = await clients.routing.listRoutingVersions({ pageSize: req.query.limit ?? 50 }, req.caller!.tenant);
      return { items: res.versions.map((v) => routingVersionOut(v, false)) };
    },
  );

  app.get<{ Params: { version: string } }>(
    '/v1/routing/versions/:version',
    {
      schema: {
        tags: ['routing'],
        operationId: 'getRoutingVersion',
        summary: 'A routing version with its rules (`published`: the one in force)',
        params: versionParam,
        response: { 200: json('The version', { $ref: 'RoutingVersion#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'requests:read');
      const res = await clients.routing.getRoutingVersion({ version: versionIn(req.params.version) }, req.caller!.tenant);
      return routingVersionOut(res.version!);
    },
  );

  app.post<{ Body: DraftBody }>(
    '/v1/routing/drafts',
    {
      schema: {
        tags: ['routing'],
        operationId: 'saveRoutingDraft',
        summary: 'Save a rule set as a new draft version',
        description: 'Structural errors (bad values, duplicate rule ids, more than 500 rules) are a 400 naming the rule; the semantic problems publishing would refuse are listed with the saved draft.',
        body: { $ref: 'RoutingDraft#' },
        response: { 201: json('The draft and its problems', { $ref: 'SavedRoutingDraft#' }), ...problems(...WITH_BODY, ...AUTHENTICATED) },
      },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'routing:write');
      const b = req.body;
      const res = await clients.routing.saveDraft(
        { rules: b.rules.map(ruleIn), fallbackDepartmentId: b.fallback_department_id ?? '', fallbackStrategy: strategyIn(b.fallback_strategy ?? 'queue'), comment: b.comment ?? '' },
        req.caller!.tenant,
      );
      return reply.code(201).send({ version: routingVersionOut(res.version!), problems: res.problems.map(routingProblemOut) });
    },
  );

  app.get<{ Params: { version: string } }>(
    '/v1/routing/versions/:version/problems',
    {
      schema: {
        tags: ['routing'],
        operationId: 'validateRoutingVersion',
        summary: 'What publishing this version would refuse',
        description: 'Unknown departments / projects / users, unreachable rules, overflow cycles, no fallback.',
        params: versionParam,
        response: { 200: json('The problems (none: it can be published)', { $ref: 'RoutingProblemList#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'requests:read');
      const res = await clients.routing.validateRouting({ version: versionIn(req.params.version) }, req.caller!.tenant);
      return { items: res.problems.map(routingProblemOut) };
    },
  );

  app.post<{ Params: { version: string }; Body: { expected_published_version: number } }>(
    '/v1/routing/versions/:version/publish',
    {
      schema: {
        tags: ['routing'],
        operationId: 'publishRoutingVersion',
        summary: 'Publish a draft (atomically; new requests use it from now on)',
        description: 'A version with problems is a 409 listing them (`problems`); another publish since `expected_published_version` is a 409 too.',
        params: versionParam,
        body: { $ref: 'RoutingPublish#' },
        response: { 200: json('The published version', { $ref: 'RoutingVersion#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'routing:write');
      const res = await clients.routing.publishRouting(
        { version: versionIn(req.params.version), expectedPublishedVersion: req.body.expected_published_version },
        req.caller!.tenant,
      );
      return routingVersionOut(res.version!);
    },
  );

  app.post<{ Body: { version?: number; input: RouteInputBody; rules?: RuleBody[]; fallback_department_id?: string | null; fallback_strategy?: string } }>(
    '/v1/routing/simulate',
    {
      schema: {
        tags: ['routing'],
        operationId: 'simulateRoute',
        summary: 'Where a sample request would go, and why',
        description: 'Under `version` (default: the published one) or an unsaved `rules` set; names the deciding rule, why each earlier one did not match, and whom the strategy would pick now (no round-robin pointer moves).',
        body: { $ref: 'RouteSimulation#' },
        response: { 200: json('The decision', { $ref: 'RouteDecision#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'requests:read');
      const b = req.body;
      const res = await clients.routing.simulateRoute(
        {
          version: b.version ?? 0,
          input: routeInputIn(b.input, utc('input.at', b.input.at)),
          rules: (b.rules ?? []).map(ruleIn),
          fallbackDepartmentId: b.fallback_department_id ?? '',
          fallbackStrategy: strategyIn(b.fallback_strategy ?? 'queue'),
          useRules: b.rules !== undefined,
        },
        req.caller!.tenant,
      );
      return decisionOut(res.decision!);
    },
  );
}

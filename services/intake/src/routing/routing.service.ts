/**
 * Routing between departments: versioned rule sets (drafts, validation, atomic publish), the simulator,
 * the live decision for channel services, and the decision at request creation (RequestsService calls
 * `prepare` before its transaction and `route` inside it).
 *
 * The published version of a tenant is cached in this replica for PUBLISHED_CACHE_MS (2 s) and dropped
 * here on publish: another replica routes by the previous version for at most that long after a publish.
 */
import { TeamServiceService } from '@crm/contracts/crm/identity/v1/team';
import type { RouteDecision, RouteInput, RoutingRule, RoutingVersion, AssignmentStrategy } from '@crm/contracts/crm/intake/v1/routing';
import type { EntityManager, MikroORM } from '@crm/db';
import { DomainError, NotFoundError, type FieldViolation } from '@crm/errors';
import { createClient, type PromiseClient, type TenantContext } from '@crm/grpc';
import type { Logger } from '@crm/logger';
import { addBusinessMinutes } from '@crm/schedule';
import type { ContactMatcher } from '../contacts';
import type { DecidedRoute } from '../domain/create-request';
import { throwIfInvalid } from '../domain/validation';
import { channelName } from '../mappers';
import { scheduleOf, toRoster, type Roster, type TeamDirectory } from '../team';
import { assign, LivePicker, PeekPicker, type Assignment } from './assign';
import { cachedCompiled, compile, compiled, decide, type Compiled, type Match, type RouteFacts } from './evaluate';
import { CLIENT_STATES, DIALED_KINDS, parseRuleSet, ruleToProto, strategyToProto, UUID_RE, type Rule, type RuleSet, type StrategyName } from './rules';
import { validateRuleSet, type Problem } from './validate';

export const PUBLISHED_CACHE_MS = 2000;

interface VersionRow {
  version: number;
  status: 'draft' | 'published' | 'archived';
  rules: Rule[];
  fallback_department_id: string | null;
  fallback_strategy: StrategyName;
  comment: string | null;
  created_at: Date;
  created_by: string;
  published_at: Date | null;
  published_by: string | null;
  rule_count?: number;
}

/** What createOnce needs from routing, fetched before its transaction (no connection held meanwhile). */
export interface RoutePlan {
  compiled: Compiled | null;
  /** null: identity unreachable (rules still evaluated, working hours count as open, nobody assigned). */
  roster: Roster | null;
}

export interface RoutedRequest {
  match: Match | null;
  assignment: Assignment | null;
  slaDueAt: Date | null;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : '');

function toProtoVersion(row: VersionRow, withRules: boolean): RoutingVersion {
  return {
    version: row.version,
    status: row.status,
    rules: withRules ? row.rules.map(ruleToProto) : [],
    fallbackDepartmentId: row.fallback_department_id ?? '',
    fallbackStrategy: strategyToProto(row.fallback_strategy),
    createdAt: iso(row.created_at),
    createdBy: row.created_by,
    publishedAt: iso(row.published_at),
    publishedBy: row.published_by ?? '',
    comment: row.comment ?? '',
    ruleCount: row.rule_count ?? row.rules.length,
  };
}

const setOf = (row: VersionRow): RuleSet => ({ rules: row.rules, fallbackDepartmentId: row.fallback_department_id, fallbackStrategy: row.fallback_strategy });

export function toProtoDecision(m: Match, a: Assignment | null): RouteDecision {
  return {
    version: m.version,
    ruleId: m.rule?.id ?? '',
    departmentId: a?.departmentId ?? m.departmentId ?? '',
    strategy: strategyToProto(a?.strategy ?? m.strategy),
    assigneeId: a?.assigneeId ?? '',
    assignedBy: a?.assignedBy ?? 'none',
    overflowPath: a?.overflowPath ?? [],
    trace: m.trace.map((t) => ({ ruleId: t.ruleId, matched: t.matched, failedCondition: t.failedCondition, disabled: t.disabled })),
    unassignedReason: a?.unassignedReason ?? '',
  };
}

/** Drafts and publishing: services, API keys (the gateway checked `routing:write`), admins and heads of sales. */
function requireWriter(ctx: TenantContext): void {
  if (ctx.callerKind !== 'user') return;
  const roles = ctx.roles ?? [];
  if (roles.includes('admin') || roles.includes('head_of_sales')) return;
  throw new DomainError('PERMISSION_DENIED', 'only an admin or a head of sales may change routing');
}

function problemsDetail(problems: Problem[]): Record<string, unknown> {
  // @crm/grpc forwards string values of details.public: the list travels as JSON text.
  return { public: { problems: JSON.stringify(problems.map((p) => ({ rule_id: p.ruleId, rule_index: p.ruleIndex, code: p.code, message: p.message }))) } };
}

export class RoutingService {
  private readonly identity: PromiseClient<typeof TeamServiceService>;
  private readonly published = new Map<string, { value: Promise<Compiled | null>; until: number }>();
  private readonly projects = new Map<string, { ids: Promise<Set<string>>; until: number }>();

  constructor(
    private readonly orm: MikroORM,
    private readonly team: TeamDirectory,
    identityAddr: string,
    private readonly logger: Logger,
    /** How long a tenant's project list is reused (the roster's cache time). */
    private readonly projectCacheMs: number,
    private readonly contacts?: ContactMatcher,
  ) {
    this.identity = createClient(TeamServiceService, { address: identityAddr, defaultDeadlineMs: 2000, idempotent: ['listProjects', 'getRoster'] });
  }

  close(): void {
    this.identity.close();
  }

  // ---- versions ------------------------------------------------------------------------------------

  async saveDraft(ctx: TenantContext, req: { rules: RoutingRule[]; fallbackDepartmentId: string; fallbackStrategy: AssignmentStrategy; comment: string }): Promise<{ version: RoutingVersion; problems: Problem[] }> {
    requireWriter(ctx);
    const set = parseRuleSet(req);
    const problems = await this.problemsOf(ctx.tenantId, set);
    const row = await this.orm.em.fork().transactional(async (em) => {
      await em.execute('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`intake:routing:${ctx.tenantId}`]);
      const [{ next }] = await em.execute<{ next: number }[]>('SELECT COALESCE(max(version), 0) + 1 AS next FROM routing_versions WHERE tenant_id = ?', [ctx.tenantId]);
      const [r] = await em.execute<VersionRow[]>(
        `INSERT INTO routing_versions (tenant_id, version, status, rules, fallback_department_id, fallback_strategy, comment, created_at, created_by)
         VALUES (?, ?, 'draft', ?::jsonb, ?, ?, ?, now(), ?) RETURNING *`,
        [ctx.tenantId, next, JSON.stringify(set.rules), set.fallbackDepartmentId, set.fallbackStrategy, set.comment, ctx.callerId],
      );
      return r;
    });
    return { version: toProtoVersion(row, true), problems };
  }

  private async load(em: EntityManager, tenantId: string, version: number): Promise<VersionRow> {
    if (!Number.isInteger(version) || version < 0) throw new DomainError('INVALID_ARGUMENT', 'version must be ≥ 0', { violations: [{ field: 'version', message: 'must be ≥ 0' }] });
    const rows =
      version === 0
        ? await em.execute<VersionRow[]>(`SELECT * FROM routing_versions WHERE tenant_id = ? AND status = 'published'`, [tenantId])
        : await em.execute<VersionRow[]>('SELECT * FROM routing_versions WHERE tenant_id = ? AND version = ?', [tenantId, version]);
    if (!rows.length) throw new NotFoundError('routing version', version === 0 ? 'published' : String(version));
    return rows[0];
  }

  async getVersion(tenantId: string, version: number): Promise<RoutingVersion> {
    return toProtoVersion(await this.load(this.orm.em.fork(), tenantId, version), true);
  }

  async listVersions(tenantId: string, pageSize: number): Promise<RoutingVersion[]> {
    const limit = pageSize > 0 ? Math.min(pageSize, 200) : 50;
    const rows = await this.orm.em
      .fork()
      .execute<VersionRow[]>(
        `SELECT version, status, '[]'::jsonb AS rules, jsonb_array_length(rules) AS rule_count, fallback_department_id, fallback_strategy, comment, created_at, created_by, published_at, published_by
           FROM routing_versions WHERE tenant_id = ? ORDER BY version DESC LIMIT ?`,
        [tenantId, limit],
      );
    return rows.map((r) => toProtoVersion(r, false));
  }

  /** The tenant's departments (roster, fresh) and projects (identity): what a rule set may name. */
  private async problemsOf(tenantId: string, set: RuleSet): Promise<Problem[]> {
    let roster: Roster;
    let projects: Set<string>;
    try {
      roster = await this.team.roster(tenantId, { fresh: true });
      projects = await this.projectIds(tenantId, true);
    } catch (err) {
      throw new DomainError('UNAVAILABLE', 'identity is unreachable: the rule set cannot be checked now, try again', { cause: err });
    }
    return validateRuleSet(set, { departmentIds: new Set(roster.departments.keys()), projectIds: projects });
  }

  async validate(tenantId: string, version: number): Promise<Problem[]> {
    const row = await this.load(this.orm.em.fork(), tenantId, version);
    return this.problemsOf(tenantId, setOf(row));
  }

  async publish(ctx: TenantContext, version: number, expectedPublished: number): Promise<RoutingVersion> {
    requireWriter(ctx);
    if (!Number.isInteger(version) || version < 1) throw new DomainError('INVALID_ARGUMENT', 'version is required', { violations: [{ field: 'version', message: 'must be a saved version (≥ 1)' }] });
    const draft = await this.load(this.orm.em.fork(), ctx.tenantId, version);
    const problems = await this.problemsOf(ctx.tenantId, setOf(draft));
    if (problems.length)
      throw new DomainError('FAILED_PRECONDITION', `routing version ${version} has ${problems.length} problem(s): ${problems.map((p) => `${p.ruleId || 'set'}: ${p.code}`).join('; ')}`, {
        details: { reason: 'routing_problems', ...problemsDetail(problems) },
      });
    const row = await this.orm.em.fork().transactional(async (em) => {
      await em.execute('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`intake:routing:${ctx.tenantId}`]);
      const [current] = await em.execute<{ version: number }[]>(`SELECT version FROM routing_versions WHERE tenant_id = ? AND status = 'published'`, [ctx.tenantId]);
      const now = current?.version ?? 0;
      if (now !== expectedPublished)
        throw new DomainError('CONFLICT', `the published version is ${now}, not ${expectedPublished}`, { details: { reason: 'published_version_changed', public: { current: String(now) } } });
      const [target] = await em.execute<VersionRow[]>('SELECT status FROM routing_versions WHERE tenant_id = ? AND version = ? FOR UPDATE', [ctx.tenantId, version]);
      if (target.status !== 'draft') throw new DomainError('FAILED_PRECONDITION', `version ${version} is ${target.status}, only a draft can be published`, { details: { reason: 'not_a_draft' } });
      await em.execute(`UPDATE routing_versions SET status = 'archived' WHERE tenant_id = ? AND status = 'published'`, [ctx.tenantId]);
      const [r] = await em.execute<VersionRow[]>(
        `UPDATE routing_versions SET status = 'published', published_at = now(), published_by = ? WHERE tenant_id = ? AND version = ? RETURNING *`,
        [ctx.callerId, ctx.tenantId, version],
      );
      return r;
    });
    this.published.delete(ctx.tenantId);
    return toProtoVersion(row, true);
  }

  // ---- decisions -----------------------------------------------------------------------------------

  /** The published version compiled (cached PUBLISHED_CACHE_MS); null before the first publish. */
  publishedVersion(tenantId: string): Promise<Compiled | null> {
    const now = Date.now();
    const hit = this.published.get(tenantId);
    if (hit && hit.until > now) return hit.value;
    const value = this.orm.em
      .fork()
      .execute<VersionRow[]>(`SELECT * FROM routing_versions WHERE tenant_id = ? AND status = 'published'`, [tenantId])
      .then(([row]) => (row ? compiled(tenantId, row.version, () => setOf(row)) : null));
    if (this.published.size > 10_000) this.published.clear();
    this.published.set(tenantId, { value, until: now + PUBLISHED_CACHE_MS });
    value.catch(() => {
      if (this.published.get(tenantId)?.value === value) this.published.delete(tenantId);
    });
    return value;
  }

  private async projectIds(tenantId: string, fresh = false): Promise<Set<string>> {
    const now = Date.now();
    const hit = this.projects.get(tenantId);
    if (!fresh && hit && hit.until > now) return hit.ids;
    const ids = this.identity
      .listProjects({ includeArchived: true }, { tenantId, callerId: 'intake', callerKind: 'service' })
      .then((r) => new Set(r.projects.map((p) => p.id)));
    if (this.projectCacheMs > 0) {
      if (this.projects.size > 10_000) this.projects.clear();
      this.projects.set(tenantId, { ids, until: now + this.projectCacheMs });
      ids.catch(() => {
        if (this.projects.get(tenantId)?.ids === ids) this.projects.delete(tenantId);
      });
    }
    return ids;
  }

  /** A roster at `at` (the simulator asking about another time), or the cached one now. */
  private async rosterAt(tenantId: string, at: Date | null): Promise<Roster> {
    if (at === null || Math.abs(at.getTime() - Date.now()) < 60_000) return this.team.roster(tenantId);
    const res = await this.identity.getRoster({ at: at.toISOString() }, { tenantId, callerId: 'intake', callerKind: 'service' });
    return toRoster(res);
  }

  /**
   * Before the create transaction: the published version and (when there is one) the roster. Identity
   * unreachable: the roster is null (logged) and the request is routed by department only. An unknown
   * project id is INVALID_ARGUMENT (not checked while identity is unreachable).
   */
  async prepare(tenantId: string, projectId: string | null, opts: { decided?: boolean } = {}): Promise<RoutePlan> {
    // No published version (cached): nothing to route by, identity is not asked for the roster — unless
    // a channel service's decision is to be checked against it.
    const compiledSet = await this.publishedVersion(tenantId);
    const [roster, known] = await Promise.all([
      compiledSet === null && !opts.decided
        ? null
        : this.team.roster(tenantId).catch((err: unknown) => {
            this.logger.warn({ tenantId, err: (err as Error).message }, 'identity unreachable: routing without the roster (nobody assigned, no SLA timer)');
            return null;
          }),
      projectId === null
        ? null
        : this.projectIds(tenantId).catch((err: unknown) => {
            this.logger.warn({ tenantId, projectId, err: (err as Error).message }, 'identity unreachable: the project id is not checked');
            return null;
          }),
    ]);
    if (projectId !== null && known !== null && !known.has(projectId))
      throw new DomainError('INVALID_ARGUMENT', `CreateRequest is invalid: project_id ${projectId} is not a project of this tenant`, {
        violations: [{ field: 'project_id', message: 'is not a project of this tenant' }],
      });
    return { compiled: compiledSet, roster };
  }

  /** Inside the create transaction: the decision, the assignment (moving the pointer) and the SLA due time. */
  async route(em: EntityManager, tenantId: string, plan: RoutePlan, facts: RouteFacts): Promise<RoutedRequest> {
    if (plan.compiled === null) return { match: null, assignment: null, slaDueAt: null };
    const match = decide(plan.compiled, facts, plan.roster, { trace: false });
    const assignment = await assign(match, plan.compiled, plan.roster, facts.ownerId, new LivePicker(em, tenantId));
    let slaDueAt: Date | null = null;
    const dept = assignment.departmentId === null ? undefined : plan.roster?.departments.get(assignment.departmentId);
    if (plan.roster !== null && dept && dept.slaFirstResponseMinutes > 0)
      slaDueAt = addBusinessMinutes(scheduleOf(dept, plan.roster.tenantTimeZone), facts.at, dept.slaFirstResponseMinutes);
    return { match, assignment, slaDueAt };
  }

  /**
   * A channel service's decision (CreateRequest.decided: telephony asked DecideRoute and rang someone),
   * taken instead of routing again, so no round-robin pointer moves twice. null when the department is
   * not in the roster (gone, or identity unreachable): the caller routes as usual. An assignee who is not
   * a member of the department is dropped: the request waits in the department's queue.
   */
  fromDecision(plan: RoutePlan, d: DecidedRoute, at: Date): RoutedRequest | null {
    const roster = plan.roster;
    const dept = roster?.departments.get(d.departmentId);
    if (!roster || !dept) return null;
    const user = d.assigneeId ? roster.users.get(d.assigneeId) : undefined;
    const assigneeId = user && user.departmentIds.includes(d.departmentId) ? d.assigneeId : null;
    const index = plan.compiled?.rules.findIndex((r) => r.rule.id === d.ruleId) ?? -1;
    const rule = index >= 0 ? plan.compiled!.rules[index]!.rule : null;
    const strategy: StrategyName = rule?.strategy ?? 'queue';
    const by = (['owner', 'round_robin', 'least_loaded'] as const).find((b) => b === d.assignedBy);
    const match: Match = { version: d.version || plan.compiled?.version || 0, rule, ruleIndex: index, departmentId: d.departmentId, strategy, ownerFirst: false, overflowDepartmentId: null, trace: [] };
    const assignment: Assignment = {
      departmentId: d.departmentId,
      strategy,
      assigneeId,
      assignedBy: assigneeId ? (by ?? 'round_robin') : 'none',
      overflowPath: [],
      unassignedReason: assigneeId ? '' : 'nobody_eligible',
    };
    const slaDueAt = dept.slaFirstResponseMinutes > 0 ? addBusinessMinutes(scheduleOf(dept, roster.tenantTimeZone), at, dept.slaFirstResponseMinutes) : null;
    return { match, assignment, slaDueAt };
  }

  /** The simulator: a draft, the published version or an unsaved set; whom the strategy would pick now (no pointer moved). */
  async simulate(
    ctx: TenantContext,
    req: { version: number; input?: RouteInput; rules: RoutingRule[]; fallbackDepartmentId: string; fallbackStrategy: AssignmentStrategy; useRules: boolean },
  ): Promise<RouteDecision> {
    const facts = parseInput(req.input, 'input');
    let c: Compiled;
    if (req.useRules || (req.version === 0 && req.rules.length > 0)) {
      c = compile(parseRuleSet({ rules: req.rules, fallbackDepartmentId: req.fallbackDepartmentId, fallbackStrategy: req.fallbackStrategy }, 'SimulateRoute'), 0);
    } else if (req.version === 0) {
      const published = await this.publishedVersion(ctx.tenantId);
      if (published === null) throw new NotFoundError('routing version', 'published');
      c = published;
    } else {
      const hit = cachedCompiled(ctx.tenantId, req.version);
      if (hit) c = hit;
      else {
        const row = await this.load(this.orm.em.fork(), ctx.tenantId, req.version);
        c = compiled(ctx.tenantId, row.version, () => setOf(row));
      }
    }
    const roster = await this.rosterAt(ctx.tenantId, facts.explicitAt ? facts.at : null).catch((err: unknown) => {
      this.logger.warn({ tenantId: ctx.tenantId, err: (err as Error).message }, 'identity unreachable: simulating without the roster');
      return null;
    });
    const match = decide(c, facts, roster);
    const assignment = await assign(match, c, roster, facts.ownerId, new PeekPicker(this.orm.em.fork(), ctx.tenantId));
    return toProtoDecision(match, assignment);
  }

  /** The live decision (telephony, chat): published version, roster now, pointer moved; no request written. */
  async decideLive(ctx: TenantContext, input: RouteInput | undefined): Promise<RouteDecision> {
    const facts = parseInput(input, 'input');
    if (input && input.clientState === '' && input.ownerId === '' && (input.phone !== '' || input.email !== '') && this.contacts?.lookup) {
      const found = await this.contacts.lookup(ctx.tenantId, { phone: input.phone, email: input.email });
      if (found) {
        facts.clientState = found.clientState;
        facts.ownerId = found.ownerId;
      }
    }
    const c = await this.publishedVersion(ctx.tenantId);
    if (c === null) throw new DomainError('FAILED_PRECONDITION', 'no routing version is published yet', { details: { reason: 'no_published_routing' } });
    const roster = await this.team.roster(ctx.tenantId).catch(() => null);
    const match = decide(c, facts, roster);
    const assignment = await this.orm.em.fork().transactional((em) => assign(match, c, roster, facts.ownerId, new LivePicker(em, ctx.tenantId)));
    return toProtoDecision(match, assignment);
  }
}

/** A RouteInput checked and normalised (INVALID_ARGUMENT naming `input.<field>`). */
export function parseInput(input: RouteInput | undefined, prefix: string): RouteFacts & { explicitAt: boolean } {
  const v: FieldViolation[] = [];
  const i = input ?? { channel: 0, dialedNumberKind: '', projectId: '', utmSource: '', clientState: '', ownerId: '', phone: '', email: '', at: '' };
  const channel = i.channel === 0 ? '' : channelName(i.channel);
  if (i.channel !== 0 && channel === '') v.push({ field: `${prefix}.channel`, message: 'is not a known channel' });
  const dialed = i.dialedNumberKind.trim().toLowerCase() || 'none';
  if (!(DIALED_KINDS as readonly string[]).includes(dialed)) v.push({ field: `${prefix}.dialed_number_kind`, message: `must be one of ${DIALED_KINDS.join(', ')}` });
  const projectId = i.projectId.trim().toLowerCase() || null;
  if (projectId !== null && !UUID_RE.test(projectId)) v.push({ field: `${prefix}.project_id`, message: 'must be a UUID' });
  const utm = i.utmSource.trim().toLowerCase() || null;
  if (utm !== null && utm.length > 200) v.push({ field: `${prefix}.utm_source`, message: 'must be at most 200 characters' });
  const clientState = i.clientState.trim().toLowerCase() || 'none';
  if (!(CLIENT_STATES as readonly string[]).includes(clientState)) v.push({ field: `${prefix}.client_state`, message: `must be one of ${CLIENT_STATES.join(', ')}` });
  const ownerId = i.ownerId.trim().toLowerCase() || null;
  if (ownerId !== null && !UUID_RE.test(ownerId)) v.push({ field: `${prefix}.owner_id`, message: 'must be a UUID' });
  let at = new Date();
  const explicitAt = i.at.trim() !== '';
  if (explicitAt) {
    const t = Date.parse(i.at);
    if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(i.at.trim())) v.push({ field: `${prefix}.at`, message: 'must be an RFC 3339 time' });
    else at = new Date(t);
  }
  throwIfInvalid('RouteInput', v);
  return { channel: channel as RouteFacts['channel'], dialedNumberKind: dialed, projectId, utmSource: utm, clientState, ownerId, at, explicitAt };
}

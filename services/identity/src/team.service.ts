import type { Sessions } from './security/sessions';
import type { Role } from '@crm/contracts/crm/identity/v1/identity';
import type { DepartmentKind, WorkSchedule } from '@crm/contracts/crm/identity/v1/team';
import { isUuid, uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError, ValidationError } from '@crm/errors';
import type { TenantContext } from '@crm/grpc';
import { randomBytes } from 'node:crypto';
import { audit, type Actor } from './audit';
import { isUniqueViolation } from './db';
import { IDENTITY_ADMIN_SCOPE } from './domain/access';
import { hashPassword } from './domain/password';
import { isWellFormedSessionToken, sha256 } from './domain/secrets';
import {
  checkIdList,
  checkInstant,
  checkKind,
  checkProjectCode,
  checkSchedule,
  checkSla,
  decodeKeyset,
  effectiveSchedule,
  encodeKeyset,
  INVITE_TTL_MS,
  isAwayAt,
  isOnShift,
  likePattern,
  parseInstant,
  QUERY_MAX,
  SHIFT_LIST_MAX_MS,
  SHIFT_MAX_MS,
  SLA_DEFAULT,
  type StoredKind,
  type StoredSchedule,
} from './domain/team';
import { checkEmail, checkName, checkPassword, checkRoles, Violations } from './domain/validation';
import { isOpen } from '@crm/schedule';

export const TEAM_PAGE_DEFAULT = 50;
export const TEAM_PAGE_MAX = 200;

/** Who calls, resolved from this service's own rows (never from the call's metadata roles). */
export interface TeamCaller {
  actor: Actor;
  /** A service, an admin user or an `identity:admin` key: every write. */
  admin: boolean;
  /** Departments a HEAD_OF_SALES heads (empty for everyone else). */
  headed: string[];
  tenantTimeZone: string;
}

/** A users row as the team reads it (raw SQL: timestamps may arrive as strings). */
export interface TeamUserRow {
  id: string;
  email: string;
  display_name: string;
  roles: string[];
  department_ids: string[];
  headed_department_ids: string[];
  active: boolean;
  invited: boolean;
  away: boolean;
  away_until: string | Date | null;
  deactivated_at: string | Date | null;
  created_at: string | Date;
  updated_at: string | Date;
}

export interface TeamDepartmentRow {
  id: string;
  name: string;
  kind: StoredKind;
  sla_first_response_minutes: number;
  schedule: StoredSchedule | string;
  created_at: string | Date;
  updated_at: string | Date;
  head_user_ids: string[];
  member_count: number;
}

export interface ProjectRow {
  id: string;
  name: string;
  code: string;
  archived: boolean;
  created_at: string | Date;
  updated_at: string | Date;
}

export interface ShiftRow {
  id: string;
  user_id: string;
  starts_at: string | Date;
  ends_at: string | Date;
  created_at: string | Date;
}

export interface AuditRow {
  id: string;
  at: string | Date;
  actor_kind: string;
  actor_id: string;
  action: string;
  target: string;
  details: unknown;
}

export interface RosterResult {
  at: Date;
  tenantTimeZone: string;
  departments: (TeamDepartmentRow & { open: boolean })[];
  users: (TeamUserRow & { awayNow: boolean; onShift: boolean })[];
}

const USER_COLS = `u.id, u.email, u.display_name, u.roles, u.department_ids::text[] AS department_ids,
  u.headed_department_ids::text[] AS headed_department_ids, u.active, u.invite_token_hash IS NOT NULL AS invited,
  u.away, u.away_until, u.deactivated_at, u.created_at, u.updated_at`;

const DEPT_COLS = `d.id, d.name, d.kind, d.sla_first_response_minutes, d.schedule, d.created_at, d.updated_at,
  ARRAY(SELECT h.id::text FROM users h WHERE h.tenant_id = d.tenant_id AND h.active AND d.id = ANY(h.headed_department_ids) ORDER BY h.id) AS head_user_ids,
  (SELECT count(*)::int FROM users m WHERE m.tenant_id = d.tenant_id AND m.active AND m.department_ids @> ARRAY[d.id]) AS member_count`;

const PROJECT_COLS = 'id, name, code, archived, created_at, updated_at';
const SHIFT_COLS = 's.id, s.user_id, s.starts_at, s.ends_at, s.created_at';

/** PostgreSQL array literal of ids that were validated as uuids. */
const pgArray = (ids: readonly string[]) => `{${ids.join(',')}}`;

/** A text[] column; some drivers hand arrays of unknown element types back as the literal. */
export function arrayOf(value: string[] | string | null | undefined): string[] {
  if (Array.isArray(value)) return value;
  if (!value || value === '{}') return [];
  return value.slice(1, -1).split(',').filter(Boolean);
}

export const toDate = (v: string | Date): Date => (v instanceof Date ? v : new Date(v));
const toDateOrNull = (v: string | Date | null): Date | null => (v === null ? null : toDate(v));

/** The stored schedule in a fixed key order (jsonb keeps its own), so two equal schedules stringify alike. */
export function scheduleOfRow(row: { schedule: StoredSchedule | string }): StoredSchedule {
  const s = (typeof row.schedule === 'string' ? JSON.parse(row.schedule) : row.schedule) as Partial<StoredSchedule> | null;
  return {
    timeZone: s?.timeZone ?? '',
    hours: (s?.hours ?? []).map((h) => ({ weekday: h.weekday, from: h.from, to: h.to })),
    holidays: s?.holidays ?? [],
  };
}

function denied(message = 'the caller may not change team settings'): DomainError {
  return new DomainError('PERMISSION_DENIED', message);
}

function alreadyExists(field: string, message: string): DomainError {
  return new DomainError('ALREADY_EXISTS', message, { violations: [{ field, message: 'is taken' }] });
}

function normaliseRows<T extends TeamUserRow>(rows: T[]): T[] {
  for (const r of rows) {
    r.department_ids = arrayOf(r.department_ids);
    r.headed_department_ids = arrayOf(r.headed_department_ids);
  }
  return rows;
}

function normaliseDepartments(rows: TeamDepartmentRow[]): TeamDepartmentRow[] {
  for (const r of rows) r.head_user_ids = arrayOf(r.head_user_ids);
  return rows;
}

/** The stored values of a user as written to the audit log (no token, no hash). */
function auditUser(u: TeamUserRow) {
  return {
    email: u.email,
    displayName: u.display_name,
    roles: u.roles,
    departmentIds: u.department_ids,
    headedDepartmentIds: u.headed_department_ids,
    active: u.active,
    away: u.away,
    awayUntil: u.away_until === null ? null : toDate(u.away_until).toISOString(),
  };
}

/**
 * crm.identity.v1.TeamService: team settings of the call's tenant. Every query is scoped by the tenant,
 * so another tenant's id is NOT_FOUND like a missing one; every write is one transaction with its audit row.
 */
export class TeamService {
  constructor(
    private readonly orm: MikroORM,
    /** Ends a deactivated user's sessions (with SessionsEnded for the gateways). */
    private readonly sessions: Sessions,
  ) {}

  private em(): EntityManager {
    return this.orm.em.fork();
  }

  /**
   * Resolves the caller from this database: a service (the tenant must exist), an active user (roles and
   * headed departments read fresh) or an unrevoked API key of the tenant. Anyone else: PERMISSION_DENIED.
   */
  async caller(ctx: TenantContext): Promise<TeamCaller> {
    const actor: Actor = { kind: ctx.callerKind, id: ctx.callerId };
    if (!isUuid(ctx.tenantId)) {
      if (ctx.callerKind === 'service') throw new NotFoundError('tenant', ctx.tenantId.slice(0, 64));
      throw denied('the caller does not belong to this tenant');
    }
    const em = this.em();
    switch (ctx.callerKind) {
      case 'service': {
        const rows = await em.execute<{ time_zone: string }[]>('SELECT time_zone FROM tenants WHERE id = ?', [ctx.tenantId]);
        if (!rows[0]) throw new NotFoundError('tenant', ctx.tenantId);
        return { actor, admin: true, headed: [], tenantTimeZone: rows[0].time_zone };
      }
      case 'user': {
        if (!isUuid(ctx.callerId)) throw denied('the caller does not belong to this tenant');
        const rows = await em.execute<{ roles: string[]; headed: string[] | string; time_zone: string }[]>(
          `SELECT u.roles, u.headed_department_ids::text[] AS headed, t.time_zone
             FROM users u JOIN tenants t ON t.id = u.tenant_id
            WHERE u.tenant_id = ? AND u.id = ? AND u.active`,
          [ctx.tenantId, ctx.callerId],
        );
        const row = rows[0];
        if (!row) throw denied('the caller does not belong to this tenant');
        const head = row.roles.includes('head_of_sales');
        return { actor, admin: row.roles.includes('admin'), headed: head ? arrayOf(row.headed) : [], tenantTimeZone: row.time_zone };
      }
      case 'api_key': {
        if (!isUuid(ctx.callerId)) throw denied('the caller does not belong to this tenant');
        const rows = await em.execute<{ scopes: string[]; time_zone: string }[]>(
          `SELECT k.scopes, t.time_zone FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
            WHERE k.tenant_id = ? AND k.id = ? AND k.revoked_at IS NULL`,
          [ctx.tenantId, ctx.callerId],
        );
        if (!rows[0]) throw denied('the caller does not belong to this tenant');
        return { actor, admin: rows[0].scopes.includes(IDENTITY_ADMIN_SCOPE), headed: [], tenantTimeZone: rows[0].time_zone };
      }
    }
  }

  private requireAdmin(c: TeamCaller): void {
    if (!c.admin) throw denied();
  }

  private requireDepartment(c: TeamCaller, departmentId: string): void {
    if (!c.admin && !c.headed.includes(departmentId)) throw denied('a head of sales may change only the departments they head');
  }

  /** A member of a department the caller heads (or any user for an admin); a head may also manage themselves. */
  private requireMember(c: TeamCaller, user: TeamUserRow): void {
    if (c.admin) return;
    if (c.headed.length && (user.id === c.actor.id || user.department_ids.some((d) => c.headed.includes(d)))) return;
    throw denied('a head of sales may manage only the members of the departments they head');
  }

  // ---- users ---------------------------------------------------------------------------------------

  private async lockUser(em: EntityManager, tenantId: string, id: string): Promise<TeamUserRow> {
    const rows = isUuid(id) ? await em.execute<TeamUserRow[]>(`SELECT ${USER_COLS} FROM users u WHERE u.tenant_id = ? AND u.id = ? FOR UPDATE`, [tenantId, id]) : [];
    if (!rows[0]) throw new NotFoundError('user', id.slice(0, 64));
    return normaliseRows(rows)[0];
  }

  private async readUser(em: EntityManager, tenantId: string, id: string): Promise<TeamUserRow> {
    const rows = await em.execute<TeamUserRow[]>(`SELECT ${USER_COLS} FROM users u WHERE u.tenant_id = ? AND u.id = ?`, [tenantId, id]);
    if (!rows[0]) throw new NotFoundError('user', id.slice(0, 64));
    return normaliseRows(rows)[0];
  }

  /** Every id must be a department of this tenant (another tenant's: NOT_FOUND like a missing one). */
  private async requireDepartmentsExist(em: EntityManager, tenantId: string, ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    const rows = await em.execute<{ id: string }[]>('SELECT id::text AS id FROM departments WHERE tenant_id = ? AND id = ANY(?::uuid[])', [tenantId, pgArray(ids)]);
    const found = new Set(rows.map((r) => r.id));
    const missing = ids.find((id) => !found.has(id));
    if (missing) throw new NotFoundError('department', missing);
  }

  /** No change may leave the tenant without an active admin (serialised per tenant). */
  private async requireAnotherAdmin(em: EntityManager, tenantId: string, userId: string): Promise<void> {
    await em.execute('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`identity:admins:${tenantId}`]);
    const rows = await em.execute<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM users WHERE tenant_id = ? AND id <> ? AND active AND 'admin' = ANY(roles)`,
      [tenantId, userId],
    );
    if (rows[0].n === 0) throw new DomainError('FAILED_PRECONDITION', 'the last active admin of the tenant cannot be deactivated or lose the admin role');
  }

  async inviteUser(
    tenantId: string,
    c: TeamCaller,
    input: { email: string; displayName: string; roles: Role[]; departmentIds: string[]; headedDepartmentIds: string[] },
  ): Promise<{ user: TeamUserRow; token: string; expiresAt: Date }> {
    const v = new Violations();
    const email = checkEmail(v, 'email', input.email);
    const displayName = checkName(v, 'display_name', input.displayName);
    const roles = checkRoles(v, 'roles', input.roles);
    const departmentIds = checkIdList(v, 'department_ids', input.departmentIds);
    const headed = checkIdList(v, 'headed_department_ids', input.headedDepartmentIds);
    if (headed.length && !roles.includes('head_of_sales')) v.add('headed_department_ids', 'only a HEAD_OF_SALES heads departments');
    v.throwIfAny();
    if (!c.admin) {
      // A head of sales invites sellers into the departments they head, nothing more.
      const sellerOnly = roles.length === 1 && roles[0] === 'seller';
      if (!c.headed.length || !sellerOnly || headed.length || !departmentIds.length || departmentIds.some((d) => !c.headed.includes(d)))
        throw denied('a head of sales may invite only sellers into the departments they head');
    }
    const token = randomBytes(32).toString('base64url');
    const now = new Date();
    const expiresAt = new Date(now.getTime() + INVITE_TTL_MS);
    try {
      const user = await this.em().transactional(async (em) => {
        await this.requireDepartmentsExist(em, tenantId, [...new Set([...departmentIds, ...headed])]);
        const id = uuidv7();
        await em.execute(
          `INSERT INTO users (id, tenant_id, email, display_name, password_hash, roles, department_id, department_ids, headed_department_ids,
                              active, invite_token_hash, invite_expires_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, '', ?::text[], ?, ?::uuid[], ?::uuid[], false, ?, ?, ?, ?)`,
          [id, tenantId, email, displayName, pgArray(roles), departmentIds[0] ?? null, pgArray(departmentIds), pgArray(headed), sha256(token), expiresAt, now, now],
        );
        const row = await this.readUser(em, tenantId, id);
        audit(em, tenantId, c.actor, 'user.invited', `user:${id}`, { after: { ...auditUser(row), inviteExpiresAt: expiresAt.toISOString() } });
        return row;
      });
      return { user, token, expiresAt };
    } catch (err) {
      if (isUniqueViolation(err, 'users_tenant_email_key')) throw alreadyExists('email', `a user with e-mail ${email} exists`);
      throw err;
    }
  }

  /** Pre-authentication: the token decides the tenant. Unknown, used or expired tokens: NOT_FOUND. */
  async acceptInvite(token: string, password: string): Promise<{ user: TeamUserRow; tenantSlug: string }> {
    const v = new Violations();
    if (token === '') v.add('token', 'must not be empty');
    checkPassword(v, 'password', password);
    v.throwIfAny();
    const notFound = () => new NotFoundError('invite', 'token');
    if (!isWellFormedSessionToken(token)) throw notFound();
    const hash = sha256(token);
    const probe = await this.em().execute<{ id: string }[]>('SELECT id FROM users WHERE invite_token_hash = ? AND invite_expires_at > now()', [hash]);
    if (!probe[0]) throw notFound();
    // scrypt is slow on purpose: hash outside the transaction.
    const passwordHash = await hashPassword(password);
    return this.em().transactional(async (em) => {
      const rows = await em.execute<{ id: string; tenant_id: string; slug: string }[]>(
        `SELECT u.id, u.tenant_id, t.slug FROM users u JOIN tenants t ON t.id = u.tenant_id
          WHERE u.invite_token_hash = ? AND u.invite_expires_at > now() FOR UPDATE OF u`,
        [hash],
      );
      const row = rows[0];
      if (!row) throw notFound();
      const now = new Date();
      await em.execute(
        `UPDATE users SET password_hash = ?, active = true, deactivated_at = NULL, invite_token_hash = NULL, invite_expires_at = NULL, updated_at = ?
          WHERE tenant_id = ? AND id = ?`,
        [passwordHash, now, row.tenant_id, row.id],
      );
      const user = await this.readUser(em, row.tenant_id, row.id);
      audit(em, row.tenant_id, { kind: 'user', id: row.id }, 'user.invite_accepted', `user:${row.id}`, { after: { active: true } });
      return { user, tenantSlug: row.slug };
    });
  }

  async updateUser(
    tenantId: string,
    c: TeamCaller,
    input: { id: string; displayName?: string; roles?: Role[]; departmentIds?: string[]; headedDepartmentIds?: string[] },
  ): Promise<TeamUserRow> {
    const v = new Violations();
    const displayName = input.displayName === undefined ? undefined : checkName(v, 'display_name', input.displayName);
    const roles = input.roles === undefined ? undefined : checkRoles(v, 'roles', input.roles);
    const departmentIds = input.departmentIds === undefined ? undefined : checkIdList(v, 'department_ids', input.departmentIds);
    const headed = input.headedDepartmentIds === undefined ? undefined : checkIdList(v, 'headed_department_ids', input.headedDepartmentIds);
    v.throwIfAny();
    this.requireAdmin(c);
    return this.em().transactional(async (em) => {
      const before = await this.lockUser(em, tenantId, input.id);
      const nextRoles = roles ?? before.roles;
      const nextHeaded = headed ?? before.headed_department_ids;
      if (nextHeaded.length && !nextRoles.includes('head_of_sales')) {
        throw new ValidationError('invalid headed_department_ids', [{ field: headed ? 'headed_department_ids' : 'roles', message: 'only a HEAD_OF_SALES heads departments' }]);
      }
      await this.requireDepartmentsExist(em, tenantId, [...new Set([...(departmentIds ?? []), ...(headed ?? [])])]);
      if (before.roles.includes('admin') && !nextRoles.includes('admin') && before.active) await this.requireAnotherAdmin(em, tenantId, before.id);
      const sets: string[] = [];
      const params: unknown[] = [];
      const changedBefore: Record<string, unknown> = {};
      const changedAfter: Record<string, unknown> = {};
      const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
      if (displayName !== undefined && displayName !== before.display_name) {
        sets.push('display_name = ?');
        params.push(displayName);
        changedBefore.displayName = before.display_name;
        changedAfter.displayName = displayName;
      }
      if (roles !== undefined && !same([...roles].sort(), [...before.roles].sort())) {
        sets.push('roles = ?::text[]');
        params.push(pgArray(roles));
        changedBefore.roles = before.roles;
        changedAfter.roles = roles;
      }
      if (departmentIds !== undefined && !same(departmentIds, before.department_ids)) {
        sets.push('department_ids = ?::uuid[]', 'department_id = ?');
        params.push(pgArray(departmentIds), departmentIds[0] ?? null);
        changedBefore.departmentIds = before.department_ids;
        changedAfter.departmentIds = departmentIds;
      }
      if (headed !== undefined && !same(headed, before.headed_department_ids)) {
        sets.push('headed_department_ids = ?::uuid[]');
        params.push(pgArray(headed));
        changedBefore.headedDepartmentIds = before.headed_department_ids;
        changedAfter.headedDepartmentIds = headed;
      }
      if (!sets.length) return before;
      await em.execute(`UPDATE users SET ${sets.join(', ')}, updated_at = ? WHERE tenant_id = ? AND id = ?`, [...params, new Date(), tenantId, before.id]);
      audit(em, tenantId, c.actor, 'user.updated', `user:${before.id}`, { before: changedBefore, after: changedAfter });
      return this.readUser(em, tenantId, before.id);
    });
  }

  async setUserActive(tenantId: string, c: TeamCaller, id: string, active: boolean): Promise<{ user: TeamUserRow; sessionsRevoked: number }> {
    this.requireAdmin(c);
    return this.em().transactional(async (em) => {
      const before = await this.lockUser(em, tenantId, id);
      const now = new Date();
      if (active) {
        if (before.active) return { user: before, sessionsRevoked: 0 };
        if (before.invited) throw new DomainError('FAILED_PRECONDITION', 'the user has not accepted the invite yet');
        await em.execute('UPDATE users SET active = true, deactivated_at = NULL, updated_at = ? WHERE tenant_id = ? AND id = ?', [now, tenantId, before.id]);
        audit(em, tenantId, c.actor, 'user.activated', `user:${before.id}`, { before: { active: false }, after: { active: true } });
        return { user: await this.readUser(em, tenantId, before.id), sessionsRevoked: 0 };
      }
      if (before.deactivated_at !== null) return { user: before, sessionsRevoked: 0 };
      if (before.active && before.roles.includes('admin')) await this.requireAnotherAdmin(em, tenantId, before.id);
      // A pending invite dies with the deactivation.
      await em.execute(
        'UPDATE users SET active = false, deactivated_at = ?, invite_token_hash = NULL, invite_expires_at = NULL, updated_at = ? WHERE tenant_id = ? AND id = ?',
        [now, now, tenantId, before.id],
      );
      // Ended at once, with SessionsEnded: every gateway replica drops what it cached of the user.
      const revoked = await this.sessions.endAllOfUser(em, tenantId, before.id, c.actor, 'deactivated');
      audit(em, tenantId, c.actor, 'user.deactivated', `user:${before.id}`, {
        before: { active: before.active, invited: before.invited },
        after: { active: false },
        sessionsRevoked: revoked,
      });
      return { user: await this.readUser(em, tenantId, before.id), sessionsRevoked: revoked };
    });
  }

  async setAway(tenantId: string, c: TeamCaller, input: { userId: string; away: boolean; until: string }): Promise<TeamUserRow> {
    const v = new Violations();
    let until: Date | null = null;
    if (input.until !== '') {
      if (!input.away) v.add('until', 'must be empty when away is false');
      else {
        until = checkInstant(v, 'until', input.until);
        if (until && until.getTime() <= Date.now()) v.add('until', 'must be in the future');
      }
    }
    v.throwIfAny();
    return this.em().transactional(async (em) => {
      const before = await this.lockUser(em, tenantId, input.userId);
      this.requireMember(c, before);
      const beforeUntil = toDateOrNull(before.away_until);
      if (before.away === input.away && (beforeUntil?.getTime() ?? null) === (until?.getTime() ?? null)) return before;
      await em.execute('UPDATE users SET away = ?, away_until = ?, updated_at = ? WHERE tenant_id = ? AND id = ?', [input.away, until, new Date(), tenantId, before.id]);
      audit(em, tenantId, c.actor, input.away ? 'user.away_set' : 'user.away_cleared', `user:${before.id}`, {
        before: { away: before.away, awayUntil: beforeUntil?.toISOString() ?? null },
        after: { away: input.away, awayUntil: until?.toISOString() ?? null },
      });
      return this.readUser(em, tenantId, before.id);
    });
  }

  async listUsers(
    tenantId: string,
    input: { pageSize: number; cursor: string; departmentId: string; includeInactive: boolean; query: string },
  ): Promise<{ users: TeamUserRow[]; nextCursor: string }> {
    const v = new Violations();
    if (input.pageSize < 0) v.add('page.page_size', 'must not be negative');
    let after: { name: string; id: string } | undefined;
    if (input.cursor) {
      const raw = decodeKeyset('tu', input.cursor);
      const parsed = raw === null ? null : (JSON.parse(raw) as unknown);
      const ok = Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string' && isUuid(parsed[1]);
      if (!ok) v.add('page.cursor', 'is not a cursor from this list');
      else after = { name: parsed[0] as string, id: parsed[1] as string };
    }
    if (input.departmentId !== '' && !isUuid(input.departmentId)) v.add('department_id', 'must be a department id');
    if ([...input.query].length > QUERY_MAX) v.add('query', `must be at most ${QUERY_MAX} characters`);
    v.throwIfAny();
    const size = Math.min(input.pageSize || TEAM_PAGE_DEFAULT, TEAM_PAGE_MAX);
    const where = ['u.tenant_id = ?'];
    const params: unknown[] = [tenantId];
    if (!input.includeInactive) where.push('u.deactivated_at IS NULL');
    if (input.departmentId) {
      where.push('u.department_ids @> ARRAY[?]::uuid[]');
      params.push(input.departmentId);
    }
    const q = input.query.trim();
    if (q) {
      where.push(`(u.display_name ILIKE ? ESCAPE '\\' OR u.email ILIKE ? ESCAPE '\\')`);
      params.push(likePattern(q), likePattern(q.toLowerCase()));
    }
    if (after) {
      where.push('(u.display_name, u.id) > (?, ?)');
      params.push(after.name, after.id);
    }
    const rows = normaliseRows(
      await this.em().execute<TeamUserRow[]>(`SELECT ${USER_COLS} FROM users u WHERE ${where.join(' AND ')} ORDER BY u.display_name, u.id LIMIT ?`, [...params, size + 1]),
    );
    const users = rows.slice(0, size);
    const last = users[users.length - 1];
    return { users, nextCursor: rows.length > size ? encodeKeyset('tu', JSON.stringify([last.display_name, last.id])) : '' };
  }

  async getUser(tenantId: string, id: string): Promise<TeamUserRow> {
    if (!isUuid(id)) throw new NotFoundError('user', id.slice(0, 64));
    return this.readUser(this.em(), tenantId, id);
  }

  // ---- departments ---------------------------------------------------------------------------------

  private async readDepartment(em: EntityManager, tenantId: string, id: string): Promise<TeamDepartmentRow> {
    const rows = isUuid(id) ? await em.execute<TeamDepartmentRow[]>(`SELECT ${DEPT_COLS} FROM departments d WHERE d.tenant_id = ? AND d.id = ?`, [tenantId, id]) : [];
    if (!rows[0]) throw new NotFoundError('department', id.slice(0, 64));
    return normaliseDepartments(rows)[0];
  }

  private async lockDepartment(em: EntityManager, tenantId: string, id: string): Promise<TeamDepartmentRow> {
    const rows = isUuid(id) ? await em.execute<{ id: string }[]>('SELECT id FROM departments WHERE tenant_id = ? AND id = ? FOR UPDATE', [tenantId, id]) : [];
    if (!rows[0]) throw new NotFoundError('department', id.slice(0, 64));
    return this.readDepartment(em, tenantId, id);
  }

  async createDepartment(
    tenantId: string,
    c: TeamCaller,
    input: { name: string; kind: DepartmentKind; slaFirstResponseMinutes?: number; schedule?: WorkSchedule },
  ): Promise<TeamDepartmentRow> {
    const v = new Violations();
    const name = checkName(v, 'name', input.name);
    const kind = checkKind(v, 'kind', input.kind, 'sales');
    const sla = checkSla(v, 'sla_first_response_minutes', input.slaFirstResponseMinutes ?? SLA_DEFAULT);
    const schedule = checkSchedule(v, 'schedule', input.schedule, c.tenantTimeZone);
    v.throwIfAny();
    this.requireAdmin(c);
    try {
      return await this.em().transactional(async (em) => {
        const id = uuidv7();
        const now = new Date();
        await em.execute(
          `INSERT INTO departments (id, tenant_id, name, kind, sla_first_response_minutes, schedule, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?::jsonb, ?, ?)`,
          [id, tenantId, name, kind, sla, JSON.stringify(schedule), now, now],
        );
        audit(em, tenantId, c.actor, 'department.created', `department:${id}`, { after: { name, kind, slaFirstResponseMinutes: sla, schedule } });
        return this.readDepartment(em, tenantId, id);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'departments_tenant_name_key')) throw alreadyExists('name', `a department named "${name}" exists`);
      throw err;
    }
  }

  async updateDepartment(
    tenantId: string,
    c: TeamCaller,
    input: { id: string; name?: string; kind: DepartmentKind; slaFirstResponseMinutes?: number },
  ): Promise<TeamDepartmentRow> {
    const v = new Violations();
    const name = input.name === undefined ? undefined : checkName(v, 'name', input.name);
    const kind = checkKind(v, 'kind', input.kind);
    const sla = input.slaFirstResponseMinutes === undefined ? undefined : checkSla(v, 'sla_first_response_minutes', input.slaFirstResponseMinutes);
    v.throwIfAny();
    try {
      return await this.em().transactional(async (em) => {
        const before = await this.lockDepartment(em, tenantId, input.id);
        this.requireDepartment(c, before.id);
        const sets: string[] = [];
        const params: unknown[] = [];
        const b: Record<string, unknown> = {};
        const a: Record<string, unknown> = {};
        if (name !== undefined && name !== before.name) {
          sets.push('name = ?');
          params.push(name);
          [b.name, a.name] = [before.name, name];
        }
        if (kind !== undefined && kind !== before.kind) {
          // The kind decides what routing sends there: an admin's decision.
          if (!c.admin) throw denied('a head of sales may not change the kind of a department');
          sets.push('kind = ?');
          params.push(kind);
          [b.kind, a.kind] = [before.kind, kind];
        }
        if (sla !== undefined && sla !== before.sla_first_response_minutes) {
          sets.push('sla_first_response_minutes = ?');
          params.push(sla);
          [b.slaFirstResponseMinutes, a.slaFirstResponseMinutes] = [before.sla_first_response_minutes, sla];
        }
        if (!sets.length) return before;
        await em.execute(`UPDATE departments SET ${sets.join(', ')}, updated_at = ? WHERE tenant_id = ? AND id = ?`, [...params, new Date(), tenantId, before.id]);
        audit(em, tenantId, c.actor, 'department.updated', `department:${before.id}`, { before: b, after: a });
        return this.readDepartment(em, tenantId, before.id);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'departments_tenant_name_key')) throw alreadyExists('name', `a department named "${name}" exists`);
      throw err;
    }
  }

  async setSchedule(tenantId: string, c: TeamCaller, input: { departmentId: string; schedule?: WorkSchedule }): Promise<TeamDepartmentRow> {
    const v = new Violations();
    const schedule = checkSchedule(v, 'schedule', input.schedule, c.tenantTimeZone);
    v.throwIfAny();
    return this.em().transactional(async (em) => {
      const before = await this.lockDepartment(em, tenantId, input.departmentId);
      this.requireDepartment(c, before.id);
      const old = scheduleOfRow(before);
      if (JSON.stringify(old) === JSON.stringify(schedule)) return before;
      await em.execute('UPDATE departments SET schedule = ?::jsonb, updated_at = ? WHERE tenant_id = ? AND id = ?', [JSON.stringify(schedule), new Date(), tenantId, before.id]);
      audit(em, tenantId, c.actor, 'department.schedule_set', `department:${before.id}`, { before: old, after: schedule });
      return this.readDepartment(em, tenantId, before.id);
    });
  }

  async listDepartments(tenantId: string): Promise<TeamDepartmentRow[]> {
    return normaliseDepartments(await this.em().execute<TeamDepartmentRow[]>(`SELECT ${DEPT_COLS} FROM departments d WHERE d.tenant_id = ? ORDER BY d.name, d.id`, [tenantId]));
  }

  getDepartment(tenantId: string, id: string): Promise<TeamDepartmentRow> {
    return this.readDepartment(this.em(), tenantId, id);
  }

  // ---- projects ------------------------------------------------------------------------------------

  async createProject(tenantId: string, c: TeamCaller, input: { name: string; code: string }): Promise<ProjectRow> {
    const v = new Violations();
    const name = checkName(v, 'name', input.name);
    const code = checkProjectCode(v, 'code', input.code);
    v.throwIfAny();
    this.requireAdmin(c);
    try {
      return await this.em().transactional(async (em) => {
        const now = new Date();
        const rows = await em.execute<ProjectRow[]>(
          `INSERT INTO projects (id, tenant_id, name, code, archived, created_at, updated_at) VALUES (?, ?, ?, ?, false, ?, ?) RETURNING ${PROJECT_COLS}`,
          [uuidv7(), tenantId, name, code, now, now],
        );
        audit(em, tenantId, c.actor, 'project.created', `project:${rows[0].id}`, { after: { name, code } });
        return rows[0];
      });
    } catch (err) {
      if (isUniqueViolation(err, 'projects_tenant_code_key')) throw alreadyExists('code', `a project with code "${code}" exists`);
      throw err;
    }
  }

  async updateProject(tenantId: string, c: TeamCaller, input: { id: string; name?: string; archived?: boolean }): Promise<ProjectRow> {
    const v = new Violations();
    const name = input.name === undefined ? undefined : checkName(v, 'name', input.name);
    v.throwIfAny();
    this.requireAdmin(c);
    return this.em().transactional(async (em) => {
      const rows = isUuid(input.id) ? await em.execute<ProjectRow[]>(`SELECT ${PROJECT_COLS} FROM projects WHERE tenant_id = ? AND id = ? FOR UPDATE`, [tenantId, input.id]) : [];
      const before = rows[0];
      if (!before) throw new NotFoundError('project', input.id.slice(0, 64));
      const b: Record<string, unknown> = {};
      const a: Record<string, unknown> = {};
      if (name !== undefined && name !== before.name) [b.name, a.name] = [before.name, name];
      if (input.archived !== undefined && input.archived !== before.archived) [b.archived, a.archived] = [before.archived, input.archived];
      if (!Object.keys(a).length) return before;
      const after = await em.execute<ProjectRow[]>(`UPDATE projects SET name = ?, archived = ?, updated_at = ? WHERE tenant_id = ? AND id = ? RETURNING ${PROJECT_COLS}`, [
        name ?? before.name,
        input.archived ?? before.archived,
        new Date(),
        tenantId,
        before.id,
      ]);
      audit(em, tenantId, c.actor, 'project.updated', `project:${before.id}`, { before: b, after: a });
      return after[0];
    });
  }

  listProjects(tenantId: string, includeArchived: boolean): Promise<ProjectRow[]> {
    return this.em().execute<ProjectRow[]>(`SELECT ${PROJECT_COLS} FROM projects WHERE tenant_id = ? ${includeArchived ? '' : 'AND NOT archived'} ORDER BY name, id`, [tenantId]);
  }

  // ---- shifts --------------------------------------------------------------------------------------

  async addShift(tenantId: string, c: TeamCaller, input: { userId: string; startsAt: string; endsAt: string }): Promise<ShiftRow> {
    const v = new Violations();
    const starts = checkInstant(v, 'starts_at', input.startsAt);
    const ends = checkInstant(v, 'ends_at', input.endsAt);
    if (starts && ends) {
      if (ends.getTime() <= starts.getTime()) v.add('ends_at', 'must be after starts_at');
      else if (ends.getTime() - starts.getTime() > SHIFT_MAX_MS) v.add('ends_at', 'a shift is at most 24 hours long');
    }
    v.throwIfAny();
    return this.em().transactional(async (em) => {
      const user = await this.lockUser(em, tenantId, input.userId);
      this.requireMember(c, user);
      if (user.deactivated_at !== null) throw new DomainError('FAILED_PRECONDITION', 'the user is deactivated');
      // One user's shifts are added one at a time (the user row lock above serialises them too).
      await em.execute('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`identity:shifts:${user.id}`]);
      const overlap = await em.execute<{ id: string }[]>('SELECT id FROM shifts WHERE tenant_id = ? AND user_id = ? AND starts_at < ? AND ends_at > ? LIMIT 1', [
        tenantId,
        user.id,
        ends,
        starts,
      ]);
      if (overlap[0]) throw new ValidationError('invalid starts_at', [{ field: 'starts_at', message: `overlaps shift ${overlap[0].id} of the same user` }]);
      const rows = await em.execute<ShiftRow[]>(
        `INSERT INTO shifts AS s (id, tenant_id, user_id, starts_at, ends_at, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING ${SHIFT_COLS}`,
        [uuidv7(), tenantId, user.id, starts, ends, new Date()],
      );
      audit(em, tenantId, c.actor, 'shift.added', `shift:${rows[0].id}`, { after: { userId: user.id, startsAt: starts!.toISOString(), endsAt: ends!.toISOString() } });
      return rows[0];
    });
  }

  async removeShift(tenantId: string, c: TeamCaller, id: string): Promise<void> {
    await this.em().transactional(async (em) => {
      const rows = isUuid(id) ? await em.execute<ShiftRow[]>(`SELECT ${SHIFT_COLS} FROM shifts s WHERE s.tenant_id = ? AND s.id = ? FOR UPDATE`, [tenantId, id]) : [];
      const shift = rows[0];
      if (!shift) throw new NotFoundError('shift', id.slice(0, 64));
      this.requireMember(c, await this.readUser(em, tenantId, shift.user_id));
      await em.execute('DELETE FROM shifts WHERE tenant_id = ? AND id = ?', [tenantId, shift.id]);
      audit(em, tenantId, c.actor, 'shift.removed', `shift:${shift.id}`, {
        before: { userId: shift.user_id, startsAt: toDate(shift.starts_at).toISOString(), endsAt: toDate(shift.ends_at).toISOString() },
      });
    });
  }

  async listShifts(tenantId: string, input: { from: string; to: string; userId: string; departmentId: string }): Promise<ShiftRow[]> {
    const v = new Violations();
    const from = checkInstant(v, 'from', input.from);
    const to = checkInstant(v, 'to', input.to);
    if (from && to) {
      if (to.getTime() <= from.getTime()) v.add('to', 'must be after from');
      else if (to.getTime() - from.getTime() > SHIFT_LIST_MAX_MS) v.add('to', 'the range is at most 62 days');
    }
    if (input.userId !== '' && !isUuid(input.userId)) v.add('user_id', 'must be a user id');
    if (input.departmentId !== '' && !isUuid(input.departmentId)) v.add('department_id', 'must be a department id');
    v.throwIfAny();
    const where = ['s.tenant_id = ?', 's.starts_at < ?', 's.ends_at > ?', `s.starts_at > ?::timestamptz - interval '24 hours'`];
    const params: unknown[] = [tenantId, to, from, from];
    if (input.userId) {
      where.push('s.user_id = ?');
      params.push(input.userId);
    }
    if (input.departmentId) {
      where.push('EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = s.tenant_id AND u.id = s.user_id AND u.department_ids @> ARRAY[?]::uuid[])');
      params.push(input.departmentId);
    }
    return this.em().execute<ShiftRow[]>(`SELECT ${SHIFT_COLS} FROM shifts s WHERE ${where.join(' AND ')} ORDER BY s.starts_at, s.id LIMIT 5000`, params);
  }

  // ---- roster --------------------------------------------------------------------------------------

  /** Departments, active users and the shifts around `at`: three indexed queries after the caller check. */
  async roster(tenantId: string, c: TeamCaller, atInput: string): Promise<RosterResult> {
    let at = new Date();
    if (atInput !== '') {
      const parsed = parseInstant(atInput);
      if (!parsed) throw new ValidationError('invalid at', [{ field: 'at', message: 'must be an RFC 3339 timestamp with a zone, e.g. 2026-12-01T09:00:00Z' }]);
      at = parsed;
    }
    const em = this.em();
    const departments = await this.listDepartments(tenantId);
    const users = normaliseRows(await em.execute<TeamUserRow[]>(`SELECT ${USER_COLS} FROM users u WHERE u.tenant_id = ? AND u.active ORDER BY u.id`, [tenantId]));
    // Every shift that can overlap a local day containing `at` in any zone (±26 h, shifts ≤ 24 h).
    const shifts = await em.execute<ShiftRow[]>(
      `SELECT ${SHIFT_COLS} FROM shifts s
        WHERE s.tenant_id = ? AND s.starts_at < ?::timestamptz + interval '26 hours' AND s.starts_at > ?::timestamptz - interval '50 hours'`,
      [tenantId, at, at],
    );
    const byUser = new Map<string, { startsAt: Date; endsAt: Date }[]>();
    for (const s of shifts) {
      const list = byUser.get(s.user_id) ?? [];
      list.push({ startsAt: toDate(s.starts_at), endsAt: toDate(s.ends_at) });
      byUser.set(s.user_id, list);
    }
    const schedules = new Map(departments.map((d) => [d.id, effectiveSchedule(scheduleOfRow(d), c.tenantTimeZone)]));
    return {
      at,
      tenantTimeZone: c.tenantTimeZone,
      departments: departments.map((d) => ({ ...d, open: isOpen(schedules.get(d.id)!, at) })),
      users: users.map((u) => {
        const primary = u.department_ids[0] ? (schedules.get(u.department_ids[0]) ?? null) : null;
        return {
          ...u,
          awayNow: isAwayAt(u.away, toDateOrNull(u.away_until), at),
          onShift: isOnShift(byUser.get(u.id) ?? [], primary, c.tenantTimeZone, at),
        };
      }),
    };
  }

  // ---- audit ---------------------------------------------------------------------------------------

  async listAudit(
    tenantId: string,
    input: { pageSize: number; cursor: string; targetKind: string; targetId: string; actorId: string },
  ): Promise<{ entries: AuditRow[]; nextCursor: string }> {
    const v = new Violations();
    if (input.pageSize < 0) v.add('page.page_size', 'must not be negative');
    let before: { at: string; id: string } | undefined;
    if (input.cursor) {
      const raw = decodeKeyset('a', input.cursor);
      const m = raw === null ? null : /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|(\d{1,18})$/.exec(raw);
      if (!m || Number.isNaN(Date.parse(m[1]))) v.add('page.cursor', 'is not a cursor from this list');
      else before = { at: m[1], id: m[2] };
    }
    if (input.targetKind !== '' && !/^[a-z_]{1,32}$/.test(input.targetKind)) v.add('target_kind', 'must be a target kind such as user or department');
    if (input.targetId.length > 100) v.add('target_id', 'must be at most 100 characters');
    if (input.actorId.length > 100) v.add('actor_id', 'must be at most 100 characters');
    if (input.targetId !== '' && input.targetKind === '') v.add('target_kind', 'is required with target_id');
    v.throwIfAny();
    const size = Math.min(input.pageSize || TEAM_PAGE_DEFAULT, TEAM_PAGE_MAX);
    const where = ['tenant_id = ?'];
    const params: unknown[] = [tenantId];
    if (input.targetKind && input.targetId) {
      where.push('target = ?');
      params.push(`${input.targetKind}:${input.targetId}`);
    } else if (input.targetKind) {
      where.push(`target LIKE ? ESCAPE '\\'`);
      params.push(`${input.targetKind.replace(/_/g, '\\_')}:%`);
    }
    if (input.actorId) {
      where.push('actor_id = ?');
      params.push(input.actorId);
    }
    if (before) {
      where.push('(at, id) < (?::timestamptz, ?::bigint)');
      params.push(before.at, before.id);
    }
    // Newest first by the time of the change (ids follow commit order, which concurrent writes may swap).
    const rows = await this.em().execute<AuditRow[]>(
      `SELECT id::text AS id, at, actor_kind, actor_id, action, target, details FROM audit_log WHERE ${where.join(' AND ')} ORDER BY at DESC, id DESC LIMIT ?`,
      [...params, size + 1],
    );
    const entries = rows.slice(0, size);
    const last = entries[entries.length - 1];
    return { entries, nextCursor: rows.length > size ? encodeKeyset('a', `${toDate(last.at).toISOString()}|${last.id}`) : '' };
  }
}

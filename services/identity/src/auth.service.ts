import { SubjectKind, type FieldMapping, type Principal, type TotpEnrollment } from '@crm/contracts/crm/identity/v1/identity';
import { uuidv7, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError } from '@crm/errors';
import type { Logger } from '@crm/logger';
import { audit, type Actor } from './audit';
import { isUniqueViolation } from './db';
import { arrayOf } from './team.service';
import { TenantSchema, type Tenant } from './db/entities/tenant.entity';
import { rolesToWire, scopesForRoles } from './domain/access';
import { completeMapping, type StoredFieldMapping } from './domain/public-form';
import { dummyPasswordHash, PASSWORD_MAX, verifyPassword } from './domain/password';
import {
  isWellFormedPublicFormId,
  isWellFormedSessionToken,
  parseApiKeySecret,
  sameHash,
  sha256,
} from './domain/secrets';
import type { AttemptSubject, LoginAttempt, SecurityAreas } from './security';
import type { Proof } from './security/second-factor';
import { checkLocale, checkName, checkSlug, checkTimeZone, Violations, EMAIL_MAX } from './domain/validation';

/** What Login answers: a session, or a challenge for the second factor. */
export type LoginOutcome =
  | { kind: 'session'; token: string; expiresAt: Date; principal: Principal; recoveryCodes: string[] }
  | { kind: 'challenge'; token: string; expiresAt: Date; step: 'code' | 'enroll' };

/** The one answer to every failed credential check: it never says which part was wrong. */
export class InvalidCredentialsError extends DomainError {
  constructor() {
    super('UNAUTHENTICATED', 'invalid credentials');
    this.name = 'InvalidCredentialsError';
  }
}

/** last_used_at is refreshed at most this often, so Authenticate is a pure read on most calls. */
const LAST_USED_GRANULARITY_MS = 60_000;

interface UserRow {
  user_id: string;
  tenant_id: string;
  email: string;
  display_name: string;
  roles: string[];
  department_ids: string[] | string;
  headed_department_ids: string[] | string;
  slug: string;
  locale: string;
  time_zone: string;
}

function userPrincipal(row: UserRow): Principal {
  return {
    tenantId: row.tenant_id,
    tenantSlug: row.slug,
    tenantLocale: row.locale,
    subjectKind: SubjectKind.SUBJECT_KIND_USER,
    subjectId: row.user_id,
    displayName: row.display_name,
    email: row.email,
    roles: rolesToWire(row.roles),
    scopes: scopesForRoles(row.roles),
    tenantTimeZone: row.time_zone,
    departmentIds: arrayOf(row.department_ids),
    // Only a head of sales heads departments (a role taken away ends the headship at once).
    headedDepartmentIds: row.roles.includes('head_of_sales') ? arrayOf(row.headed_department_ids) : [],
    sessionId: '',
  };
}

/** The user columns of a principal; the arrays as text[] (the driver parses those). */
const PRINCIPAL_COLS = `u.id AS user_id, u.tenant_id, u.email, u.display_name, u.roles,
  u.department_ids::text[] AS department_ids, u.headed_department_ids::text[] AS headed_department_ids, t.slug, t.locale, t.time_zone`;

/** Pre-authentication operations: they find the tenant from the credential, not from the call. */
export class AuthService {
  constructor(
    private readonly orm: MikroORM,
    private readonly logger: Logger,
    private readonly areas: SecurityAreas,
  ) {}

  private get conn() {
    return this.orm.em.getConnection();
  }

  async authenticateApiKey(secret: string): Promise<Principal> {
    const parsed = parseApiKeySecret(secret);
    if (!parsed) throw new InvalidCredentialsError();
    // One indexed lookup (api_keys_prefix_key) joined with the tenant.
    const rows = await this.conn.execute<
      { id: string; tenant_id: string; name: string; secret_hash: Buffer; scopes: string[]; revoked: boolean; stale: boolean; slug: string; locale: string; time_zone: string }[]
    >(
      // Times are compared in SQL: raw rows carry timestamps as strings, not Dates.
      `SELECT k.id, k.tenant_id, k.name, k.secret_hash, k.scopes, t.slug, t.locale, t.time_zone,
              k.revoked_at IS NOT NULL AS revoked,
              (k.last_used_at IS NULL OR k.last_used_at < now() - make_interval(secs => ?)) AS stale
         FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
        WHERE k.prefix = ?`,
      [LAST_USED_GRANULARITY_MS / 1000, parsed.prefix],
    );
    const key = rows[0];
    // Compare the hash even for a revoked key, so both paths cost the same.
    const matches = key ? sameHash(sha256(secret), key.secret_hash) : false;
    if (!key || !matches || key.revoked) throw new InvalidCredentialsError();
    if (key.stale) {
      await this.conn.execute('UPDATE api_keys SET last_used_at = now() WHERE id = ?', [key.id]).catch((err: unknown) => {
        this.logger.warn({ err, apiKeyId: key.id }, 'api key last_used_at update failed');
      });
    }
    return {
      tenantId: key.tenant_id,
      tenantSlug: key.slug,
      tenantLocale: key.locale,
      subjectKind: SubjectKind.SUBJECT_KIND_API_KEY,
      subjectId: key.id,
      displayName: key.name,
      email: '',
      roles: [],
      scopes: key.scopes,
      tenantTimeZone: key.time_zone,
      departmentIds: [],
      headedDepartmentIds: [],
      sessionId: '',
    };
  }

  async authenticateSession(token: string): Promise<Principal> {
    if (!isWellFormedSessionToken(token)) throw new InvalidCredentialsError();
    // One indexed lookup (sessions_token_hash_key) joined with the user and the tenant: roles and
    // departments are read fresh, so a change applies to open sessions at once; a deactivated user's
    // session fails even if it was somehow not revoked.
    // The idle timeout (issue 16): a session not seen for SESSION_IDLE_MINUTES is over; last_seen_at is
    // refreshed at most once a minute, like an API key's last_used_at.
    const idleMinutes = this.areas.env.SESSION_IDLE_MINUTES;
    const rows = await this.conn.execute<(UserRow & { session_id: string; stale: boolean })[]>(
      `SELECT ${PRINCIPAL_COLS}, s.id AS session_id,
              s.last_seen_at < now() - make_interval(secs => ?) AS stale
         FROM sessions s
         JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
         JOIN tenants t ON t.id = s.tenant_id
        WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > now()
          AND s.last_seen_at > now() - make_interval(mins => ?) AND u.active`,
      [LAST_USED_GRANULARITY_MS / 1000, sha256(token), idleMinutes],
    );
    const row = rows[0];
    if (!row) throw new InvalidCredentialsError();
    if (row.stale) {
      await this.conn.execute('UPDATE sessions SET last_seen_at = now() WHERE id = ? AND revoked_at IS NULL', [row.session_id]).catch((err: unknown) => {
        this.logger.warn({ err, sessionId: row.session_id }, 'session last_seen_at update failed');
      });
    }
    return { ...userPrincipal(row), sessionId: row.session_id };
  }

  /**
   * A login (issue 16): the throttle first (a locked account or address is refused before any hash is
   * spent), then the password; a failure is counted and audited; a success either opens a session or,
   * when the user has (or must enrol) a second factor, answers a challenge for VerifySecondFactor.
   */
  async login(input: { tenantSlug: string; email: string; password: string; clientAddress: string; userAgent: string }): Promise<LoginOutcome> {
    const { tenantSlug, password } = input;
    const normalized = input.email.trim().toLowerCase();
    const attempt: LoginAttempt = { tenantSlug, email: normalized, address: input.clientAddress.slice(0, 64), userAgent: input.userAgent.slice(0, 512) };
    // Oversized input cannot match anything; refuse it before spending a hash on it.
    if (tenantSlug.length > 63 || normalized.length > EMAIL_MAX || password.length > PASSWORD_MAX * 2) throw new InvalidCredentialsError();
    const rows = await this.conn.execute<(UserRow & { password_hash: string })[]>(
      // Deactivated users and invited ones (not accepted yet) cannot log in: they are not found.
      `SELECT ${PRINCIPAL_COLS}, u.password_hash
         FROM users u JOIN tenants t ON t.id = u.tenant_id
        WHERE t.slug = ? AND u.email = ? AND u.active`,
      [tenantSlug, normalized],
    );
    const row = rows[0];
    const subject = row ? { tenantId: row.tenant_id, userId: row.user_id } : await this.tenantOf(tenantSlug);
    await this.areas.throttle.check(attempt, subject);
    // An unknown tenant or e-mail still pays for one scrypt, so timing does not reveal accounts.
    const ok = await verifyPassword(password, row ? row.password_hash : await dummyPasswordHash());
    if (!row || !ok) {
      await this.areas.throttle.failed(attempt, subject, 'password');
      throw new InvalidCredentialsError();
    }
    const who = { tenantId: row.tenant_id, userId: row.user_id };
    const need = await this.areas.secondFactor.needOf(row.tenant_id, row.user_id, row.roles);
    const em = this.orm.em.fork();
    if (need !== 'none') {
      // The password was right: the second step decides; the throttle is cleared only by a session.
      const ch = this.areas.secondFactor.openChallenge(em, { ...who, kind: need, address: attempt.address, userAgent: attempt.userAgent });
      await em.flush();
      return { kind: 'challenge', token: ch.token, expiresAt: ch.expiresAt, step: need };
    }
    // The session and the cleared throttle row commit together (throttle.succeeded deletes in SQL).
    const s = await em.transactional(async (tx) => {
      const opened = this.areas.sessions.open(tx, { ...who, address: attempt.address, userAgent: attempt.userAgent, secondFactor: false });
      await this.areas.throttle.succeeded(tx, attempt, who, false);
      return opened;
    });
    return { kind: 'session', token: s.token, expiresAt: s.expiresAt, principal: { ...userPrincipal(row), sessionId: s.sessionId }, recoveryCodes: [] };
  }

  /** The second step: the challenge's account goes through the same throttle as its password did. */
  async verifySecondFactor(input: { challengeToken: string; proof: Proof; clientAddress: string; userAgent: string }): Promise<Extract<LoginOutcome, { kind: 'session' }>> {
    const ch = await this.areas.secondFactor.challenge(input.challengeToken);
    const attempt: LoginAttempt = { tenantSlug: ch.tenantSlug, email: ch.email, address: input.clientAddress.slice(0, 64), userAgent: input.userAgent.slice(0, 512) };
    const who = { tenantId: ch.tenantId, userId: ch.userId };
    await this.areas.throttle.check(attempt, who);
    const opened = await this.orm.em.fork().transactional(async (em) => {
      const res = await this.areas.secondFactor.verify(em, ch, input.proof);
      if (!res.ok) return null;
      const s = this.areas.sessions.open(em, { ...who, address: attempt.address, userAgent: attempt.userAgent, secondFactor: true });
      await this.areas.throttle.succeeded(em, attempt, who, true);
      return { s, recoveryCodes: res.recoveryCodes };
    });
    if (!opened) {
      await this.areas.throttle.failed(attempt, who, 'second_factor');
      throw new InvalidCredentialsError();
    }
    const rows = await this.conn.execute<UserRow[]>(
      `SELECT ${PRINCIPAL_COLS} FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.tenant_id = ? AND u.id = ? AND u.active`,
      [ch.tenantId, ch.userId],
    );
    if (!rows[0]) throw new InvalidCredentialsError();
    return { kind: 'session', token: opened.s.token, expiresAt: opened.s.expiresAt, principal: { ...userPrincipal(rows[0]), sessionId: opened.s.sessionId }, recoveryCodes: opened.recoveryCodes };
  }

  async beginLoginEnrollment(challengeToken: string): Promise<TotpEnrollment> {
    return this.areas.secondFactor.beginLoginEnrollment(challengeToken);
  }

  /** The tenant an unknown e-mail was typed for (audit), if the slug is a tenant's. */
  private async tenantOf(slug: string): Promise<AttemptSubject> {
    const rows = await this.conn.execute<{ id: string }[]>('SELECT id FROM tenants WHERE slug = ?', [slug]);
    return rows[0] ? { tenantId: rows[0].id } : {};
  }

  /** Idempotent: an unknown, malformed or already revoked token is not an error. */
  async logout(token: string): Promise<void> {
    if (!isWellFormedSessionToken(token)) return;
    // Through Sessions.ended: audited, and SessionsEnded tells every gateway replica at once.
    await this.areas.sessions.endByToken(token);
  }

  async resolvePublicForm(
    publicFormId: string,
  ): Promise<{ tenantId: string; formId: string; name: string; tenantLocale: string; fieldMapping: FieldMapping; thankYouUrl: string }> {
    const notFound = () => new NotFoundError('public form', publicFormId.slice(0, 64));
    if (!isWellFormedPublicFormId(publicFormId)) throw notFound();
    const rows = await this.conn.execute<{ id: string; tenant_id: string; name: string; locale: string; field_mapping: unknown; thank_you_url: string | null }[]>(
      `SELECT f.id, f.tenant_id, f.name, t.locale, f.field_mapping, f.thank_you_url
         FROM public_forms f JOIN tenants t ON t.id = f.tenant_id
        WHERE f.id = ? AND f.enabled`,
      [publicFormId],
    );
    const f = rows[0];
    if (!f) throw notFound();
    const mapping = (typeof f.field_mapping === 'string' ? JSON.parse(f.field_mapping) : f.field_mapping) as Partial<StoredFieldMapping> | null;
    return {
      tenantId: f.tenant_id,
      formId: f.id,
      name: f.name,
      tenantLocale: f.locale,
      fieldMapping: completeMapping(mapping),
      thankYouUrl: f.thank_you_url ?? '',
    };
  }

  async createTenant(actor: Actor, input: { name: string; slug: string; locale: string; timeZone?: string }): Promise<Tenant> {
    if (actor.kind !== 'service') throw new DomainError('PERMISSION_DENIED', 'only a service may create tenants');
    const v = new Violations();
    const name = checkName(v, 'name', input.name);
    const slug = checkSlug(v, 'slug', input.slug);
    const locale = checkLocale(v, 'locale', input.locale);
    const timeZone = checkTimeZone(v, 'time_zone', input.timeZone ?? '', { emptyIsUtc: true });
    v.throwIfAny();
    try {
      return await this.orm.em.fork().transactional(async (em) => {
        const tenant = em.create(TenantSchema, { id: uuidv7(), name, slug, locale, timeZone, createdAt: new Date() });
        audit(em, tenant.id, actor, 'tenant.created', `tenant:${tenant.id}`, { name, slug, locale, timeZone });
        return tenant;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'tenants_slug_key')) throw new DomainError('ALREADY_EXISTS', `tenant slug "${slug}" is taken`, { violations: [{ field: 'slug', message: 'is taken' }] });
      throw err;
    }
  }
}

/**
 * Two-factor sign-in (issue 16 §3): TOTP (RFC 6238) with recovery codes, the login challenge between the
 * password and the code, replay protection, the tenant's policy for admins and heads of sales.
 *
 * - TOTP secrets are sealed with AES-256-GCM (security/totp.ts); a pending secret waits for its first
 *   right code. A code is accepted once: its time step must be after `users.totp_last_step`, which the
 *   accepting transaction stores under the user's row lock.
 * - Recovery codes: ten `xxxx-xxxx`, only SHA-256 stored, each used once (UPDATE … WHERE used_at IS NULL).
 * - Challenges: 32 random bytes (SHA-256 stored), LOGIN_CHALLENGE_SECONDS, dead after MAX_CHALLENGE_ATTEMPTS
 *   wrong codes; `verify` locks the row, so two parallel submissions cannot both succeed.
 */
import type { TotpEnrollment } from '@crm/contracts/crm/identity/v1/identity';
import type { SecurityPolicy, TwoFactorState } from '@crm/contracts/crm/identity/v1/security';
import { isUuid, uuidv7, type EntityManager } from '@crm/db';
import { DomainError, NotFoundError } from '@crm/errors';
import { audit, type Actor } from '../audit';
import { LoginChallengeSchema } from '../db/entities/login-challenge.entity';
import { sha256 } from '../domain/secrets';
import type { SecurityContext } from './context';
import {
  acceptCode,
  isWellFormedChallengeToken,
  newChallengeToken,
  newRecoveryCodes,
  newTotpSecret,
  normaliseCode,
  normaliseRecoveryCode,
  sealingKey,
  seal,
  unseal,
} from './totp';

/** What a login must do after the password: nothing more, a code, or enrol first. */
export type SecondFactorNeed = 'none' | 'code' | 'enroll';

/** A live challenge, as VerifySecondFactor needs it. */
export interface Challenge {
  id: string;
  tenantId: string;
  userId: string;
  tenantSlug: string;
  email: string;
  kind: 'code' | 'enroll';
}

export type Proof = { code: string } | { recoveryCode: string };

/** Wrong codes a challenge takes before it is dead (the login must start again with the password). */
export const MAX_CHALLENGE_ATTEMPTS = 5;

/**
 * Wrong codes (or recovery codes) a signed-in user may give in settings (confirm, disable, new recovery
 * codes) within the window before those are refused for a while: a stolen session cannot guess its way
 * to turning the second factor off. Each refusal is audited (`two_factor.code_refused`) and counted from there.
 */
export const SETTINGS_CODE_FAILURES = 5;
export const SETTINGS_CODE_WINDOW_MINUTES = 15;

/** The roles the tenant's policy may require a second factor of. */
const PRIVILEGED = new Set(['admin', 'head_of_sales']);
const privileged = (roles: readonly string[]) => roles.some((r) => PRIVILEGED.has(r));

/** The one answer to a bad challenge: unknown, used, expired or dead look the same. */
const invalidCredentials = () => new DomainError('UNAUTHENTICATED', 'invalid credentials');

interface TotpRow {
  email: string;
  slug: string;
  totp_secret: Buffer | null;
  totp_pending_secret: Buffer | null;
  enabled: boolean;
  totp_last_step: string | number | null;
  require_second_factor: boolean;
}

const TOTP_COLS = `u.email, t.slug, u.totp_secret, u.totp_pending_secret, u.totp_enabled_at IS NOT NULL AS enabled, u.totp_last_step, t.require_second_factor`;

export class SecondFactor {
  private readonly key: Buffer;

  constructor(private readonly ctx: SecurityContext) {
    const { key, development } = sealingKey(ctx.env);
    this.key = key;
    if (development) ctx.logger.warn('IDENTITY_SECRET_KEY is empty: TOTP secrets are sealed with a fixed development key; set it in production');
  }

  private get conn() {
    return this.ctx.orm.em.getConnection();
  }

  private aad(userId: string): string {
    return `totp:${userId}`;
  }

  /** After a right password: whether this user needs a second factor (the tenant's policy for their roles). */
  async needOf(tenantId: string, userId: string, roles: string[]): Promise<SecondFactorNeed> {
    const rows = await this.conn.execute<{ enabled: boolean; require_second_factor: boolean }[]>(
      `SELECT u.totp_enabled_at IS NOT NULL AS enabled, t.require_second_factor
         FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.tenant_id = ? AND u.id = ?`,
      [tenantId, userId],
    );
    const r = rows[0];
    if (!r) return 'none';
    if (r.enabled) return 'code';
    return r.require_second_factor && privileged(roles) ? 'enroll' : 'none';
  }

  /** Stores a one-time challenge (SHA-256 only) in `em`'s unit of work; answers the token. */
  openChallenge(em: EntityManager, c: { tenantId: string; userId: string; kind: 'code' | 'enroll'; address: string; userAgent: string }): { token: string; expiresAt: Date } {
    const token = newChallengeToken();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.ctx.env.LOGIN_CHALLENGE_SECONDS * 1000);
    em.create(LoginChallengeSchema, {
      id: uuidv7(),
      tokenHash: sha256(token),
      tenantId: c.tenantId,
      userId: c.userId,
      kind: c.kind,
      address: c.address.slice(0, 64),
      userAgent: c.userAgent.slice(0, 512),
      attempts: 0,
      createdAt: now,
      expiresAt,
    });
    return { token, expiresAt };
  }

  /** A live (unexpired, unused) challenge, or UNAUTHENTICATED (InvalidCredentialsError). */
  async challenge(token: string): Promise<Challenge> {
    if (!isWellFormedChallengeToken(token)) throw invalidCredentials();
    const rows = await this.conn.execute<{ id: string; tenant_id: string; user_id: string; slug: string; email: string; kind: 'code' | 'enroll' }[]>(
      `SELECT c.id, c.tenant_id, c.user_id, t.slug, u.email, c.kind
         FROM login_challenges c
         JOIN users u ON u.tenant_id = c.tenant_id AND u.id = c.user_id
         JOIN tenants t ON t.id = c.tenant_id
        WHERE c.token_hash = ? AND c.used_at IS NULL AND c.expires_at > now() AND c.attempts < ? AND u.active`,
      [sha256(token), MAX_CHALLENGE_ATTEMPTS],
    );
    const r = rows[0];
    if (!r) throw invalidCredentials();
    return { id: r.id, tenantId: r.tenant_id, userId: r.user_id, tenantSlug: r.slug, email: r.email, kind: r.kind };
  }

  /** For an enrolment challenge: a (new) pending secret for the user, shown once. */
  async beginLoginEnrollment(token: string): Promise<TotpEnrollment> {
    const ch = await this.challenge(token);
    if (ch.kind !== 'enroll') throw new DomainError('FAILED_PRECONDITION', 'this sign-in needs a code, not an enrolment');
    return this.ctx.orm.em.fork().transactional(async (em) => {
      const u = await this.lockUser(em, ch.tenantId, ch.userId);
      if (!u) throw invalidCredentials();
      if (u.enabled) throw new DomainError('FAILED_PRECONDITION', 'two-factor sign-in is already on; sign in with a code');
      return this.storePending(em, ch.tenantId, ch.userId, u);
    });
  }

  /**
   * Checks the proof for the challenge inside `em`'s transaction (the challenge row locked): true marks
   * it used (and the code's time step, or the recovery code, used); an enrolment challenge's first
   * right code enables TOTP and answers the recovery codes. False: a wrong or replayed code.
   */
  async verify(em: EntityManager, challenge: Challenge, proof: Proof): Promise<{ ok: boolean; recoveryCodes: string[] }> {
    const fail = { ok: false, recoveryCodes: [] as string[] };
    const locked = await em.execute<{ live: boolean }[]>(
      'SELECT (used_at IS NULL AND expires_at > now() AND attempts < ?) AS live FROM login_challenges WHERE id = ? FOR UPDATE',
      [MAX_CHALLENGE_ATTEMPTS, challenge.id],
    );
    // Used meanwhile (a parallel submission won), expired or dead: nothing to check.
    if (!locked[0]?.live) return fail;
    const u = await this.lockUser(em, challenge.tenantId, challenge.userId);
    const actor: Actor = { kind: 'user', id: challenge.userId };
    let recoveryCodes: string[] = [];
    let ok = false;
    if (u && 'code' in proof) {
      if (u.enabled) {
        ok = await this.acceptInto(em, challenge.tenantId, challenge.userId, u, proof.code);
      } else if (challenge.kind === 'enroll') {
        const pending = unseal(this.key, u.totp_pending_secret, this.aad(challenge.userId));
        const step = pending ? acceptCode(pending, proof.code, null) : undefined;
        if (pending && step !== undefined) {
          recoveryCodes = await this.enable(em, challenge.tenantId, challenge.userId, actor, step, 'login');
          ok = true;
        }
      }
    } else if (u && 'recoveryCode' in proof && u.enabled) {
      ok = await this.useRecoveryCode(em, challenge.tenantId, challenge.userId, proof.recoveryCode);
      if (ok) {
        const left = await this.recoveryCodesLeft(em, challenge.tenantId, challenge.userId);
        audit(em, challenge.tenantId, actor, 'login.recovery_code_used', `user:${challenge.userId}`, { recoveryCodesLeft: left });
      }
    }
    if (!ok) {
      await em.execute('UPDATE login_challenges SET attempts = attempts + 1 WHERE id = ?', [challenge.id]);
      return fail;
    }
    await em.execute('UPDATE login_challenges SET used_at = now() WHERE id = ?', [challenge.id]);
    return { ok: true, recoveryCodes };
  }

  async state(tenantId: string, userId: string, roles: string[]): Promise<TwoFactorState> {
    if (!isUuid(userId)) throw new NotFoundError('user', userId.slice(0, 64));
    const rows = await this.conn.execute<{ enabled_at: string | null; pending: boolean; left: string | number; require_second_factor: boolean }[]>(
      `SELECT to_json(u.totp_enabled_at) #>> '{}' AS enabled_at, u.totp_pending_secret IS NOT NULL AS pending, t.require_second_factor,
              (SELECT count(*) FROM recovery_codes r WHERE r.tenant_id = u.tenant_id AND r.user_id = u.id AND r.used_at IS NULL) AS left
         FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.tenant_id = ? AND u.id = ?`,
      [tenantId, userId],
    );
    const r = rows[0];
    if (!r) throw new NotFoundError('user', userId);
    const enabled = r.enabled_at !== null;
    return {
      enabled,
      enabledAt: r.enabled_at ? new Date(r.enabled_at).toISOString() : undefined,
      recoveryCodesLeft: enabled ? Number(r.left) : 0,
      required: r.require_second_factor && privileged(roles),
      pending: !enabled && r.pending,
    };
  }

  async beginEnrollment(tenantId: string, userId: string, actor: Actor): Promise<TotpEnrollment> {
    void actor;
    return this.ctx.orm.em.fork().transactional(async (em) => {
      const u = await this.lockUser(em, tenantId, userId);
      if (!u) throw new NotFoundError('user', userId);
      if (u.enabled) throw new DomainError('FAILED_PRECONDITION', 'two-factor sign-in is already on; turn it off first to enrol another authenticator');
      return this.storePending(em, tenantId, userId, u);
    });
  }

  async confirmEnrollment(tenantId: string, userId: string, actor: Actor, code: string): Promise<string[]> {
    if (!normaliseCode(code)) throw badCode('code', 'must be the 6 digits the authenticator app shows');
    return this.guarded(tenantId, userId, actor, 'confirm', () =>
      this.ctx.orm.em.fork().transactional(async (em) => {
        const u = await this.lockUser(em, tenantId, userId);
        if (!u) throw new NotFoundError('user', userId);
        if (u.enabled) throw new DomainError('FAILED_PRECONDITION', 'two-factor sign-in is already on');
        const pending = unseal(this.key, u.totp_pending_secret, this.aad(userId));
        if (!pending) throw new DomainError('FAILED_PRECONDITION', 'no enrolment was begun; begin one first');
        const step = acceptCode(pending, code, null);
        if (step === undefined) throw new WrongProofError('code', 'is not the current code of the authenticator app');
        return this.enable(em, tenantId, userId, actor, step, 'settings');
      }),
    );
  }

  async disable(tenantId: string, userId: string, roles: string[], actor: Actor, proof: Proof): Promise<TwoFactorState> {
    const field = 'code' in proof ? 'code' : 'recovery_code';
    const value = 'code' in proof ? proof.code : proof.recoveryCode;
    if (!value) throw badCode('code', 'a current code or a recovery code is required');
    if ('code' in proof ? !normaliseCode(value) : !normaliseRecoveryCode(value)) throw badCode(field, field === 'code' ? 'must be 6 digits' : 'must look like xxxx-xxxx');
    await this.guarded(tenantId, userId, actor, 'disable', () =>
      this.ctx.orm.em.fork().transactional(async (em) => {
        const u = await this.lockUser(em, tenantId, userId);
        if (!u) throw new NotFoundError('user', userId);
        if (!u.enabled) throw new DomainError('FAILED_PRECONDITION', 'two-factor sign-in is not on');
        if (u.require_second_factor && privileged(roles)) {
          throw new DomainError('FAILED_PRECONDITION', 'your organisation requires two-factor sign-in for your role; it cannot be turned off', { details: { reason: 'required_by_policy' } });
        }
        const ok = 'code' in proof ? await this.acceptInto(em, tenantId, userId, u, proof.code) : await this.useRecoveryCode(em, tenantId, userId, proof.recoveryCode);
        // A wrong proof rolls back (nothing was changed) and is counted by `guarded`.
        if (!ok) throw new WrongProofError(field, field === 'code' ? 'is not the current code (or was already used)' : 'is not an unused recovery code');
        await this.clear(em, tenantId, userId);
        audit(em, tenantId, actor, 'two_factor.disabled', `user:${userId}`, { before: { enabled: true }, after: { enabled: false }, proof: field });
      }),
    );
    return this.state(tenantId, userId, roles);
  }

  async regenerateRecoveryCodes(tenantId: string, userId: string, actor: Actor, code: string): Promise<string[]> {
    if (!normaliseCode(code)) throw badCode('code', 'must be the 6 digits the authenticator app shows');
    return this.guarded(tenantId, userId, actor, 'regenerate', () =>
      this.ctx.orm.em.fork().transactional(async (em) => {
        const u = await this.lockUser(em, tenantId, userId);
        if (!u) throw new NotFoundError('user', userId);
        if (!u.enabled) throw new DomainError('FAILED_PRECONDITION', 'two-factor sign-in is not on');
        if (!(await this.acceptInto(em, tenantId, userId, u, code))) throw new WrongProofError('code', 'is not the current code (or was already used)');
        const codes = await this.replaceRecoveryCodes(em, tenantId, userId);
        audit(em, tenantId, actor, 'two_factor.recovery_codes_regenerated', `user:${userId}`, { count: codes.length });
        return codes;
      }),
    );
  }

  /** Admin: removes a user's TOTP and codes in `em`'s transaction (the caller ends their sessions). */
  async reset(em: EntityManager, tenantId: string, userId: string, actor: Actor): Promise<void> {
    const u = isUuid(userId) ? await this.lockUser(em, tenantId, userId) : undefined;
    if (!u) throw new NotFoundError('user', userId.slice(0, 64));
    await this.clear(em, tenantId, userId);
    // A challenge opened before the reset must not complete after it.
    await em.execute('UPDATE login_challenges SET used_at = now() WHERE tenant_id = ? AND user_id = ? AND used_at IS NULL', [tenantId, userId]);
    audit(em, tenantId, actor, 'two_factor.reset', `user:${userId}`, { before: { enabled: u.enabled }, after: { enabled: false } });
  }

  async policy(tenantId: string): Promise<SecurityPolicy> {
    const rows = await this.conn.execute<{ require_second_factor: boolean }[]>('SELECT require_second_factor FROM tenants WHERE id = ?', [tenantId]);
    if (!rows[0]) throw new NotFoundError('tenant', tenantId);
    return { requireSecondFactorForPrivileged: rows[0].require_second_factor };
  }

  async updatePolicy(tenantId: string, actor: Actor, input: { requireSecondFactorForPrivileged?: boolean }): Promise<SecurityPolicy> {
    const want = input.requireSecondFactorForPrivileged;
    return this.ctx.orm.em.fork().transactional(async (em) => {
      const rows = await em.execute<{ require_second_factor: boolean }[]>('SELECT require_second_factor FROM tenants WHERE id = ? FOR UPDATE', [tenantId]);
      if (!rows[0]) throw new NotFoundError('tenant', tenantId);
      const before = rows[0].require_second_factor;
      if (want === undefined || want === before) return { requireSecondFactorForPrivileged: before };
      await em.execute('UPDATE tenants SET require_second_factor = ? WHERE id = ?', [want, tenantId]);
      audit(em, tenantId, actor, 'security.policy_updated', `tenant:${tenantId}`, {
        before: { requireSecondFactorForPrivileged: before },
        after: { requireSecondFactorForPrivileged: want },
      });
      return { requireSecondFactorForPrivileged: want };
    });
  }

  /**
   * Runs a settings change that checks a code: refused (RESOURCE_EXHAUSTED, `retry_at`) after
   * SETTINGS_CODE_FAILURES wrong proofs in the window; a wrong proof is audited, and so counted.
   */
  private async guarded<T>(tenantId: string, userId: string, actor: Actor, operation: string, run: () => Promise<T>): Promise<T> {
    const target = `user:${userId}`;
    const rows = await this.conn.execute<{ n: number; retry_at: string | null }[]>(
      `SELECT count(*)::int AS n, to_json(min(at) + make_interval(mins => ?)) #>> '{}' AS retry_at
         FROM audit_log WHERE tenant_id = ? AND target = ? AND action = 'two_factor.code_refused' AND at > now() - make_interval(mins => ?)`,
      [SETTINGS_CODE_WINDOW_MINUTES, tenantId, target, SETTINGS_CODE_WINDOW_MINUTES],
    );
    if ((rows[0]?.n ?? 0) >= SETTINGS_CODE_FAILURES) {
      const retryAt = new Date(Math.ceil(new Date(rows[0].retry_at ?? Date.now() + SETTINGS_CODE_WINDOW_MINUTES * 60_000).getTime() / 1000) * 1000).toISOString();
      throw new DomainError('RESOURCE_EXHAUSTED', `too many wrong codes; try again after ${retryAt}`, { details: { reason: 'too_many_codes', retry_at: retryAt, public: { retry_at: retryAt } } });
    }
    try {
      return await run();
    } catch (err) {
      if (err instanceof WrongProofError) {
        const em = this.ctx.orm.em.fork();
        audit(em, tenantId, actor, 'two_factor.code_refused', target, { operation, field: err.violations[0]?.field ?? 'code' });
        await em.flush();
      }
      throw err;
    }
  }

  // ---- inside a transaction ----

  /** The user's TOTP columns with their row locked (replay protection: one accepting transaction at a time). */
  private async lockUser(em: EntityManager, tenantId: string, userId: string): Promise<TotpRow | undefined> {
    if (!isUuid(userId)) return undefined;
    const rows = await em.execute<TotpRow[]>(`SELECT ${TOTP_COLS} FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.tenant_id = ? AND u.id = ? AND u.active FOR UPDATE OF u`, [
      tenantId,
      userId,
    ]);
    return rows[0];
  }

  /** A new pending secret (replacing any earlier one). */
  private async storePending(em: EntityManager, tenantId: string, userId: string, u: TotpRow): Promise<TotpEnrollment> {
    const { secret, uri } = newTotpSecret(`${u.email} (${u.slug})`);
    await em.execute('UPDATE users SET totp_pending_secret = ?, totp_pending_at = now() WHERE tenant_id = ? AND id = ?', [seal(this.key, secret, this.aad(userId)), tenantId, userId]);
    return { secret, otpauthUri: uri };
  }

  /** Checks a code against the enabled secret and, when right, stores its step (so it is never accepted again). */
  private async acceptInto(em: EntityManager, tenantId: string, userId: string, u: TotpRow, code: string): Promise<boolean> {
    const secret = unseal(this.key, u.totp_secret, this.aad(userId));
    if (!secret) return false;
    const step = acceptCode(secret, code, u.totp_last_step === null ? null : Number(u.totp_last_step));
    if (step === undefined) return false;
    await em.execute('UPDATE users SET totp_last_step = ? WHERE tenant_id = ? AND id = ?', [step, tenantId, userId]);
    return true;
  }

  /** The pending secret becomes the secret; fresh recovery codes (answered once); audited. */
  private async enable(em: EntityManager, tenantId: string, userId: string, actor: Actor, step: number, via: 'settings' | 'login'): Promise<string[]> {
    await em.execute(
      `UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, totp_pending_at = NULL, totp_enabled_at = now(), totp_last_step = ?
        WHERE tenant_id = ? AND id = ?`,
      [step, tenantId, userId],
    );
    const codes = await this.replaceRecoveryCodes(em, tenantId, userId);
    audit(em, tenantId, actor, 'two_factor.enabled', `user:${userId}`, { before: { enabled: false }, after: { enabled: true }, via });
    return codes;
  }

  private async replaceRecoveryCodes(em: EntityManager, tenantId: string, userId: string): Promise<string[]> {
    await em.execute('DELETE FROM recovery_codes WHERE tenant_id = ? AND user_id = ?', [tenantId, userId]);
    const codes = newRecoveryCodes();
    const now = new Date();
    await em.execute(`INSERT INTO recovery_codes (id, tenant_id, user_id, code_hash, created_at) VALUES ${codes.map(() => '(?, ?, ?, ?, ?)').join(', ')}`, codes.flatMap((c) => [uuidv7(), tenantId, userId, sha256(c), now]));
    return codes;
  }

  /** Marks a recovery code used; false when it is not one of the user's unused codes. */
  private async useRecoveryCode(em: EntityManager, tenantId: string, userId: string, typed: string): Promise<boolean> {
    const code = normaliseRecoveryCode(typed);
    if (!code) return false;
    const used = await em.execute<{ id: string }[]>('UPDATE recovery_codes SET used_at = now() WHERE tenant_id = ? AND user_id = ? AND code_hash = ? AND used_at IS NULL RETURNING id', [
      tenantId,
      userId,
      sha256(code),
    ]);
    return used.length === 1;
  }

  private async recoveryCodesLeft(em: EntityManager, tenantId: string, userId: string): Promise<number> {
    const rows = await em.execute<{ n: string | number }[]>('SELECT count(*) AS n FROM recovery_codes WHERE tenant_id = ? AND user_id = ? AND used_at IS NULL', [tenantId, userId]);
    return Number(rows[0]?.n ?? 0);
  }

  private async clear(em: EntityManager, tenantId: string, userId: string): Promise<void> {
    await em.execute(
      `UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL, totp_pending_secret = NULL, totp_pending_at = NULL
        WHERE tenant_id = ? AND id = ?`,
      [tenantId, userId],
    );
    await em.execute('DELETE FROM recovery_codes WHERE tenant_id = ? AND user_id = ?', [tenantId, userId]);
  }
}

function badCode(field: string, message: string): DomainError {
  return new DomainError('INVALID_ARGUMENT', `${field} ${message}`, { violations: [{ field, message }] });
}

/** A well-formed but wrong (or already used) code or recovery code: counted towards SETTINGS_CODE_FAILURES. */
class WrongProofError extends DomainError {
  constructor(field: string, message: string) {
    super('INVALID_ARGUMENT', `${field} ${message}`, { violations: [{ field, message }] });
    this.name = 'WrongProofError';
  }
}

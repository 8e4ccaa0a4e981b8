/**
 * The login throttle (issue 16 §1): failed attempts counted per account and per client address in
 * PostgreSQL (table login_throttle), growing delays, temporary locks, audit of every attempt, and the
 * admin's view of locked accounts.
 *
 * Rows are keyed `account:<tenant slug>:<e-mail as typed, lower-cased>` — whether or not the account
 * exists, so an unknown e-mail gets exactly the answers of a wrong password — and `address:<client
 * address>`. Every identity replica (and so every gateway replica) reads and writes the same rows; each
 * failure is one atomic upsert, so concurrent attempts cannot lose a count.
 */
import type { LoginLock } from '@crm/contracts/crm/identity/v1/security';
import { isUuid, uuidv7, type EntityManager } from '@crm/db';
import { DomainError, NotFoundError, ValidationError } from '@crm/errors';
import { audit, type Actor } from '../audit';
import type { AttemptSubject, LoginAttempt, SecurityContext } from './context';

export const LOCKS_PAGE_DEFAULT = 50;
export const LOCKS_PAGE_MAX = 200;

/** Why an attempt was refused before its password was looked at. */
export type RefusalReason = 'account_locked' | 'address_locked' | 'too_soon';

/** Failed-attempt and refusal audit rows are written by identity itself, not by whoever typed. */
const THROTTLE_ACTOR: Actor = { kind: 'service', id: 'identity' };

/** Rows untouched this long are deleted, at random on about one failure in CLEANUP_ONE_IN. */
const CLEANUP_AFTER_SECONDS = 86_400;
const CLEANUP_ONE_IN = 100;

export function accountKey(tenantSlug: string, email: string): string {
  return `account:${tenantSlug}:${email}`;
}

export function addressKey(address: string): string {
  return `address:${address}`;
}

/** What check reads of a row: may it try now? */
interface StateRow {
  kind: 'account' | 'address';
  locked: boolean;
  too_soon: boolean;
}

interface LockRow {
  id: string;
  email: string;
  user_id: string | null;
  failures: number;
  last_failure_at: string | null;
  last_address: string | null;
  locked_until: string | null;
  is_locked: boolean;
  cursor_at: string;
}

/** The cursor of ListLoginLocks: the last row's (locked, last failure, id), base64url JSON. */
function encodeLockCursor(r: LockRow): string {
  return Buffer.from(JSON.stringify([r.is_locked ? 1 : 0, r.cursor_at, r.id]), 'utf8').toString('base64url');
}

function decodeLockCursor(cursor: string): [number, string, string] {
  const bad = () => new ValidationError('invalid cursor', [{ field: 'cursor', message: 'is not a cursor from this list' }]);
  if (cursor.length > 300) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const ok =
    Array.isArray(parsed) &&
    parsed.length === 3 &&
    (parsed[0] === 0 || parsed[0] === 1) &&
    typeof parsed[1] === 'string' &&
    /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/.test(parsed[1]) &&
    typeof parsed[2] === 'string' &&
    isUuid(parsed[2]);
  if (!ok) throw bad();
  return parsed as [number, string, string];
}

/** A timestamptz as ISO 8601 UTC, rounded up to the second (as retry_at is). */
const CEIL_ISO = (col: string) => `to_char(date_trunc('second', ${col} + interval '999999 microseconds') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;

const LOCK_COLS = `l.id, l.email, u.id AS user_id, l.failures,
  to_char(l.last_failure_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_failure_at,
  l.last_address,
  CASE WHEN l.locked_until > now() THEN ${CEIL_ISO('l.locked_until')} END AS locked_until,
  COALESCE(l.locked_until > now(), false) AS is_locked,
  l.last_failure_at::text AS cursor_at`;

/** The e-mail's active user of the tenant, if any (the row's e-mail need not be anyone's). */
const LOCK_FROM = `login_throttle l LEFT JOIN users u ON u.tenant_id = l.tenant_id AND u.email = l.email AND u.active`;

function lockOut(r: LockRow): LoginLock {
  return {
    id: r.id,
    email: r.email,
    ...(r.user_id ? { userId: r.user_id } : {}),
    failures: r.failures,
    ...(r.last_failure_at ? { lastFailureAt: r.last_failure_at } : {}),
    ...(r.last_address ? { lastAddress: r.last_address } : {}),
    ...(r.locked_until ? { lockedUntil: r.locked_until } : {}),
  };
}

export class LoginThrottle {
  /** The count-and-audit statement of a failed or refused attempt, built once from the environment (integers only, validated by identityEnv). */
  private readonly recordSql: (rows: number) => string;

  constructor(private readonly ctx: SecurityContext) {
    const e = ctx.env;
    const lockFor = `make_interval(secs => ${e.LOGIN_LOCK_SECONDS})`;
    const locked = '(t.locked_until IS NOT NULL AND t.locked_until > now())';
    const ended = '(t.locked_until IS NOT NULL AND t.locked_until <= now())';
    const stale = `(t.window_started_at <= now() - make_interval(secs => ${e.LOGIN_FAILURE_WINDOW_SECONDS}))`;
    // A passed window, or a lock that has ended, starts the count again (at 1: this failure).
    const n = `(CASE WHEN ${locked} THEN t.failures + 1 WHEN ${ended} OR ${stale} THEN 1 ELSE t.failures + 1 END)`;
    const lockAfter = `(CASE t.kind WHEN 'account' THEN ${e.LOGIN_ACCOUNT_LOCK_AFTER} ELSE ${e.LOGIN_ADDRESS_LOCK_AFTER} END)`;
    // The growing delay (accounts only): base × 2^(failures − after), at most max; the exponent is capped
    // so power() cannot overflow.
    const delay = (failures: string, kind: string) =>
      `(CASE WHEN ${kind} = 'account' AND ${failures} >= ${e.LOGIN_DELAY_AFTER}
          THEN now() + make_interval(secs => least(${e.LOGIN_DELAY_MAX_MS}::float8, ${e.LOGIN_DELAY_BASE_MS} * power(2::float8, least(${failures} - ${e.LOGIN_DELAY_AFTER}, 40))) / 1000.0) END)`;
    const insertLockAfter = (kind: string) => `(CASE ${kind} WHEN 'account' THEN ${e.LOGIN_ACCOUNT_LOCK_AFTER} ELSE ${e.LOGIN_ADDRESS_LOCK_AFTER} END)`;
    const row = `(?::uuid, ?, ?, ?::uuid, ?, ?::uuid, ?)`;
    // One statement: count both rows, then write the audit rows (the attempt's, and login.locked per lock
    // it started) from what the count returned. set_config(…, true) makes this statement's transaction
    // commit asynchronously (see record()).
    this.recordSql = (rows) => `
      WITH cfg AS (SELECT set_config('synchronous_commit', 'off', true) AS sc),
      up AS (
        INSERT INTO login_throttle AS t (id, key, kind, tenant_id, email, user_id, failures, window_started_at, last_failure_at, last_address, next_attempt_at, locked_until, updated_at)
        SELECT v.id, v.key, v.kind, v.tenant_id, v.email, v.user_id, 1, now(), now(), v.address,
               CASE WHEN 1 >= ${insertLockAfter('v.kind')} THEN NULL ELSE ${delay('1', 'v.kind')} END,
               CASE WHEN 1 >= ${insertLockAfter('v.kind')} THEN now() + ${lockFor} END,
               now()
          FROM (VALUES ${Array.from({ length: rows }, () => row).join(', ')}) AS v (id, key, kind, tenant_id, email, user_id, address) CROSS JOIN cfg
        ON CONFLICT (key) DO UPDATE SET
          failures = ${n},
          window_started_at = CASE WHEN ${locked} THEN t.window_started_at WHEN ${ended} OR ${stale} THEN now() ELSE t.window_started_at END,
          last_failure_at = now(),
          last_address = EXCLUDED.last_address,
          tenant_id = COALESCE(EXCLUDED.tenant_id, t.tenant_id),
          user_id = COALESCE(EXCLUDED.user_id, t.user_id),
          -- A lock in force is never extended or reset; a new one starts when the count reaches the limit
          -- (and the delay is dropped: when the lock ends, the account may try at once).
          locked_until = CASE WHEN ${locked} THEN t.locked_until WHEN ${n} >= ${lockAfter} THEN now() + ${lockFor} END,
          next_attempt_at = CASE WHEN ${locked} THEN t.next_attempt_at WHEN ${n} >= ${lockAfter} THEN NULL ELSE ${delay(n, 't.kind')} END,
          updated_at = now()
        RETURNING kind, failures, locked_until, next_attempt_at,
          COALESCE(locked_until > now(), false) AS locked,
          COALESCE(locked_until = now() + ${lockFor}, false) AS lock_started
      ),
      -- Why a refused attempt was refused and until when, from the rows as it left them.
      why AS (
        SELECT CASE WHEN a.locked THEN 'account_locked' WHEN d.locked THEN 'address_locked' ELSE 'too_soon' END AS reason,
               ${CEIL_ISO("CASE WHEN a.locked THEN a.locked_until WHEN d.locked THEN d.locked_until ELSE COALESCE(a.next_attempt_at, now() + interval '1 second') END")} AS retry_at
          FROM (SELECT * FROM up WHERE kind = 'account') a LEFT JOIN (SELECT * FROM up WHERE kind = 'address') d ON true
      ),
      aud AS (
        INSERT INTO audit_log (tenant_id, actor_kind, actor_id, action, target, at, details)
        SELECT ?::uuid, '${THROTTLE_ACTOR.kind}', '${THROTTLE_ACTOR.id}', ?, ?, now(),
               ?::jsonb || CASE WHEN ?::boolean THEN jsonb_build_object('reason', why.reason, 'retry_at', why.retry_at) ELSE '{}'::jsonb END
          FROM why WHERE ?::uuid IS NOT NULL
        UNION ALL
        SELECT ?::uuid, '${THROTTLE_ACTOR.kind}', '${THROTTLE_ACTOR.id}', 'login.locked', CASE up.kind WHEN 'account' THEN ? ELSE ? END, now(),
               jsonb_build_object('email', ?::text, 'address', ?::text, 'kind', up.kind, 'failures', up.failures, 'locked_until', ${CEIL_ISO('up.locked_until')})
          FROM up WHERE up.lock_started AND ?::uuid IS NOT NULL
      )
      SELECT why.reason, why.retry_at, ARRAY(SELECT kind FROM up WHERE lock_started) AS started FROM why`;
  }

  private get conn() {
    return this.ctx.orm.em.getConnection();
  }

  private keys(attempt: LoginAttempt): string[] {
    const keys = [accountKey(attempt.tenantSlug, attempt.email)];
    if (attempt.address !== '') keys.push(addressKey(attempt.address));
    return keys;
  }

  /**
   * Before the password is checked: throws a RESOURCE_EXHAUSTED DomainError (details reason/retry_at)
   * when the account or the address may not try now. A refused attempt counts as a failure too. One
   * query when the attempt may go on.
   */
  async check(attempt: LoginAttempt, subject: AttemptSubject): Promise<void> {
    const keys = this.keys(attempt);
    const rows = await this.conn.execute<StateRow[]>(
      `SELECT kind, COALESCE(locked_until > now(), false) AS locked,
              COALESCE(next_attempt_at > now(), false) AS too_soon
         FROM login_throttle WHERE key IN (${keys.map(() => '?').join(', ')})`,
      keys,
    );
    const blocked = rows.some((r) => r.locked || (r.kind === 'account' && r.too_soon));
    if (!blocked) return;
    // Refused attempts count: hammering through the delays still locks the account.
    const { reason, retry_at: retry } = await this.record(attempt, subject, 'login.refused');
    const message =
      reason === 'account_locked'
        ? `too many failed sign-in attempts; try again after ${retry}`
        : reason === 'address_locked'
          ? `too many failed sign-in attempts from this address; try again after ${retry}`
          : `too many failed sign-in attempts in a row; wait and try again after ${retry}`;
    // reason travels as x-error-reason, retry_at as a public detail (the gateway's Retry-After and problem member).
    throw new DomainError('RESOURCE_EXHAUSTED', message, { details: { reason, retry_at: retry, public: { retry_at: retry } } });
  }

  /** A wrong password, an unknown account or a wrong second-factor code: counted and audited. */
  async failed(attempt: LoginAttempt, subject: AttemptSubject, reason: 'password' | 'second_factor'): Promise<void> {
    const why = reason === 'password' && !subject.userId ? 'unknown_account' : reason;
    await this.record(attempt, subject, 'login.failed', why);
  }

  /** A login that opened a session: the account's failures are cleared (not the address's); audited in `em`'s transaction. */
  async succeeded(em: EntityManager, attempt: LoginAttempt, subject: Required<AttemptSubject>, secondFactor: boolean): Promise<void> {
    await em.execute('DELETE FROM login_throttle WHERE key = ?', [accountKey(attempt.tenantSlug, attempt.email)]);
    audit(em, subject.tenantId, { kind: 'user', id: subject.userId }, 'login.succeeded', `user:${subject.userId}`, {
      address: attempt.address,
      user_agent: attempt.userAgent,
      second_factor: secondFactor,
    });
  }

  async listLocks(tenantId: string, opts: { lockedOnly: boolean; pageSize: number; cursor: string }): Promise<{ locks: LoginLock[]; nextCursor: string }> {
    if (opts.pageSize < 0) throw new ValidationError('invalid page_size', [{ field: 'page_size', message: 'must not be negative' }]);
    const size = Math.min(opts.pageSize || LOCKS_PAGE_DEFAULT, LOCKS_PAGE_MAX);
    const after = opts.cursor ? decodeLockCursor(opts.cursor) : null;
    if (!isUuid(tenantId)) return { locks: [], nextCursor: '' };
    const where = [
      'l.tenant_id = ?',
      "l.kind = 'account'",
      opts.lockedOnly
        ? 'l.locked_until > now()'
        : `(l.locked_until > now() OR (l.failures > 0 AND l.window_started_at > now() - make_interval(secs => ${this.ctx.env.LOGIN_FAILURE_WINDOW_SECONDS})))`,
    ];
    const params: unknown[] = [tenantId];
    if (after) {
      where.push('(COALESCE(l.locked_until > now(), false)::int, l.last_failure_at, l.id) < (?::int, ?::timestamptz, ?::uuid)');
      params.push(...after);
    }
    const rows = await this.conn.execute<LockRow[]>(
      `SELECT ${LOCK_COLS} FROM ${LOCK_FROM}
        WHERE ${where.join(' AND ')}
        ORDER BY COALESCE(l.locked_until > now(), false)::int DESC, l.last_failure_at DESC, l.id DESC
        LIMIT ?`,
      [...params, size + 1],
    );
    const page = rows.slice(0, size);
    return { locks: page.map(lockOut), nextCursor: rows.length > size ? encodeLockCursor(page[page.length - 1]!) : '' };
  }

  /** Clears an account's failures and lock (idempotent); another tenant's or an unknown id is NOT_FOUND. */
  async unlock(tenantId: string, actor: Actor, id: string): Promise<LoginLock> {
    const notFound = () => new NotFoundError('login lock', id.slice(0, 64));
    if (!isUuid(id) || !isUuid(tenantId)) throw notFound();
    return this.ctx.orm.em.fork().transactional(async (em) => {
      const before = await em.execute<{ email: string; failures: number; locked: boolean; locked_until: string | null }[]>(
        `SELECT email, failures, COALESCE(locked_until > now(), false) AS locked,
                ${CEIL_ISO('locked_until')} AS locked_until
           FROM login_throttle WHERE id = ? AND tenant_id = ? AND kind = 'account' FOR UPDATE`,
        [id, tenantId],
      );
      const row = before[0];
      if (!row) throw notFound();
      if (row.failures > 0 || row.locked) {
        await em.execute('UPDATE login_throttle SET failures = 0, locked_until = NULL, next_attempt_at = NULL, window_started_at = now(), updated_at = now() WHERE id = ?', [id]);
        audit(em, tenantId, actor, 'login.unlocked', `account:${row.email}`, {
          email: row.email,
          failures: row.failures,
          ...(row.locked && row.locked_until ? { locked_until: row.locked_until } : {}),
        });
      }
      const after = await em.execute<LockRow[]>(`SELECT ${LOCK_COLS} FROM ${LOCK_FROM} WHERE l.id = ?`, [id]);
      return lockOut(after[0]!);
    });
  }

  /**
   * One failure of the attempt's account and address — one atomic upsert of both rows, safe under any
   * number of concurrent attempts — and its audit rows, in one statement: its own small transaction, never
   * a session's. It commits asynchronously (synchronous_commit off for this transaction only): the rows'
   * locks are held for microseconds, not for a WAL flush, so a flood of attempts on one account does not
   * queue on its row; a PostgreSQL crash may lose the last fraction of a second of counts and of
   * failed/refused audit rows (a session's `login.succeeded` commits with the session, durably).
   * Answers why a refused attempt is refused and until when.
   */
  private async record(attempt: LoginAttempt, subject: AttemptSubject, action: 'login.failed' | 'login.refused', reason?: string): Promise<{ reason: string; retry_at: string }> {
    const counted: unknown[] = [uuidv7(), accountKey(attempt.tenantSlug, attempt.email), 'account', subject.tenantId ?? null, attempt.email, subject.userId ?? null, attempt.address];
    if (attempt.address !== '') counted.push(uuidv7(), addressKey(attempt.address), 'address', null, null, null, attempt.address);
    const tenant = subject.tenantId ?? null;
    const target = subject.userId ? `user:${subject.userId}` : `account:${attempt.email}`;
    const details = { email: attempt.email, address: attempt.address, user_agent: attempt.userAgent, ...(reason ? { reason } : {}) };
    const params = [
      // Account first, then address, in every statement: concurrent attempts take the row locks in the same order.
      ...counted,
      tenant, action, target, JSON.stringify(details), action === 'login.refused', tenant,
      tenant, target, `address:${attempt.address}`, attempt.email, attempt.address, tenant,
    ];
    const [row] = await this.conn.execute<{ reason: string; retry_at: string; started: string[] }[]>(this.recordSql(counted.length / 7), params);
    if (Math.floor(Math.random() * CLEANUP_ONE_IN) === 0) this.cleanUp();
    if (!tenant) {
      // A wholly unknown tenant has no audit log: a warn line only.
      this.ctx.logger.warn(
        { tenantSlug: attempt.tenantSlug.slice(0, 63), address: attempt.address, action, reason: action === 'login.refused' ? row!.reason : reason, locks_started: row!.started },
        'login attempt for an unknown tenant',
      );
    }
    return { reason: row!.reason, retry_at: row!.retry_at };
  }

  /** Deletes rows untouched for a day (never a lock in force); in the background, errors only logged. */
  private cleanUp(): void {
    this.conn
      .execute(`DELETE FROM login_throttle WHERE updated_at < now() - make_interval(secs => ${CLEANUP_AFTER_SECONDS}) AND (locked_until IS NULL OR locked_until <= now())`)
      .catch((err: unknown) => this.ctx.logger.warn({ err }, 'login_throttle clean-up failed'));
  }
}

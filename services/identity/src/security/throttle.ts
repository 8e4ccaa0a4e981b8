/**
 * The login throttle (issue 16 §1): failed attempts counted per account and per client address in
 * PostgreSQL (table login_throttle), growing delays, temporary locks, audit of every attempt, and the
 * admin's view of locked accounts. OWNER: helper "throttle".
 */
import type { LoginLock } from '@crm/contracts/crm/identity/v1/security';
import type { EntityManager } from '@crm/db';
import type { Actor } from '../audit';
import type { AttemptSubject, LoginAttempt, SecurityContext } from './context';

export class LoginThrottle {
  constructor(private readonly ctx: SecurityContext) {}

  /**
   * Before the password is checked: throws a RESOURCE_EXHAUSTED DomainError (details reason/retry_at)
   * when the account or the address may not try now. A refused attempt counts as a failure too.
   */
  async check(attempt: LoginAttempt, subject: AttemptSubject): Promise<void> {
    void attempt;
    void subject;
    void this.ctx;
  }

  /** A wrong password, an unknown account or a wrong second-factor code: counted and audited. */
  async failed(attempt: LoginAttempt, subject: AttemptSubject, reason: 'password' | 'second_factor'): Promise<void> {
    void attempt;
    void subject;
    void reason;
  }

  /** A login that opened a session: the account's failures are cleared; audited in `em`'s transaction. */
  succeeded(em: EntityManager, attempt: LoginAttempt, subject: Required<AttemptSubject>, secondFactor: boolean): void {
    void em;
    void attempt;
    void subject;
    void secondFactor;
  }

  async listLocks(tenantId: string, opts: { lockedOnly: boolean; pageSize: number; cursor: string }): Promise<{ locks: LoginLock[]; nextCursor: string }> {
    void tenantId;
    void opts;
    throw new Error('ListLoginLocks is not built yet');
  }

  async unlock(tenantId: string, actor: Actor, id: string): Promise<LoginLock> {
    void tenantId;
    void actor;
    void id;
    throw new Error('UnlockLogin is not built yet');
  }
}

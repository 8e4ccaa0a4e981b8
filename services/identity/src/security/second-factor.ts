/**
 * Two-factor sign-in (issue 16 §3): TOTP (RFC 6238) with recovery codes, the login challenge between the
 * password and the code, replay protection, the tenant's policy for admins and heads of sales.
 * OWNER: helper "mfa".
 */
import type { TotpEnrollment } from '@crm/contracts/crm/identity/v1/identity';
import type { SecurityPolicy, TwoFactorState } from '@crm/contracts/crm/identity/v1/security';
import type { EntityManager } from '@crm/db';
import type { Actor } from '../audit';
import type { SecurityContext } from './context';

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

export class SecondFactor {
  constructor(private readonly ctx: SecurityContext) {}

  /** After a right password: whether this user needs a second factor (the tenant's policy for their roles). */
  async needOf(tenantId: string, userId: string, roles: string[]): Promise<SecondFactorNeed> {
    void tenantId;
    void userId;
    void roles;
    void this.ctx;
    return 'none';
  }

  /** Stores a one-time challenge (SHA-256 only) in `em`'s unit of work; answers the token. */
  openChallenge(em: EntityManager, c: { tenantId: string; userId: string; kind: 'code' | 'enroll'; address: string; userAgent: string }): { token: string; expiresAt: Date } {
    void em;
    void c;
    throw new Error('second-factor challenges are not built yet');
  }

  /** A live (unexpired, unused) challenge, or UNAUTHENTICATED (InvalidCredentialsError). */
  async challenge(token: string): Promise<Challenge> {
    void token;
    throw new Error('second-factor challenges are not built yet');
  }

  async beginLoginEnrollment(token: string): Promise<TotpEnrollment> {
    void token;
    throw new Error('enrolment at login is not built yet');
  }

  /**
   * Checks the proof for the challenge inside `em`'s transaction (the challenge row locked): true marks
   * it used (and the code's time step, or the recovery code, used); an enrolment challenge's first
   * right code enables TOTP and answers the recovery codes. False: a wrong or replayed code.
   */
  async verify(em: EntityManager, challenge: Challenge, proof: Proof): Promise<{ ok: boolean; recoveryCodes: string[] }> {
    void em;
    void challenge;
    void proof;
    throw new Error('second-factor verification is not built yet');
  }

  async state(tenantId: string, userId: string, roles: string[]): Promise<TwoFactorState> {
    void tenantId;
    void userId;
    void roles;
    throw new Error('two-factor state is not built yet');
  }

  async beginEnrollment(tenantId: string, userId: string, actor: Actor): Promise<TotpEnrollment> {
    void tenantId;
    void userId;
    void actor;
    throw new Error('enrolment is not built yet');
  }

  async confirmEnrollment(tenantId: string, userId: string, actor: Actor, code: string): Promise<string[]> {
    void tenantId;
    void userId;
    void actor;
    void code;
    throw new Error('enrolment is not built yet');
  }

  async disable(tenantId: string, userId: string, roles: string[], actor: Actor, proof: Proof): Promise<TwoFactorState> {
    void tenantId;
    void userId;
    void roles;
    void actor;
    void proof;
    throw new Error('disabling two-factor sign-in is not built yet');
  }

  async regenerateRecoveryCodes(tenantId: string, userId: string, actor: Actor, code: string): Promise<string[]> {
    void tenantId;
    void userId;
    void actor;
    void code;
    throw new Error('recovery codes are not built yet');
  }

  /** Admin: removes a user's TOTP and codes in `em`'s transaction (the caller ends their sessions). */
  async reset(em: EntityManager, tenantId: string, userId: string, actor: Actor): Promise<void> {
    void em;
    void tenantId;
    void userId;
    void actor;
    throw new Error('resetting two-factor sign-in is not built yet');
  }

  async policy(tenantId: string): Promise<SecurityPolicy> {
    void tenantId;
    throw new Error('the security policy is not built yet');
  }

  async updatePolicy(tenantId: string, actor: Actor, input: { requireSecondFactorForPrivileged?: boolean }): Promise<SecurityPolicy> {
    void tenantId;
    void actor;
    void input;
    throw new Error('the security policy is not built yet');
  }
}

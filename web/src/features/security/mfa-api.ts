/**
 * Two-factor sign-in over the gateway's REST API (issue 16 §3): the login's second step and enrolment at
 * login, the caller's own TOTP and recovery codes, the tenant's policy.
 */
import { client, unwrap, type Complete } from '../../api';
import type { components } from '../../gen/api';

type S = components['schemas'];

export type TwoFactorState = Complete<S['TwoFactorState']>;
export type TotpEnrollment = Complete<S['TotpEnrollment']>;
export type SignedIn = Complete<S['SignedIn']>;
export type SecurityPolicy = Complete<S['SecurityPolicy']>;
export type Proof = { code: string } | { recovery_code: string };

export const mfaApi = {
  /** The login's second step: a session (the cookie is set) and, after an enrolment, the recovery codes once. */
  secondFactor: (challenge: string, proof: Proof): Promise<SignedIn> => unwrap(client.POST('/v1/session/second-factor', { body: { challenge, ...proof } })),
  beginLoginEnrollment: (challenge: string): Promise<TotpEnrollment> => unwrap(client.POST('/v1/session/enrollment', { body: { challenge } })),

  state: (signal?: AbortSignal): Promise<TwoFactorState> => unwrap(client.GET('/v1/me/two-factor', { signal }), signal),
  begin: (): Promise<TotpEnrollment> => unwrap(client.POST('/v1/me/two-factor/totp')),
  confirm: (code: string): Promise<{ recovery_codes: string[] }> => unwrap(client.POST('/v1/me/two-factor/totp/confirm', { body: { code } })),
  disable: (proof: Proof): Promise<TwoFactorState> => unwrap(client.POST('/v1/me/two-factor/disable', { body: proof })),
  regenerate: (code: string): Promise<{ recovery_codes: string[] }> => unwrap(client.POST('/v1/me/two-factor/recovery-codes', { body: { code } })),

  policy: (signal?: AbortSignal): Promise<SecurityPolicy> => unwrap(client.GET('/v1/security/policy', { signal }), signal),
  updatePolicy: (body: { require_second_factor_for_privileged?: boolean }): Promise<SecurityPolicy> => unwrap(client.PATCH('/v1/security/policy', { body })),
};

/** Six digits from what was typed (spaces dropped); '' when it is not. */
export function cleanCode(typed: string): string {
  const c = typed.replace(/\s/g, '');
  return /^[0-9]{6}$/.test(c) ? c : '';
}

/** A recovery code as the API takes it (`xxxx-xxxx`, lower case); '' when it cannot be one. */
export function cleanRecoveryCode(typed: string): string {
  const c = typed.trim().toLowerCase().replace(/[\s-]/g, '');
  return /^[a-z0-9]{8}$/.test(c) ? `${c.slice(0, 4)}-${c.slice(4)}` : '';
}

/**
 * Two-factor sign-in (issue 16 §3): /v1/me/two-factor…, the login's second step /v1/session/second-factor,
 * enrolment at login, the tenant's policy /v1/security/policy, an admin's reset.
 */
import type { TotpEnrollment } from '@crm/contracts/crm/identity/v1/identity';
import type { TwoFactorState } from '@crm/contracts/crm/identity/v1/security';
import { DomainError } from '@crm/errors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PLATFORM, requireScope, SESSION_COOKIE, toCaller, type Caller } from '../auth';
import { serializeCookie } from '../cookies';
import type { GatewayDeps } from '../deps';
import { enforceLimits } from '../limiter';
import { AUTHENTICATED, idParam, json, meSchema, problems, WITH_BODY } from '../schemas';
import { me } from './session';

const code = { type: 'string', minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$', description: 'The 6 digits the authenticator app shows now' } as const;
const recoveryCode = { type: 'string', minLength: 8, maxLength: 9, pattern: '^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}$', description: 'One of the recovery codes, `xxxx-xxxx` (single use)' } as const;
const challenge = { type: 'string', minLength: 43, maxLength: 43, pattern: '^[A-Za-z0-9_-]{43}$', description: 'The `challenge` of the login’s 202 answer' } as const;
const recoveryCodes = {
  type: 'array',
  minItems: 10,
  maxItems: 10,
  items: { type: 'string', pattern: '^[a-z0-9]{4}-[a-z0-9]{4}$' },
  description: 'Ten single-use codes `xxxx-xxxx`, shown only in this answer (only their hashes are stored): keep them somewhere safe',
} as const;

export const secondFactorChallengeSchema = {
  $id: 'SecondFactorChallenge',
  type: 'object',
  description: 'The password was right; the login needs a second factor before it opens a session',
  required: ['second_factor', 'challenge', 'expires_at'],
  properties: {
    second_factor: { type: 'string', enum: ['code', 'enroll'], description: '`code`: send a code (or a recovery code); `enroll`: the tenant requires two-factor sign-in of this role and the user has none yet — enrol first' },
    challenge: { ...challenge, description: 'One-time; send it with the code to `POST /v1/session/second-factor`' },
    expires_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const twoFactorStateSchema = {
  $id: 'TwoFactorState',
  type: 'object',
  description: "A user's two-factor sign-in (TOTP, RFC 6238) and recovery codes",
  required: ['enabled', 'enabled_at', 'recovery_codes_left', 'required', 'pending'],
  properties: {
    enabled: { type: 'boolean', description: 'Sign-in asks for a code after the password' },
    enabled_at: { type: ['string', 'null'], format: 'date-time' },
    recovery_codes_left: { type: 'integer', minimum: 0, maximum: 10, description: 'Unused recovery codes' },
    required: { type: 'boolean', description: "The tenant requires it of this user's role (it cannot be turned off)" },
    pending: { type: 'boolean', description: 'An enrolment was begun and not confirmed yet' },
  },
} as const;

export const totpEnrollmentSchema = {
  $id: 'TotpEnrollment',
  type: 'object',
  description: 'A TOTP secret being enrolled (SHA-1, 6 digits, 30 s), shown once: add it to an authenticator app, then confirm with a code',
  required: ['secret', 'otpauth_uri'],
  properties: {
    secret: { type: 'string', pattern: '^[A-Z2-7]+=*$', description: 'Base32' },
    otpauth_uri: { type: 'string', description: 'otpauth://totp/… (for a QR code)' },
  },
} as const;

export const recoveryCodesSchema = {
  $id: 'RecoveryCodes',
  type: 'object',
  required: ['recovery_codes'],
  properties: { recovery_codes: recoveryCodes },
} as const;

export const totpCodeSchema = {
  $id: 'TotpCode',
  type: 'object',
  additionalProperties: false,
  required: ['code'],
  properties: { code },
  examples: [{ code: '123456' }],
} as const;

export const twoFactorProofSchema = {
  $id: 'TwoFactorProof',
  type: 'object',
  description: 'A current code or one of the recovery codes (exactly one of them)',
  additionalProperties: false,
  properties: { code, recovery_code: recoveryCode },
  oneOf: [{ required: ['code'] }, { required: ['recovery_code'] }],
  examples: [{ code: '123456' }],
} as const;

export const secondFactorLoginSchema = {
  $id: 'SecondFactorLogin',
  type: 'object',
  description: "The login's second step: the challenge and a current code or a recovery code (exactly one of them)",
  additionalProperties: false,
  required: ['challenge'],
  properties: { challenge, code, recovery_code: recoveryCode },
  oneOf: [{ required: ['code'] }, { required: ['recovery_code'] }],
  examples: [{ challenge: 'Xq3v9m0bW5yT2nH8kLpR4sJ6dF1gA7cE0uZiOoYwB2Q', code: '123456' }],
} as const;

export const enrollmentChallengeSchema = {
  $id: 'EnrollmentChallenge',
  type: 'object',
  additionalProperties: false,
  required: ['challenge'],
  properties: { challenge },
  examples: [{ challenge: 'Xq3v9m0bW5yT2nH8kLpR4sJ6dF1gA7cE0uZiOoYwB2Q' }],
} as const;

export const signedInSchema = {
  $id: 'SignedIn',
  type: 'object',
  description: 'Who signed in (as `Me`), and the ten recovery codes once when an enrolment completed at this login ([] otherwise)',
  required: [...meSchema.required, 'recovery_codes'],
  properties: { ...meSchema.properties, recovery_codes: { ...recoveryCodes, minItems: 0 } },
} as const;

export const securityPolicySchema = {
  $id: 'SecurityPolicy',
  type: 'object',
  description: "The tenant's sign-in policy",
  required: ['require_second_factor_for_privileged'],
  properties: {
    require_second_factor_for_privileged: { type: 'boolean', description: 'Admins and heads of sales sign in with a second factor (those without one enrol at their next login)' },
  },
} as const;

export const updateSecurityPolicySchema = {
  $id: 'UpdateSecurityPolicy',
  type: 'object',
  additionalProperties: false,
  properties: { require_second_factor_for_privileged: { type: 'boolean' } },
  examples: [{ require_second_factor_for_privileged: true }],
} as const;

export const twoFactorSchemas: { $id: string }[] = [
  secondFactorChallengeSchema,
  twoFactorStateSchema,
  totpEnrollmentSchema,
  recoveryCodesSchema,
  totpCodeSchema,
  twoFactorProofSchema,
  secondFactorLoginSchema,
  enrollmentChallengeSchema,
  signedInSchema,
  securityPolicySchema,
  updateSecurityPolicySchema,
];

function stateOut(s: TwoFactorState | undefined) {
  return { enabled: s?.enabled ?? false, enabled_at: s?.enabledAt ?? null, recovery_codes_left: s?.recoveryCodesLeft ?? 0, required: s?.required ?? false, pending: s?.pending ?? false };
}

const enrollmentOut = (e: TotpEnrollment | undefined) => ({ secret: e?.secret ?? '', otpauth_uri: e?.otpauthUri ?? '' });

/** /v1/me/two-factor… is about the signed-in person: an API key has no second factor (403). */
function sessionUser(req: FastifyRequest): Caller {
  const c = req.caller!;
  if (c.via !== 'session') throw new DomainError('PERMISSION_DENIED', 'two-factor sign-in is managed by the signed-in user (not with an API key)');
  return c;
}

/** Exactly one of code / recovery_code. */
function proofOf(body: { code?: string; recovery_code?: string }): { $case: 'code'; value: string } | { $case: 'recoveryCode'; value: string } {
  if ((body.code === undefined) === (body.recovery_code === undefined)) {
    throw new DomainError('INVALID_ARGUMENT', 'send either code or recovery_code', { violations: [{ field: 'code', message: 'send either code or recovery_code (exactly one)' }] });
  }
  return body.code !== undefined ? { $case: 'code', value: body.code } : { $case: 'recoveryCode', value: body.recovery_code! };
}

const ME = ['two-factor'];

export async function twoFactorRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;

  app.get(
    '/v1/me/two-factor',
    {
      schema: {
        tags: ME,
        operationId: 'getOwnTwoFactor',
        summary: 'My two-factor sign-in',
        description: 'For a signed-in user (an API key is refused with 403).',
        response: { 200: json('The state', { $ref: 'TwoFactorState#' }), ...problems(...AUTHENTICATED) },
      },
    },
    async (req) => stateOut((await clients.security.getOwnTwoFactor({}, sessionUser(req).tenant)).state),
  );

  app.post(
    '/v1/me/two-factor/totp',
    {
      schema: {
        tags: ME,
        operationId: 'beginOwnTotpEnrollment',
        summary: 'Begin enrolling an authenticator app',
        description: 'Answers a new secret (replacing an unconfirmed one) and its otpauth:// URI; confirm it with a code. Already on: 409 (turn it off first).',
        response: { 200: json('The secret, shown once', { $ref: 'TotpEnrollment#' }), ...problems(...AUTHENTICATED, 409) },
      },
    },
    async (req) => enrollmentOut((await clients.security.beginOwnTotpEnrollment({}, sessionUser(req).tenant)).enrollment),
  );

  app.post<{ Body: { code: string } }>(
    '/v1/me/two-factor/totp/confirm',
    {
      schema: {
        tags: ME,
        operationId: 'confirmOwnTotpEnrollment',
        summary: 'Confirm the authenticator app with a current code (turns two-factor sign-in on)',
        description: 'A wrong code is a 400 (field `code`); no enrolment begun, or already on: 409. Answers the ten recovery codes, shown only here.',
        body: { $ref: 'TotpCode#' },
        response: { 200: json('Two-factor sign-in is on', { $ref: 'RecoveryCodes#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 409) },
      },
    },
    async (req) => ({ recovery_codes: (await clients.security.confirmOwnTotpEnrollment({ code: req.body.code }, sessionUser(req).tenant)).codes }),
  );

  app.post<{ Body: { code?: string; recovery_code?: string } }>(
    '/v1/me/two-factor/disable',
    {
      schema: {
        tags: ME,
        operationId: 'disableOwnTwoFactor',
        summary: 'Turn my two-factor sign-in off',
        description: 'Needs a current code or an unused recovery code (a wrong one is a 400). 409 when it is not on, or when the tenant requires it of your role.',
        body: { $ref: 'TwoFactorProof#' },
        response: { 200: json('The state after', { $ref: 'TwoFactorState#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 409) },
      },
    },
    async (req) => {
      const caller = sessionUser(req);
      return stateOut((await clients.security.disableOwnTotp({ proof: proofOf(req.body) }, caller.tenant)).state);
    },
  );

  app.post<{ Body: { code: string } }>(
    '/v1/me/two-factor/recovery-codes',
    {
      schema: {
        tags: ME,
        operationId: 'regenerateOwnRecoveryCodes',
        summary: 'Replace my recovery codes (the old ones stop working)',
        description: 'Needs a current code (a wrong one is a 400); 409 when two-factor sign-in is not on.',
        body: { $ref: 'TotpCode#' },
        response: { 200: json('The new codes, shown only here', { $ref: 'RecoveryCodes#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 409) },
      },
    },
    async (req) => ({ recovery_codes: (await clients.security.regenerateOwnRecoveryCodes({ code: req.body.code }, sessionUser(req).tenant)).codes }),
  );

  // ---- the login's second step (no credential yet: the challenge is the credential) ----

  app.post<{ Body: { challenge: string; code?: string; recovery_code?: string } }>(
    '/v1/session/second-factor',
    {
      config: { public: true, signIn: true },
      schema: {
        tags: ['session'],
        operationId: 'loginSecondFactor',
        summary: "The login's second step: a code (sets the session cookie)",
        description:
          'After `POST /v1/session` answered 202: the challenge with a current code or a recovery code. A wrong code is a 401 and counts as a failed login (the same throttle, 429 with `retry_at`); a challenge takes five wrong codes, then the login starts again. For an enrolment challenge (`second_factor: enroll`), `POST /v1/session/enrollment` first; the first right code turns two-factor sign-in on and the answer carries the recovery codes once.',
        security: [],
        body: { $ref: 'SecondFactorLogin#' },
        response: {
          200: json('Signed in; the session cookie is set', { $ref: 'SignedIn#' }, { 'set-cookie': { type: 'string', description: 'crm_session=…; HttpOnly; SameSite=Lax' } }),
          ...problems(...WITH_BODY, 401, 429, 503, 504),
        },
      },
    },
    async (req, reply) => {
      // The same per-address budget as the password step: codes cannot be guessed at full speed either.
      await enforceLimits(reply, 'too many sign-in attempts from this address; try again later', [deps.limits.loginPerIp, req.ip]);
      const res = await clients.identity.verifySecondFactor(
        { challengeToken: req.body.challenge, proof: proofOf(req.body), clientAddress: req.ip, userAgent: String(req.headers['user-agent'] ?? '').slice(0, 512) },
        PLATFORM,
      );
      reply.header('set-cookie', serializeCookie(SESSION_COOKIE, res.sessionToken, { expires: new Date(res.expiresAt), secure: deps.env.SESSION_COOKIE_SECURE }));
      return { ...me(toCaller(res.principal!, 'session')), recovery_codes: res.recoveryCodes };
    },
  );

  app.post<{ Body: { challenge: string } }>(
    '/v1/session/enrollment',
    {
      config: { public: true, signIn: true },
      schema: {
        tags: ['session'],
        operationId: 'beginLoginEnrollment',
        summary: 'Enrol an authenticator app during a login the tenant requires it for',
        description: 'For a 202 with `second_factor: enroll`: answers the secret to add to the app; then `POST /v1/session/second-factor` with its first code. A bad or expired challenge is a 401.',
        security: [],
        body: { $ref: 'EnrollmentChallenge#' },
        response: { 200: json('The secret, shown once', { $ref: 'TotpEnrollment#' }), ...problems(...WITH_BODY, 401, 409, 429, 503, 504) },
      },
    },
    async (req, reply) => {
      await enforceLimits(reply, 'too many sign-in attempts from this address; try again later', [deps.limits.loginPerIp, req.ip]);
      return enrollmentOut((await clients.identity.beginLoginEnrollment({ challengeToken: req.body.challenge }, PLATFORM)).enrollment);
    },
  );

  // ---- admins ----

  app.post<{ Params: { id: string } }>(
    '/v1/team/users/:id/two-factor/reset',
    {
      schema: {
        tags: ['team'],
        operationId: 'resetUserTwoFactor',
        summary: "Remove a user's authenticator and recovery codes (a lost phone)",
        description: 'Admins only (scope identity:admin). Their sessions end; if the tenant requires two-factor sign-in of their role, they enrol again at their next login.',
        params: idParam,
        response: { 200: json('Their state after', { $ref: 'TwoFactorState#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const res = await clients.security.resetUserTwoFactor({ userId: req.params.id }, req.caller!.tenant);
      deps.auth.forgetSubject(req.params.id);
      return stateOut(res.state);
    },
  );

  app.get(
    '/v1/security/policy',
    {
      schema: {
        tags: ['security'],
        operationId: 'getSecurityPolicy',
        summary: "The tenant's sign-in policy",
        description: 'Admins only (scope identity:admin).',
        response: { 200: json('The policy', { $ref: 'SecurityPolicy#' }), ...problems(...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const { policy } = await clients.security.getSecurityPolicy({}, req.caller!.tenant);
      return { require_second_factor_for_privileged: policy?.requireSecondFactorForPrivileged ?? false };
    },
  );

  app.patch<{ Body: { require_second_factor_for_privileged?: boolean } }>(
    '/v1/security/policy',
    {
      schema: {
        tags: ['security'],
        operationId: 'updateSecurityPolicy',
        summary: "Change the tenant's sign-in policy",
        description: 'Admins only (scope identity:admin). Only the fields sent are changed; audited.',
        body: { $ref: 'UpdateSecurityPolicy#' },
        response: { 200: json('The policy after', { $ref: 'SecurityPolicy#' }), ...problems(...WITH_BODY, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'identity:admin');
      const { policy } = await clients.security.updateSecurityPolicy({ requireSecondFactorForPrivileged: req.body?.require_second_factor_for_privileged }, req.caller!.tenant);
      return { require_second_factor_for_privileged: policy?.requireSecondFactorForPrivileged ?? false };
    },
  );
}

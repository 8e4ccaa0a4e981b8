import { z } from '@crm/config';
import { baseServiceEnv } from '@crm/service';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** identity's environment: the standard service variables and the sign-in security settings (README.md). */
export const identityEnv = baseServiceEnv.extend({
  /** Failed logins in LOGIN_FAILURE_WINDOW_SECONDS after which each next attempt on the account must wait (growing: base, 2×, 4×…). */
  LOGIN_DELAY_AFTER: int(1, 1000).default(3),
  LOGIN_DELAY_BASE_MS: int(0, 600_000).default(1000),
  LOGIN_DELAY_MAX_MS: int(0, 3_600_000).default(60_000),
  /** Failed logins on one account (from any address) in the window that lock it for LOGIN_LOCK_SECONDS. */
  LOGIN_ACCOUNT_LOCK_AFTER: int(1, 1000).default(10),
  /** Failed logins from one client address (on any accounts) in the window that lock the address. */
  LOGIN_ADDRESS_LOCK_AFTER: int(1, 100_000).default(50),
  LOGIN_LOCK_SECONDS: int(1, 86_400).default(900),
  LOGIN_FAILURE_WINDOW_SECONDS: int(1, 86_400).default(900),
  /** A session ends this long after it was opened, and after this long without a request. */
  SESSION_ABSOLUTE_HOURS: int(1, 720).default(12),
  SESSION_IDLE_MINUTES: int(1, 43_200).default(120),
  /** How long the challenge between the password and the second factor holds. */
  LOGIN_CHALLENGE_SECONDS: int(30, 3600).default(300),
  /**
   * 32 bytes, base64: seals TOTP secrets at rest (AES-256-GCM). Empty: a fixed development key is used and
   * a warning is logged — set it in production (the Helm chart takes it from a Secret).
   */
  IDENTITY_SECRET_KEY: z.string().regex(/^$|^[A-Za-z0-9+/]{43}=$/, 'expected 32 bytes in base64').default(''),
});
export type IdentityEnv = z.infer<typeof identityEnv>;

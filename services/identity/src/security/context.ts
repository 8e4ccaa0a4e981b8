import type { MikroORM } from '@crm/db';
import type { Logger } from '@crm/logger';
import type { IdentityEnv } from '../config';

/** What the security areas (throttle, sessions, second factor, quotas) are built from. */
export interface SecurityContext {
  orm: MikroORM;
  logger: Logger;
  env: IdentityEnv;
}

/** One login attempt as the gateway saw it (Login and VerifySecondFactor). */
export interface LoginAttempt {
  tenantSlug: string;
  /** Lower-cased and trimmed, as typed (the account need not exist). */
  email: string;
  /** The client's address ('' when the gateway did not say). */
  address: string;
  /** At most 512 characters. */
  userAgent: string;
}

/** Who an attempt was about, when identity knows it. */
export interface AttemptSubject {
  tenantId?: string;
  userId?: string;
}

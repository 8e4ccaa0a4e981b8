import type { SecurityContext } from './context';
import { Quotas } from './quota';
import { SecondFactor } from './second-factor';
import { Sessions } from './sessions';
import { LoginThrottle } from './throttle';

export type { LoginAttempt, AttemptSubject, SecurityContext } from './context';

/** The security areas, built once per process and shared by IdentityService, TeamService and SecurityService. */
export interface SecurityAreas extends SecurityContext {
  throttle: LoginThrottle;
  sessions: Sessions;
  secondFactor: SecondFactor;
  quotas: Quotas;
}

export function securityAreas(ctx: SecurityContext): SecurityAreas {
  return { ...ctx, throttle: new LoginThrottle(ctx), sessions: new Sessions(ctx), secondFactor: new SecondFactor(ctx), quotas: new Quotas(ctx) };
}

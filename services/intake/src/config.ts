import { z } from '@crm/config';
import { baseServiceEnv } from '@crm/service';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js';

const hostPort = z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port');

/** Working the request (issue 8): the team from identity, the timers' runner. */
export const intakeWorkflowEnv = {
  /** `host:port` of identity: the team roster (departments, schedules, SLAs, users on shift) for routing. */
  IDENTITY_GRPC_ADDR: hostPort,
  /** How long a tenant's roster is reused before identity is asked again (0: every time). */
  INTAKE_TEAM_CACHE_MS: z.coerce.number().int().min(0).max(600_000).default(5000),
  /** graphile-worker's concurrency in this replica (SLA breaches, revisits, task reminders). */
  INTAKE_TIMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** graphile-worker's poll interval (ms) when LISTEN/NOTIFY is missed; jobs due later are woken by their run_at. */
  INTAKE_TIMER_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
};

/** intake's environment: the base service variables plus its own. */
export const intakeEnv = baseServiceEnv.extend({
  /** ISO 3166-1 alpha-2 used to read phones written without a +country code (e.g. `8 (999) 123-45-67`). */
  INTAKE_DEFAULT_COUNTRY: z
    .string()
    .trim()
    .toUpperCase()
    .refine((c): c is CountryCode => isSupportedCountry(c), 'must be a supported ISO 3166-1 alpha-2 country code')
    .default('RU'),
  /** `host:port` of contacts: every request with a phone or an e-mail is matched to a contact (MatchOrCreate). */
  CONTACTS_GRPC_ADDR: hostPort,
  /**
   * The deadline of the MatchOrCreate call made while a request is created. Past it the request is
   * created without a contact (classified by its points) and the backfill links it later.
   */
  INTAKE_CONTACTS_TIMEOUT_MS: z.coerce.number().int().min(50).max(10_000).default(800),
  /** How often the backfill looks for requests still without a contact once it has linked all it could. */
  INTAKE_BACKFILL_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(5000),
  ...intakeWorkflowEnv,
});

export type IntakeEnv = z.infer<typeof intakeEnv>;

import { z } from '@crm/config';
import { baseServiceEnv } from '@crm/service';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js';

const hostPort = z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port');

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
});

export type IntakeEnv = z.infer<typeof intakeEnv>;

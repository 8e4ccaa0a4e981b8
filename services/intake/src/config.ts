import { z } from '@crm/config';
import { baseServiceEnv } from '@crm/service';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js';

/** intake's environment: the base service variables plus its own. */
export const intakeEnv = baseServiceEnv.extend({
  /** ISO 3166-1 alpha-2 used to read phones written without a +country code (e.g. `8 (999) 123-45-67`). */
  INTAKE_DEFAULT_COUNTRY: z
    .string()
    .trim()
    .toUpperCase()
    .refine((c): c is CountryCode => isSupportedCountry(c), 'must be a supported ISO 3166-1 alpha-2 country code')
    .default('RU'),
});

export type IntakeEnv = z.infer<typeof intakeEnv>;

import { z } from '@crm/config';
import { baseServiceEnv } from '@crm/service';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js';

/** The environment of contacts: the standard service variables (README.md) plus its own. */
export const contactsEnv = baseServiceEnv.extend({
  /** ISO 3166-1 alpha-2 used to read phones written without a +country code, when a call names none. */
  CONTACTS_DEFAULT_COUNTRY: z
    .string()
    .trim()
    .toUpperCase()
    .refine((c): c is CountryCode => isSupportedCountry(c), 'must be a supported ISO 3166-1 alpha-2 country code')
    .default('RU'),
  /** The largest CSV file an import accepts (bytes); a larger one is refused before any of it is stored. */
  CONTACTS_IMPORT_MAX_BYTES: z.coerce.number().int().min(1024).max(2 ** 31).default(64 * 1024 * 1024),
});
export type ContactsEnv = z.infer<typeof contactsEnv>;

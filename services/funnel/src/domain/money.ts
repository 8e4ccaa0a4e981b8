/**
 * Money on deals: an amount in integer minor units (kopecks, cents) and an ISO 4217 currency from a
 * fixed list of active codes. Pure; every caller-given amount and currency goes through these.
 */
import { ValidationError } from '@crm/errors';

/** The largest amount in minor units a deal may carry (10^15: well inside a safe JS integer). */
export const MAX_AMOUNT_MINOR = 1_000_000_000_000_000;

/** The currency of new deals when neither the request nor the pipeline names one. */
export const DEFAULT_CURRENCY = 'RUB';

/**
 * Active ISO 4217 codes accepted on deals and as a pipeline's default currency (funds, precious metals,
 * test and "no currency" codes — XTS, XXX, XAU… — are left out on purpose).
 */
export const CURRENCIES: readonly string[] = Object.freeze([
  'AED', 'AFN', 'ALL', 'AMD', 'ANG', 'AOA', 'ARS', 'AUD', 'AWG', 'AZN',
  'BAM', 'BBD', 'BDT', 'BGN', 'BHD', 'BIF', 'BMD', 'BND', 'BOB', 'BRL', 'BSD', 'BTN', 'BWP', 'BYN', 'BZD',
  'CAD', 'CDF', 'CHF', 'CLP', 'CNY', 'COP', 'CRC', 'CUP', 'CVE', 'CZK',
  'DJF', 'DKK', 'DOP', 'DZD',
  'EGP', 'ERN', 'ETB', 'EUR',
  'FJD', 'FKP',
  'GBP', 'GEL', 'GHS', 'GIP', 'GMD', 'GNF', 'GTQ', 'GYD',
  'HKD', 'HNL', 'HTG', 'HUF',
  'IDR', 'ILS', 'INR', 'IQD', 'IRR', 'ISK',
  'JMD', 'JOD', 'JPY',
  'KES', 'KGS', 'KHR', 'KMF', 'KPW', 'KRW', 'KWD', 'KYD', 'KZT',
  'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'LYD',
  'MAD', 'MDL', 'MGA', 'MKD', 'MMK', 'MNT', 'MOP', 'MRU', 'MUR', 'MVR', 'MWK', 'MXN', 'MYR', 'MZN',
  'NAD', 'NGN', 'NIO', 'NOK', 'NPR', 'NZD',
  'OMR',
  'PAB', 'PEN', 'PGK', 'PHP', 'PKR', 'PLN', 'PYG',
  'QAR',
  'RON', 'RSD', 'RUB', 'RWF',
  'SAR', 'SBD', 'SCR', 'SDG', 'SEK', 'SGD', 'SHP', 'SLE', 'SOS', 'SRD', 'SSP', 'STN', 'SVC', 'SYP', 'SZL',
  'THB', 'TJS', 'TMT', 'TND', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS',
  'UAH', 'UGX', 'USD', 'UYU', 'UZS',
  'VES', 'VND', 'VUV',
  'WST',
  'XAF', 'XCD', 'XOF', 'XPF',
  'YER',
  'ZAR', 'ZMW', 'ZWG',
]);

const KNOWN = new Set(CURRENCIES);

/** True when `code` is one of CURRENCIES (exactly: upper case, three letters). */
export function isCurrency(code: string): boolean {
  return KNOWN.has(code);
}

/**
 * A caller's currency: trimmed and upper-cased, then one of CURRENCIES, else INVALID_ARGUMENT on
 * `field`. Empty (or absent) is `fallback` when one is given (the pipeline's default), else refused.
 */
export function currency(raw: string | undefined, fallback?: string, field = 'currency'): string {
  const v = (raw ?? '').trim().toUpperCase();
  if (!v) {
    if (fallback !== undefined) return fallback;
    throw new ValidationError(`${field} is required`, [{ field, message: 'is required' }]);
  }
  if (!KNOWN.has(v)) {
    throw new ValidationError(`${field} must be an ISO 4217 currency code`, [{ field, message: `unknown currency ${JSON.stringify(v.slice(0, 10))}` }]);
  }
  return v;
}

/**
 * A caller's amount in minor units: an integer 0..10^15 (a number, a bigint or a string of digits —
 * int64 fields may arrive as any of them), else INVALID_ARGUMENT on `field`. Absent is 0.
 */
export function amountMinor(raw: number | bigint | string | undefined | null, field = 'amount_minor'): number {
  if (raw === undefined || raw === null) return 0;
  const refuse = (message: string): never => {
    throw new ValidationError(`${field} ${message}`, [{ field, message }]);
  };
  let n: number;
  if (typeof raw === 'bigint') {
    if (raw < 0n || raw > BigInt(MAX_AMOUNT_MINOR)) refuse(`must be 0..${MAX_AMOUNT_MINOR}`);
    n = Number(raw);
  } else if (typeof raw === 'string') {
    const s = raw.trim();
    if (!/^-?\d{1,20}$/.test(s)) refuse('must be an integer number of minor units');
    n = Number(s);
  } else if (typeof raw === 'number') {
    n = raw;
  } else {
    return refuse('must be an integer number of minor units');
  }
  if (!Number.isFinite(n) || !Number.isInteger(n)) refuse('must be an integer number of minor units');
  if (n < 0 || n > MAX_AMOUNT_MINOR) refuse(`must be 0..${MAX_AMOUNT_MINOR}`);
  return n === 0 ? 0 : n; // -0 is 0
}

import { isDomainError } from '@crm/errors';
import { amountMinor, currency, CURRENCIES, DEFAULT_CURRENCY, isCurrency, MAX_AMOUNT_MINOR } from './money';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isDomainError(err) ? err.code : 'not a domain error';
  }
};

describe('money', () => {
  it('knows the codes sellers use and no duplicates, all three upper-case letters', () => {
    for (const c of ['RUB', 'USD', 'EUR', 'KZT', 'BYN', 'UAH', 'CNY', 'GBP', 'TRY', 'AED', 'UZS', 'AMD', 'GEL']) expect(isCurrency(c)).toBe(true);
    expect(new Set(CURRENCIES).size).toBe(CURRENCIES.length);
    for (const c of CURRENCIES) expect(c).toMatch(/^[A-Z]{3}$/);
    expect(isCurrency(DEFAULT_CURRENCY)).toBe(true);
  });

  it('reads a currency trimmed and upper-cased; an unknown or malformed one is INVALID_ARGUMENT', () => {
    expect(currency(' rub ')).toBe('RUB');
    expect(currency('', 'EUR')).toBe('EUR');
    expect(currency(undefined, 'USD')).toBe('USD');
    for (const bad of ['XXX', 'XAU', 'RUR', 'US', 'USDD', '₽', 'R U', '']) expect(code(() => currency(bad))).toBe('INVALID_ARGUMENT');
    expect(code(() => currency('ZZZ', 'RUB'))).toBe('INVALID_ARGUMENT');
  });

  it('takes integer amounts 0..10^15 and nothing else', () => {
    expect(amountMinor(undefined)).toBe(0);
    expect(amountMinor(0)).toBe(0);
    expect(amountMinor(-0)).toBe(0);
    expect(Object.is(amountMinor(-0), 0)).toBe(true);
    expect(amountMinor(12_345)).toBe(12_345);
    expect(amountMinor(MAX_AMOUNT_MINOR)).toBe(MAX_AMOUNT_MINOR);
    expect(amountMinor('1000')).toBe(1000);
    expect(amountMinor(10n ** 15n)).toBe(MAX_AMOUNT_MINOR);
    for (const bad of [-1, MAX_AMOUNT_MINOR + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1.5', '1e3', '', 'abc', 10n ** 15n + 1n, -1n, '-5']) {
      expect(code(() => amountMinor(bad))).toBe('INVALID_ARGUMENT');
    }
  });
});

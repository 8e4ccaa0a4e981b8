import { DomainError } from '@crm/errors';
import { isValidInn, parseInn } from './inn';

/** A 10-digit INN with the right check digit after the nine given. */
function inn10(nine: string): string {
  const w = [2, 4, 10, 3, 5, 9, 4, 6, 8];
  const sum = [...nine].reduce((s, c, i) => s + Number(c) * w[i]!, 0);
  return nine + ((sum % 11) % 10);
}

describe('INN', () => {
  it('accepts real 10-digit (organisation) and 12-digit (individual) numbers', () => {
    // ПАО Сбербанк, ПАО «Газпром», Яндекс; the FNS example of an individual's INN.
    for (const inn of ['7707083893', '7736050003', '7736207543', '500100732259', '773173084809']) {
      expect(isValidInn(inn)).toBe(true);
      expect(parseInn(` ${inn} `)).toBe(inn);
    }
  });

  it('rejects every single-digit change of a valid number (the check digits catch it)', () => {
    for (const inn of ['7707083893', '500100732259']) {
      for (let i = 0; i < inn.length; i++) {
        for (let d = 0; d <= 9; d++) {
          if (String(d) === inn[i]) continue;
          const typo = inn.slice(0, i) + d + inn.slice(i + 1);
          // A change in a position with weight 0 mod 11 cannot be caught; there is none in these weights.
          expect(isValidInn(typo)).toBe(false);
        }
      }
    }
  });

  it('computes the check digit as (sum mod 11) mod 10, including the 10 → 0 case', () => {
    // 000000001 weighs 8; 000000030 weighs 18 mod 11 = 7; find one whose sum mod 11 is 10.
    const ten = ['000000019', '123456789', '555555555'].map(inn10);
    for (const inn of ten) expect(isValidInn(inn)).toBe(true);
    // 2*5 = 10 → mod 11 = 10 → mod 10 = 0
    expect(inn10('500000000')).toBe('5000000000');
    expect(isValidInn('5000000000')).toBe(true);
  });

  it('treats empty as none and explains each kind of bad input', () => {
    expect(parseInn('')).toBeNull();
    expect(parseInn('   ')).toBeNull();
    expect(parseInn(undefined)).toBeNull();
    const message = (raw: string) => {
      try {
        parseInn(raw);
      } catch (err) {
        expect(err).toBeInstanceOf(DomainError);
        expect((err as DomainError).code).toBe('INVALID_ARGUMENT');
        expect((err as DomainError).violations[0]!.field).toBe('tax_id');
        return (err as DomainError).message;
      }
      throw new Error(`expected ${raw} to be rejected`);
    };
    expect(message('77070838 93')).toMatch(/digits only/);
    expect(message('ИНН7707083893')).toMatch(/digits only/);
    expect(message('770708389')).toMatch(/got 9/);
    expect(message('77070838931')).toMatch(/got 11/);
    expect(message('7707083894')).toMatch(/check digit/);
    expect(message('500100732250')).toMatch(/check digit/);
  });
});

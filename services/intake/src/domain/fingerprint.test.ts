import { canonicalJson, fingerprint } from './fingerprint';

describe('fingerprint', () => {
  it('does not depend on key order, at any depth', () => {
    const a = { name: 'Ivan', attribution: { utmSource: 'ya', utmMedium: null }, phone: '+79991234567' };
    const b = { phone: '+79991234567', attribution: { utmMedium: null, utmSource: 'ya' }, name: 'Ivan' };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(fingerprint(a)).toBe(fingerprint(b));
    expect(fingerprint(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is stable across runs (a known value)', () => {
    expect(canonicalJson({ b: 1, a: [{ d: true, c: null }] })).toBe('{"a":[{"c":null,"d":true}],"b":1}');
    // sha256('{"a":"x","b":1}'): a stored fingerprint must keep matching after a restart or an upgrade.
    expect(fingerprint({ b: 1, a: 'x' })).toBe('cdab067e9f3beb32d1252cfd63e492592fecbf591b0d08cadb24bb17f3864246');
  });

  it('changes when any value changes', () => {
    expect(fingerprint({ a: 'x' })).not.toBe(fingerprint({ a: 'y' }));
    expect(fingerprint({ a: null })).not.toBe(fingerprint({ a: '' }));
  });
});

import { Provider, type ConnectionFields } from '@crm/contracts/crm/telephony/v1/telephony';
import { connectionViolations, decodeToken, newSigningSecret, pageSizeOf } from './connections.service';

const f = (over: Partial<ConnectionFields> = {}): ConnectionFields => ({ provider: Provider.PROVIDER_KAMAILIO, name: 'PBX', apiBaseUrl: '', account: '', secret: '', fallbackTarget: '', isDefault: false, disabled: false, ...over });

describe('connection fields', () => {
  it('accepts a minimal kamailio / generic connection (we make the secret)', () => {
    expect(connectionViolations(f())).toEqual([]);
    expect(connectionViolations(f({ provider: Provider.PROVIDER_GENERIC, apiBaseUrl: 'https://pbx.example.com/api' }))).toEqual([]);
  });
  it('names every invalid field', () => {
    const v = connectionViolations(f({ provider: Provider.PROVIDER_UNSPECIFIED, name: ' ', apiBaseUrl: 'javascript:alert(1)', account: 'a\u0000', fallbackTarget: 'x'.repeat(201) }));
    expect(v.map((x) => x.field).sort()).toEqual(['connection.account', 'connection.api_base_url', 'connection.fallback_target', 'connection.name', 'connection.provider']);
    expect(connectionViolations(f({ apiBaseUrl: 'https://user:pw@host' }))[0]).toMatchObject({ field: 'connection.api_base_url' });
  });
  it("requires the provider's credential for mango, zadarma and twilio", () => {
    for (const provider of [Provider.PROVIDER_MANGO, Provider.PROVIDER_ZADARMA, Provider.PROVIDER_TWILIO]) {
      expect(connectionViolations(f({ provider }))).toEqual([{ field: 'connection.secret', message: expect.stringContaining('required') }]);
      expect(connectionViolations(f({ provider, secret: 's3cret' }))).toEqual([]);
    }
  });
  it('checks only the masked fields of an update', () => {
    expect(connectionViolations(f({ name: '', apiBaseUrl: 'nope' }), new Set(['fallback_target']), 'zadarma')).toEqual([]);
    expect(connectionViolations(f({ name: '' }), new Set(['name']), 'zadarma')).toHaveLength(1);
  });
});

describe('secrets and pages', () => {
  it('makes whsec_ + 32 random bytes, different each time', () => {
    const a = newSigningSecret();
    expect(a).toMatch(/^whsec_/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(newSigningSecret()).not.toBe(a);
  });
  it('refuses page sizes and tokens it did not make', () => {
    expect(pageSizeOf(0)).toBe(50);
    expect(pageSizeOf(100)).toBe(100);
    expect(() => pageSizeOf(101)).toThrow(/page_size/);
    expect(decodeToken('connections', '')).toBeNull();
    expect(() => decodeToken('connections', 'x!')).toThrow(/page_token/);
    const other = Buffer.from(JSON.stringify({ v: 1, l: 'extensions', k: '2026-01-01T00:00:00.000000Z', i: '01a23431-c877-7027-9ea8-8ff321c70c77' })).toString('base64url');
    expect(() => decodeToken('connections', other)).toThrow(/page_token/);
    expect(decodeToken('extensions', other)).toEqual({ key: '2026-01-01T00:00:00.000000Z', id: '01a23431-c877-7027-9ea8-8ff321c70c77' });
  });
});

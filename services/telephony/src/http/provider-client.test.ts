import { isBlockedAddress, ProviderError, resolveProviderUrl } from './provider-client';

describe('provider client address checks', () => {
  it('private, loopback, link-local, CGNAT and mapped addresses are blocked; public ones are not', () => {
    for (const a of ['10.1.2.3', '127.0.0.1', '169.254.169.254', '172.20.0.1', '192.168.1.1', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', 'not-an-ip']) expect([a, isBlockedAddress(a)]).toEqual([a, true]);
    for (const a of ['81.88.80.132', '8.8.8.8', '2a00:1450:4010::65', '::ffff:8.8.8.8']) expect([a, isBlockedAddress(a)]).toEqual([a, false]);
  });

  it('a path joins the base URL; an absolute URL must be on the base host or an allowed host', () => {
    expect(resolveProviderUrl({ baseUrl: 'https://app.mango-office.ru/', path: '/vpbx/commands/route' }).toString()).toBe('https://app.mango-office.ru/vpbx/commands/route');
    expect(resolveProviderUrl({ baseUrl: 'https://api.example.com/v1', path: 'calls' }).toString()).toBe('https://api.example.com/v1/calls');
    expect(resolveProviderUrl({ baseUrl: 'https://api.example.com', path: 'https://api.example.com/rec/1.mp3' }).host).toBe('api.example.com');
    expect(resolveProviderUrl({ baseUrl: 'https://api.example.com', path: 'https://files.example.net/1.mp3', allowedHosts: ['files.example.net'] }).host).toBe('files.example.net');
    const refused = (req: Parameters<typeof resolveProviderUrl>[0]) => {
      try {
        resolveProviderUrl(req);
        return 'resolved';
      } catch (err) {
        return (err as ProviderError).code;
      }
    };
    expect(refused({ baseUrl: 'https://api.example.com', path: 'https://evil.example.org/x' })).toBe('blocked_address');
    expect(refused({ baseUrl: 'https://api.example.com', path: 'file:///etc/passwd' })).toBe('bad_url');
    expect(refused({ baseUrl: 'https://api.example.com', path: 'https://user:pw@api.example.com/x' })).toBe('bad_url');
    expect(refused({ baseUrl: '', path: '/x' })).toBe('bad_url');
  });
});

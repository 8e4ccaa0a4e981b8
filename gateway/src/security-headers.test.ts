import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionCap, httpServerOptions, openFileLimit } from './edge-limits';
import { gatewayEnv } from './config';
import Fastify from 'fastify';
import { baseDirectives, behindHttps, cspHash, registerSecurityHeaders, routeDirectives } from './security-headers';

describe('cspHash', () => {
  it('is the CSP source of the exact text (RFC: base64 of SHA-256, quoted)', () => {
    // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
    expect(cspHash('alert(1)')).toBe("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='");
    expect(cspHash('alert(1) ')).not.toBe(cspHash('alert(1)'));
  });
});

describe('routeDirectives', () => {
  it('is the base policy for a route that declares nothing', () => {
    expect(routeDirectives(false, {})).toEqual(baseDirectives(false));
    expect(baseDirectives(false)['frame-ancestors']).toEqual(["'none'"]);
    expect(baseDirectives(false)['upgrade-insecure-requests']).toBeUndefined();
    expect(baseDirectives(true)['upgrade-insecure-requests']).toEqual([]);
  });

  it('adds the declared inline blocks by hash and the extra form-action sources', () => {
    const d = routeDirectives(false, { csp: { inlineScripts: ['a()'], inlineStyles: ['b{}'], formAction: ['https:'] } });
    expect(d['script-src']).toEqual(["'self'", cspHash('a()')]);
    expect(d['style-src']).toEqual(["'self'", cspHash('b{}')]);
    expect(d['form-action']).toEqual(["'self'", 'https:']);
    expect(d['frame-ancestors']).toEqual(["'none'"]);
  });

  it('drops frame-ancestors for an embeddable route and nothing else', () => {
    const d = routeDirectives(false, { embeddable: true });
    const { 'frame-ancestors': _dropped, ...rest } = baseDirectives(false);
    expect(d).toEqual(rest);
  });
});

describe('registerSecurityHeaders', () => {
  it('refuses an embeddable /v1 route that takes a credential', async () => {
    const env = gatewayEnv.parse({ IDENTITY_GRPC_ADDR: 'a:1', INTAKE_GRPC_ADDR: 'a:1', REPORTING_GRPC_ADDR: 'a:1', CONTACTS_GRPC_ADDR: 'a:1', FUNNEL_GRPC_ADDR: 'a:1', TELEPHONY_GRPC_ADDR: 'a:1', KAFKA_BROKERS: 'a:1' });
    const app = Fastify();
    await registerSecurityHeaders(app, env);
    app.get('/v1/widget.js', { config: { public: true, embeddable: true } }, async () => '');
    expect(() => app.get('/v1/requests-embedded', { config: { embeddable: true } }, async () => '')).toThrow('an embeddable route must be public');
    await app.close();
  });
});

describe('behindHttps', () => {
  it('follows SESSION_COOKIE_SECURE unless GATEWAY_HSTS says otherwise', () => {
    expect(behindHttps({ SESSION_COOKIE_SECURE: false, GATEWAY_HSTS: undefined })).toBe(false);
    expect(behindHttps({ SESSION_COOKIE_SECURE: true, GATEWAY_HSTS: undefined })).toBe(true);
    expect(behindHttps({ SESSION_COOKIE_SECURE: true, GATEWAY_HSTS: false })).toBe(false);
    expect(behindHttps({ SESSION_COOKIE_SECURE: false, GATEWAY_HSTS: true })).toBe(true);
  });
});

describe('edge limits', () => {
  const env = (extra: Record<string, string> = {}) =>
    gatewayEnv.parse({ IDENTITY_GRPC_ADDR: 'a:1', INTAKE_GRPC_ADDR: 'a:1', REPORTING_GRPC_ADDR: 'a:1', CONTACTS_GRPC_ADDR: 'a:1', FUNNEL_GRPC_ADDR: 'a:1', TELEPHONY_GRPC_ADDR: 'a:1', KAFKA_BROKERS: 'a:1', ...extra });

  it('caps connections at GATEWAY_MAX_CONNECTIONS, or the soft open-file limit (/proc/self/limits) less 512', () => {
    const dir = mkdtempSync(join(tmpdir(), 'limits-'));
    const file = join(dir, 'limits');
    const limits = (soft: string) => {
      writeFileSync(file, `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                 20000                files\n`);
      return file;
    };
    try {
      expect(openFileLimit(limits('1024'))).toBe(1024);
      expect(connectionCap({ GATEWAY_MAX_CONNECTIONS: 300 }, limits('20000'))).toBe(300);
      expect(connectionCap({ GATEWAY_MAX_CONNECTIONS: 0 }, limits('20000'))).toBe(19_488);
      expect(connectionCap({ GATEWAY_MAX_CONNECTIONS: 0 }, limits('256'))).toBe(64);
      expect(connectionCap({ GATEWAY_MAX_CONNECTIONS: 0 }, limits('unlimited'))).toBeUndefined();
      expect(connectionCap({ GATEWAY_MAX_CONNECTIONS: 0 }, join(dir, 'missing'))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("passes the timeouts to Node's server, the headers timeout never beyond the request timeout", () => {
    const o = httpServerOptions(env());
    expect(o).toMatchObject({ connectionTimeout: 60_000, keepAliveTimeout: 72_000, requestTimeout: 120_000 });
    expect(o.http).toMatchObject({ headersTimeout: 10_000, requestTimeout: 120_000, maxHeaderSize: 16_384, connectionsCheckingInterval: 2500 });
    const short = httpServerOptions(env({ GATEWAY_HEADERS_TIMEOUT_MS: '5000', GATEWAY_REQUEST_TIMEOUT_MS: '2000' }));
    expect(short.http).toMatchObject({ headersTimeout: 2000, requestTimeout: 2000, connectionsCheckingInterval: 500 });
    expect(() => env({ GATEWAY_SOCKET_TIMEOUT_MS: '10000' })).toThrow();
  });
});

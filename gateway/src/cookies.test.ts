import { readCookie, serializeCookie } from './cookies';

describe('cookies', () => {
  it('reads one cookie among several', () => {
    expect(readCookie('a=1; crm_session=abc%2Fdef; b=2', 'crm_session')).toBe('abc/def');
    expect(readCookie('a=1', 'crm_session')).toBeUndefined();
    expect(readCookie(undefined, 'crm_session')).toBeUndefined();
    expect(readCookie('crm_session=%E0%A4%A', 'crm_session')).toBeUndefined();
  });

  it('writes an HttpOnly SameSite=Lax cookie, Secure on request, and clears it', () => {
    const c = serializeCookie('crm_session', 'tok', { expires: new Date(Date.UTC(2030, 0, 1)), secure: true });
    expect(c).toBe('crm_session=tok; Path=/; HttpOnly; SameSite=Lax; Expires=Tue, 01 Jan 2030 00:00:00 GMT; Secure');
    expect(serializeCookie('crm_session', '', { expires: new Date(0) })).toMatch(/Max-Age=0/);
  });
});

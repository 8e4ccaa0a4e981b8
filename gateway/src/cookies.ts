/** Minimal cookie handling for the one session cookie (RFC 6265 name=value pairs). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    try {
      return decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export interface CookieOptions {
  expires?: Date;
  secure?: boolean;
}

/** An HttpOnly, SameSite=Lax cookie on path / (Max-Age 0 clears it). */
export function serializeCookie(name: string, value: string, opts: CookieOptions = {}): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (opts.expires) parts.push(`Expires=${opts.expires.toUTCString()}`);
  if (opts.expires && opts.expires.getTime() <= 0) parts.push('Max-Age=0');
  if (opts.secure) parts.push('Secure');
  return parts.join('; ');
}

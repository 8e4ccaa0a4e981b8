import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `X-Twilio-Signature` (twilio.com/docs/usage/webhooks/webhooks-security): base64(HMAC-SHA1(auth token,
 * the full URL Twilio called + every POST parameter sorted by name, each as name + value, no separators)).
 */
export function twilioSignature(authToken: string, url: string, params: ReadonlyArray<readonly [string, string]>): string {
  const sorted = [...params].sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  let data = url;
  for (const [k, v] of sorted) data += k + v;
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * The spellings of a URL Twilio may have signed: as received, and with the scheme's default port added or
 * removed (Twilio's own helpers accept both, a proxy may have dropped or added it).
 */
export function urlVariants(url: string): string[] {
  const out = [url];
  try {
    const u = new URL(url);
    const port = u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : '';
    const path = url.slice(url.indexOf(u.host) + u.host.length);
    if (port && !u.port) out.push(`${u.protocol}//${u.hostname}:${port}${path}`);
    const explicit = new RegExp(`^(${u.protocol}//[^/]*?):${port}(?=/|$|\\?)`);
    if (port && explicit.test(url)) out.push(url.replace(explicit, '$1'));
  } catch {
    /* not a URL: only the given spelling */
  }
  return out;
}

export function verifyTwilio(authToken: string, header: string, url: string, params: ReadonlyArray<readonly [string, string]>): boolean {
  if (!authToken || !header) return false;
  const got = Buffer.from(header.trim(), 'utf8');
  return urlVariants(url).some((u) => {
    const want = Buffer.from(twilioSignature(authToken, u, params), 'utf8');
    return want.length === got.length && timingSafeEqual(want, got);
  });
}

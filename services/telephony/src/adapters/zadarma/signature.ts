import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Zadarma's two signatures (zadarma/user-api-v1: lib/Webhook/*::getSignatureString, Client::encodeSignature
 * and Client::getAuthHeader; zadarma.com/en/support/api "Authorization"). Both are base64 of the **hex**
 * HMAC-SHA1 digest (PHP's hash_hmac returns hex), not of the raw bytes.
 */

/** base64(hex(HMAC-SHA1(secret, text))). */
export function zadarmaHmac(secret: string, text: string): string {
  return Buffer.from(createHmac('sha1', secret).update(text, 'utf8').digest('hex'), 'utf8').toString('base64');
}

/** The fields each notification signs, concatenated in this order (absent fields count as ''). */
export const SIGNED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  NOTIFY_START: ['caller_id', 'called_did', 'call_start'],
  NOTIFY_IVR: ['caller_id', 'called_did', 'call_start'],
  NOTIFY_INTERNAL: ['caller_id', 'called_did', 'call_start'],
  NOTIFY_END: ['caller_id', 'called_did', 'call_start'],
  NOTIFY_ANSWER: ['caller_id', 'destination', 'call_start'],
  NOTIFY_OUT_START: ['internal', 'destination', 'call_start'],
  NOTIFY_OUT_END: ['internal', 'destination', 'call_start'],
  NOTIFY_RECORD: ['pbx_call_id', 'call_id_with_rec'],
};

/** The `Signature` header Zadarma sends with a notification; undefined for an event it does not sign. */
export function notificationSignature(secret: string, fields: Readonly<Record<string, string>>): string | undefined {
  const names = fields.event ? SIGNED_FIELDS[fields.event] : undefined;
  if (!names) return undefined;
  return zadarmaHmac(secret, names.map((n) => fields[n] ?? '').join(''));
}

/** Constant-time comparison of two signatures (different lengths are simply unequal). */
export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * PHP's http_build_query(params, '', '&', PHP_QUERY_RFC1738) over string values: rawurlencode-like
 * percent-encoding of everything but [A-Za-z0-9._-], spaces as `+`.
 */
export function phpQuery(params: Readonly<Record<string, string>>, keys: readonly string[] = Object.keys(params)): string {
  const enc = (s: string) =>
    encodeURIComponent(s)
      .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
      .replace(/%20/g, '+');
  return keys.map((k) => `${enc(k)}=${enc(params[k] ?? '')}`).join('&');
}

/**
 * The API's `Authorization` header value for a request to `method` (the path with the version and the
 * trailing slash, e.g. `/v1/request/callback/`) with these parameters (`format` included):
 * `key:base64(hex(HMAC-SHA1(secret, method + query + md5(query))))`, the query sorted by key.
 */
export function apiAuthorization(key: string, secret: string, method: string, params: Readonly<Record<string, string>>): string {
  const query = phpQuery(params, Object.keys(params).sort());
  const md5 = createHash('md5').update(query, 'utf8').digest('hex');
  return `${key}:${zadarmaHmac(secret, method + query + md5)}`;
}

/** The query string of a signed API request: the same sorted encoding the signature is made over. */
export function apiQuery(params: Readonly<Record<string, string>>): string {
  return phpQuery(params, Object.keys(params).sort());
}

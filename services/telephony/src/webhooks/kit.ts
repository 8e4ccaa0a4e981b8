/**
 * Small helpers every adapter uses to answer a provider (webhooks/receive.ts passes the answer through
 * the gateway as is): refusals as problem+json with the outcome as `code`, acknowledgements, the
 * constant-time comparison of signatures, and a lenient E.164 spelling of the numbers providers send.
 */
import { timingSafeEqual } from 'node:crypto';
import type { NormalizedCallEvent } from '../calls/model';
import type { AdapterResult, HttpAnswer, Outcome } from '../adapters/types';

/** The HTTP status of each refusal (never 5xx: a provider retries 5xx forever). */
export const REFUSAL_STATUS: Readonly<Record<Exclude<Outcome, 'accepted' | 'duplicate' | 'ignored'>, number>> = {
  bad_signature: 401,
  stale_timestamp: 409,
  replayed: 409,
  wrong_provider: 400,
  malformed: 400,
  unknown_connection: 404,
  disabled: 403,
  unknown_number: 200,
  foreign_number: 403,
};

export type Refusal = keyof typeof REFUSAL_STATUS;

/** A problem+json answer (RFC 9457) naming the outcome. */
export function problemAnswer(status: number, outcome: string, detail: string): HttpAnswer {
  return {
    status,
    contentType: 'application/problem+json',
    body: JSON.stringify({ type: 'about:blank', title: outcome.replace(/_/g, ' '), status, detail, code: outcome }),
  };
}

/** A refusal: nothing is stored; the provider gets the outcome's status and a problem body. */
export function refuse(outcome: Refusal, detail: string): AdapterResult {
  return { outcome, answer: problemAnswer(REFUSAL_STATUS[outcome], outcome, detail), deliveryId: '', events: [] };
}

/** `{"accepted":true}` (or another JSON body) with 200. */
export function jsonAnswer(body: unknown = { accepted: true }, status = 200): HttpAnswer {
  return { status, contentType: 'application/json', body: JSON.stringify(body) };
}

export function accept(deliveryId: string, events: NormalizedCallEvent[], answer: HttpAnswer = jsonAnswer()): AdapterResult {
  return { outcome: events.length ? 'accepted' : 'ignored', answer, deliveryId, events };
}

export function ignore(answer: HttpAnswer = jsonAnswer({ accepted: true, ignored: true })): AdapterResult {
  return { outcome: 'ignored', answer, deliveryId: '', events: [] };
}

/** Constant-time equality of two strings (false for different lengths, without early exit on content). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

/**
 * A phone as providers spell it (`74951234567`, `+7 (495) 123-45-67`, `84951234567`) → E.164, or the
 * input unchanged when it is not a phone (an extension like `101`, `anonymous`). Russian trunk prefix 8
 * with 11 digits becomes +7 (Mango and Zadarma send both).
 */
export function e164(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const s = raw.trim();
  if (!s) return undefined;
  const digits = s.replace(/[\s()\-.]/g, '');
  if (!/^\+?\d+$/.test(digits)) return s;
  const plus = digits.startsWith('+');
  let d = plus ? digits.slice(1) : digits;
  if (!plus && d.length === 11 && d.startsWith('8')) d = `7${d.slice(1)}`;
  if (!plus && d.startsWith('00')) d = d.slice(2);
  if (d.length < 7 || d.length > 15 || d.startsWith('0')) return s;
  return `+${d}`;
}

/** True for a string that is an RFC 3339 date-time. */
export function isRfc3339(s: unknown): s is string {
  return typeof s === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s));
}

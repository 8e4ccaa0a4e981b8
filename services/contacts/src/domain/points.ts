import { isCountry, normaliseEmail, normalisePhone, normaliseSocial, phoneDigits } from '@crm/contact-points';
import { PointType, ProvenanceKind, Verification, type PointInput, type Provenance } from '@crm/contracts/crm/contacts/v1/contacts';
import { ValidationError, type FieldViolation } from '@crm/errors';
import type { CountryCode } from 'libphonenumber-js';

/** Pure rules of contact points: normalisation of what callers send, the stored form, provenance. */

export type PointKind = 'phone' | 'email' | 'social';
export type ProvenanceName = 'request' | 'import' | 'user' | 'call' | 'conversation';

/** At most this many points in one call (and on one contact through AddContactPoint). */
export const POINTS_MAX = 20;
export const REF_MAX = 200;

/** A point ready to store: `value` is what the unique (tenant_id, type, value) index holds. */
export interface PreparedPoint {
  type: PointKind;
  value: string;
  network: string | null;
  /** A phone's E.164 digits (without +), for digit search; null otherwise. */
  digits: string | null;
  verified: boolean;
}

const TYPE_FROM_PROTO: Partial<Record<PointType, PointKind>> = {
  [PointType.POINT_TYPE_PHONE]: 'phone',
  [PointType.POINT_TYPE_EMAIL]: 'email',
  [PointType.POINT_TYPE_SOCIAL]: 'social',
};
const TYPE_TO_PROTO: Record<PointKind, PointType> = { phone: PointType.POINT_TYPE_PHONE, email: PointType.POINT_TYPE_EMAIL, social: PointType.POINT_TYPE_SOCIAL };
export const pointTypeToProto = (t: PointKind): PointType => TYPE_TO_PROTO[t];
export const verificationToProto = (v: string): Verification => (v === 'verified' ? Verification.VERIFICATION_VERIFIED : Verification.VERIFICATION_UNVERIFIED);

const PROV_FROM_PROTO: Partial<Record<ProvenanceKind, ProvenanceName>> = {
  [ProvenanceKind.PROVENANCE_KIND_REQUEST]: 'request',
  [ProvenanceKind.PROVENANCE_KIND_IMPORT]: 'import',
  [ProvenanceKind.PROVENANCE_KIND_USER]: 'user',
  [ProvenanceKind.PROVENANCE_KIND_CALL]: 'call',
  [ProvenanceKind.PROVENANCE_KIND_CONVERSATION]: 'conversation',
};
const PROV_TO_PROTO: Record<ProvenanceName, ProvenanceKind> = {
  request: ProvenanceKind.PROVENANCE_KIND_REQUEST,
  import: ProvenanceKind.PROVENANCE_KIND_IMPORT,
  user: ProvenanceKind.PROVENANCE_KIND_USER,
  call: ProvenanceKind.PROVENANCE_KIND_CALL,
  conversation: ProvenanceKind.PROVENANCE_KIND_CONVERSATION,
};
export const provenanceToProto = (kind: string, ref: string | null): Provenance => ({ kind: PROV_TO_PROTO[kind as ProvenanceName] ?? ProvenanceKind.PROVENANCE_KIND_UNSPECIFIED, refId: ref ?? '' });

/** Where a contact or point came from: the caller's provenance, or (when unspecified) the calling user. */
export function prepareProvenance(p: Provenance | undefined, callerId: string, field = 'provenance'): { kind: ProvenanceName; ref: string | null } {
  if (!p || p.kind === ProvenanceKind.PROVENANCE_KIND_UNSPECIFIED) return { kind: 'user', ref: callerId || null };
  const kind = PROV_FROM_PROTO[p.kind];
  if (!kind) throw new ValidationError('invalid provenance', [{ field: `${field}.kind`, message: 'is not a known provenance kind' }]);
  const ref = p.refId.trim();
  if (ref.length > REF_MAX) throw new ValidationError('invalid provenance', [{ field: `${field}.ref_id`, message: `must be at most ${REF_MAX} characters` }]);
  return { kind, ref: ref || null };
}

/** The call's country for phones without +code: its own (any case) or the service's default. */
export function prepareCountry(raw: string, fallback: CountryCode, field = 'default_country'): CountryCode {
  const c = raw.trim().toUpperCase();
  if (!c) return fallback;
  if (!isCountry(c)) throw new ValidationError('invalid default_country', [{ field, message: 'must be a supported ISO 3166-1 alpha-2 country code' }]);
  return c;
}

/** One point; a problem is pushed to `violations` under `field` (e.g. `points[2]`) and null returned. */
export function preparePoint(input: PointInput, country: CountryCode, field: string, violations: FieldViolation[]): PreparedPoint | null {
  const type = TYPE_FROM_PROTO[input.type];
  if (!type) {
    violations.push({ field: `${field}.type`, message: 'must be phone, email or social' });
    return null;
  }
  if (type === 'phone') {
    const r = normalisePhone(input.value, country);
    if (!r.ok) {
      violations.push({ field: `${field}.value`, message: r.problem });
      return null;
    }
    return { type, value: r.value, network: null, digits: phoneDigits(r.value), verified: input.verified };
  }
  if (type === 'email') {
    const r = normaliseEmail(input.value);
    if (!r.ok) {
      violations.push({ field: `${field}.value`, message: r.problem });
      return null;
    }
    return { type, value: r.value, network: null, digits: null, verified: input.verified };
  }
  const r = normaliseSocial(input.network, input.value);
  if (!r.ok) {
    violations.push({ field: r.problem.startsWith('network') ? `${field}.network` : `${field}.value`, message: r.problem });
    return null;
  }
  return { type, value: r.value, network: r.network, digits: null, verified: input.verified };
}

/**
 * The points of one call: each normalised (every invalid one listed), at most POINTS_MAX, the same point
 * written twice kept once (verified if either copy is), sorted by (type, value) — the order every writer
 * inserts in, so two writers never wait on each other's points in opposite orders.
 */
export function preparePoints(inputs: PointInput[], country: CountryCode, opts: { field?: string; min?: number } = {}): PreparedPoint[] {
  const field = opts.field ?? 'points';
  const min = opts.min ?? 0;
  if (inputs.length > POINTS_MAX) throw new ValidationError(`at most ${POINTS_MAX} points`, [{ field, message: `must have at most ${POINTS_MAX} points` }]);
  if (inputs.length < min) throw new ValidationError(`at least ${min} point`, [{ field, message: `must have at least ${min} point` }]);
  const violations: FieldViolation[] = [];
  const byKey = new Map<string, PreparedPoint>();
  inputs.forEach((input, i) => {
    const p = preparePoint(input, country, `${field}[${i}]`, violations);
    if (!p) return;
    const key = pointKey(p);
    const seen = byKey.get(key);
    if (seen) seen.verified ||= p.verified;
    else byKey.set(key, p);
  });
  if (violations.length) throw new ValidationError('invalid contact points', violations);
  return [...byKey.values()].sort(comparePoints);
}

export const pointKey = (p: { type: string; value: string }): string => `${p.type}\u0000${p.value}`;

export function comparePoints(a: { type: string; value: string }, b: { type: string; value: string }): number {
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

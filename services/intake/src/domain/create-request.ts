import type { FieldViolation } from '@crm/errors';
import type { CountryCode } from 'libphonenumber-js';
import { isCountry, normaliseEmail, normalisePhone } from '@crm/contact-points';
import { fingerprint } from './fingerprint';
import { charLength, isChannel, type AttributionFields, type ChannelName } from './types';
import { throwIfInvalid } from './validation';

/** Limits on a new request (characters are Unicode code points, counted after trimming). */
export const LIMITS = {
  name: 200,
  message: 5000,
  utm: 200,
  url: 2000,
  idempotencyKey: 200,
  publicFormId: 200,
  /** Extra form fields: how many, a key's and a value's characters, and the UTF-8 bytes of all keys and values. */
  extraFields: 50,
  extraKey: 100,
  extraValue: 2000,
  extraBytes: 16 * 1024,
} as const;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DIALED_KINDS: readonly string[] = ['advertising', 'support', 'sales'];

/** A CreateRequest as the caller sent it (strings may be empty; channel is '' when unspecified). */
export interface CreateRequestInput {
  channel: string;
  name: string;
  phone: string;
  email: string;
  message: string;
  attribution: {
    utmSource: string;
    utmMedium: string;
    utmCampaign: string;
    utmContent: string;
    utmTerm: string;
    landingPage: string;
    referrer: string;
  };
  idempotencyKey: string;
  publicFormId: string;
  /** ISO 3166-1 alpha-2; '' means the service's default. */
  defaultCountry: string;
  /** Form fields that map to nothing else, in order (duplicate keys allowed). */
  extraFields: { key: string; value: string }[];
  extraFieldsTruncated: boolean;
  /** Issue 8 (routing): the project (UUID; '' none), the kind of number dialed (`advertising`, `support`, `sales`; '' none), a missed call. */
  projectId?: string;
  dialedNumberKind?: string;
  missed?: boolean;
  /** A channel service's routing decision to apply instead of routing again (proto CreateRequestRequest.decided). */
  decided?: { version: number; ruleId: string; departmentId: string; assigneeId: string; assignedBy: string };
}

/** A validated `decided` (department required; an empty one means nothing was decided). */
export interface DecidedRoute {
  version: number;
  ruleId: string;
  departmentId: string;
  assigneeId: string | null;
  assignedBy: string;
}

/** The validated, normalised request: every optional value is null when absent. */
export interface NewRequest {
  channel: ChannelName;
  name: string | null;
  /** E.164. */
  phone: string | null;
  /** Trimmed, lower-cased. */
  email: string | null;
  message: string | null;
  attribution: AttributionFields;
  publicFormId: string | null;
  /** [key, value] pairs in the order sent; empty when none. */
  extraFields: [string, string][];
  extraFieldsTruncated: boolean;
  projectId: string | null;
  dialedNumberKind: 'advertising' | 'support' | 'sales' | null;
  missed: boolean;
}

export interface PreparedCreate {
  request: NewRequest;
  idempotencyKey: string | null;
  /** sha256 of the canonical JSON of `request` (the key and the parsing country are not part of it). */
  fingerprint: string;
  /** The country phones without a +code were read with (the call's, else the service's default). */
  country: CountryCode;
  /** Not part of the fingerprint: where it goes is not what was sent. */
  decided: DecidedRoute | null;
}

const UTM_FIELDS = [
  ['utmSource', 'attribution.utm_source'],
  ['utmMedium', 'attribution.utm_medium'],
  ['utmCampaign', 'attribution.utm_campaign'],
  ['utmContent', 'attribution.utm_content'],
  ['utmTerm', 'attribution.utm_term'],
] as const;

const URL_FIELDS = [
  ['landingPage', 'attribution.landing_page'],
  ['referrer', 'attribution.referrer'],
] as const;

function optional(value: string | undefined): string | null {
  const v = (value ?? '').trim();
  return v === '' ? null : v;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Validates and normalises a new request; throws a ValidationError with a field violation for every
 * problem at once. `fallbackCountry` is the service's default for parsing phones without a country code.
 */
export function prepareCreate(input: CreateRequestInput, fallbackCountry: CountryCode): PreparedCreate {
  const violations: FieldViolation[] = [];
  const tooLong = (field: string, value: string | null, max: number) => {
    if (value !== null && charLength(value) > max) violations.push({ field, message: `must be at most ${max} characters` });
  };

  const channel = input.channel;
  if (channel === '') violations.push({ field: 'channel', message: 'is required' });
  else if (!isChannel(channel)) violations.push({ field: 'channel', message: 'is not a known channel' });

  let country: CountryCode = fallbackCountry;
  const countryInput = input.defaultCountry.trim().toUpperCase();
  if (countryInput !== '') {
    if (isCountry(countryInput)) country = countryInput;
    else violations.push({ field: 'default_country', message: 'must be a supported ISO 3166-1 alpha-2 country code' });
  }

  const name = optional(input.name);
  tooLong('name', name, LIMITS.name);
  const message = optional(input.message);
  tooLong('message', message, LIMITS.message);

  let phone: string | null = null;
  const rawPhone = optional(input.phone);
  if (rawPhone !== null) {
    const r = normalisePhone(rawPhone, country);
    if (r.ok) phone = r.value;
    else violations.push({ field: 'phone', message: r.problem });
  }
  let email: string | null = null;
  const rawEmail = optional(input.email);
  if (rawEmail !== null) {
    const r = normaliseEmail(rawEmail);
    if (r.ok) email = r.value;
    else violations.push({ field: 'email', message: r.problem });
  }
  if (channel === 'web_form' && rawPhone === null && rawEmail === null) {
    violations.push({ field: 'phone', message: 'or e-mail is required for a web form request' });
    violations.push({ field: 'email', message: 'or phone is required for a web form request' });
  }

  const attribution = {} as AttributionFields;
  for (const [key, field] of UTM_FIELDS) {
    attribution[key] = optional(input.attribution[key]);
    tooLong(field, attribution[key], LIMITS.utm);
  }
  for (const [key, field] of URL_FIELDS) {
    const value = optional(input.attribution[key]);
    attribution[key] = value;
    if (value === null) continue;
    if (charLength(value) > LIMITS.url) violations.push({ field, message: `must be at most ${LIMITS.url} characters` });
    else if (!isHttpUrl(value)) violations.push({ field, message: 'must be an http(s) URL' });
  }

  const publicFormId = optional(input.publicFormId);
  tooLong('public_form_id', publicFormId, LIMITS.publicFormId);
  if (publicFormId !== null && channel !== 'web_form') violations.push({ field: 'public_form_id', message: 'is only allowed for the web_form channel' });

  const idempotencyKey = optional(input.idempotencyKey);
  tooLong('idempotency_key', idempotencyKey, LIMITS.idempotencyKey);

  const extraFields = checkExtraFields(input.extraFields, violations);

  const projectId = optional(input.projectId)?.toLowerCase() ?? null;
  if (projectId !== null && !UUID_RE.test(projectId)) violations.push({ field: 'project_id', message: 'must be a UUID' });
  const dialed = optional(input.dialedNumberKind)?.toLowerCase() ?? null;
  if (dialed !== null && !DIALED_KINDS.includes(dialed)) violations.push({ field: 'dialed_number_kind', message: `must be one of ${DIALED_KINDS.join(', ')}` });
  const missed = input.missed ?? false;
  if (missed && channel !== 'phone') violations.push({ field: 'missed', message: 'is only allowed for the phone channel' });
  let decided: DecidedRoute | null = null;
  const decidedDept = input.decided?.departmentId.trim().toLowerCase() ?? '';
  if (input.decided && decidedDept !== '') {
    const assignee = input.decided.assigneeId.trim().toLowerCase();
    if (!UUID_RE.test(decidedDept)) violations.push({ field: 'decided.department_id', message: 'must be a UUID' });
    if (assignee !== '' && !UUID_RE.test(assignee)) violations.push({ field: 'decided.assignee_id', message: 'must be a UUID' });
    decided = { version: input.decided.version, ruleId: input.decided.ruleId.trim(), departmentId: decidedDept, assigneeId: assignee || null, assignedBy: input.decided.assignedBy.trim() };
  }

  throwIfInvalid('CreateRequest', violations);
  const request: NewRequest = {
    channel: channel as ChannelName,
    name,
    phone,
    email,
    message,
    attribution,
    publicFormId,
    extraFields,
    extraFieldsTruncated: input.extraFieldsTruncated,
    projectId,
    dialedNumberKind: dialed as NewRequest['dialedNumberKind'],
    missed,
  };
  // Requests without extra fields keep the fingerprint they had before extra fields existed (intake_0002),
  // so an Idempotency-Key used before the upgrade still replays.
  // Likewise the routing fields (issue 8) are part of the fingerprint only when set.
  const printed = {
    ...request,
    extraFields: extraFields.length ? extraFields : undefined,
    extraFieldsTruncated: request.extraFieldsTruncated || undefined,
    projectId: projectId ?? undefined,
    dialedNumberKind: request.dialedNumberKind ?? undefined,
    missed: missed || undefined,
  };
  return { request, idempotencyKey, fingerprint: fingerprint(printed), country, decided };
}

/**
 * Extra form fields are kept as sent (keys trimmed; empty values kept), bounded: at most 50 fields, a key
 * of 1..100 characters without control characters, a value of at most 2000 characters, and 16 KiB of
 * UTF-8 for all keys and values. The gateway trims what it receives to these bounds before calling;
 * anything beyond them here is a caller error, not silently cut.
 */
function checkExtraFields(fields: readonly { key: string; value: string }[], violations: FieldViolation[]): [string, string][] {
  if (fields.length > LIMITS.extraFields) {
    violations.push({ field: 'extra_fields', message: `must have at most ${LIMITS.extraFields} fields` });
    return [];
  }
  const out: [string, string][] = [];
  let bytes = 0;
  fields.forEach((f, i) => {
    const key = f.key.trim();
    const keyLength = charLength(key);
    if (keyLength === 0) violations.push({ field: `extra_fields[${i}].key`, message: 'must not be empty' });
    else if (keyLength > LIMITS.extraKey) violations.push({ field: `extra_fields[${i}].key`, message: `must be at most ${LIMITS.extraKey} characters` });
    else if (/\p{Cc}/u.test(key)) violations.push({ field: `extra_fields[${i}].key`, message: 'must not contain control characters' });
    if (charLength(f.value) > LIMITS.extraValue) violations.push({ field: `extra_fields[${i}].value`, message: `must be at most ${LIMITS.extraValue} characters` });
    else if (f.value.includes('\u0000')) violations.push({ field: `extra_fields[${i}].value`, message: 'must not contain NUL characters' });
    bytes += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(f.value, 'utf8');
    out.push([key, f.value]);
  });
  if (bytes > LIMITS.extraBytes) violations.push({ field: 'extra_fields', message: `must be at most ${LIMITS.extraBytes} bytes in all` });
  return out;
}

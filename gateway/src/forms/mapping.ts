/**
 * Site builders' form posts → one request: which incoming field is the name, phone, e-mail and message,
 * where the UTM tags come from, and what is kept as extra fields. Pure functions, no I/O; the route
 * (routes/forms.ts) parses the body and calls them.
 *
 * Field names are matched after canonicalisation: case, spaces, `-`, `_` and `.` are ignored, so
 * `your-name`, `Your Name` and `your_name` are one name. A form's own mapping (identity's PublicForm
 * field_mapping) is tried first, then the defaults below, which recognise what Tilda (`Name`, `Phone`,
 * `Email`), WordPress Contact Form 7 (`your-name`, `your-email`, `your-tel`, `tel-123`, `your-message`),
 * Webflow (`Name`, `First Name`/`Last Name`, `Email`, `Phone Number`, `Message`) and hand-written forms
 * (`fio`, `tel`, `phone_number`, `comment`, …) send.
 *
 * UTM tags, in order of precedence: the submission's own `utm_*` fields, then the query of the page
 * URL (a `page_url`/`landing_page` field, Webflow's `pageUrl`, else the `Referer` header of a plain
 * form post), then cookie-style fields (Tilda's `COOKIES`: `utm_*` cookies and its `TILDAUTM` cookie).
 * Browsers' default Referrer-Policy (`strict-origin-when-cross-origin`) sends only the origin when a
 * customer's site posts to the gateway's origin: such a page keeps its UTM tags by setting
 * `<meta name="referrer" content="no-referrer-when-downgrade">` or a hidden `page_url`/`utm_*` field.
 */
import { createHash } from 'node:crypto';

/** One incoming field as sent, in order. `numeric`: it came as a JSON number (Webflow sends phones so). */
export interface RawField {
  key: string;
  value: string;
  numeric?: boolean;
}

/** What a site builder's envelope says besides the fields (Webflow's webhook). */
export interface Envelope {
  fields: RawField[];
  /** The sender's own id of this submission (Tilda `tranid`, Webflow `_id` / `payload.id`): retries repeat it. */
  submissionId?: string;
  /** The page the form was on, when the envelope names it. */
  pageUrl?: string;
}

export interface FieldMapping {
  name: string[];
  phone: string[];
  email: string[];
  message: string[];
}

export interface MappedAttribution {
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  utm_content: string;
  utm_term: string;
  landing_page: string;
  referrer: string;
}

export interface MappedSubmission {
  name: string;
  phone: string;
  email: string;
  message: string;
  attribution: MappedAttribution;
  extraFields: { key: string; value: string }[];
  extraFieldsTruncated: boolean;
  /** The honeypot field (`website`) was filled: a bot. */
  honeypot: boolean;
  /** Tilda's connection check (`test=test` and nothing else): answer 200, create nothing. */
  connectionTest: boolean;
  submissionId: string;
}

/** A bad form body: the route answers it as a problem with this status. */
export class FormInputError extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
    this.name = 'FormInputError';
  }
}

/** Bounds: fields in one submission (more is a 413), and what is kept as extra fields (beyond: dropped, `truncated`). */
export const FORM_LIMITS = {
  fields: 200,
  extraFields: 50,
  extraKey: 100,
  extraValue: 2000,
  extraBytes: 16 * 1024,
  utm: 200,
  url: 2000,
  submissionId: 100,
} as const;

export const HONEYPOT_FIELD = 'website';

/** Case, whitespace, `-`, `_` and `.` do not matter in a field name. */
export function canonicalFieldName(key: string): string {
  return key
    .normalize('NFC')
    .toLowerCase()
    .replace(/[\s_\-.]+/gu, '');
}

type Target = keyof FieldMapping;
const TARGETS: Target[] = ['name', 'phone', 'email', 'message'];

/** The defaults, canonical (see canonicalFieldName). */
const DEFAULTS: Record<Target, { names: string[]; patterns: RegExp[] }> = {
  name: { names: ['name', 'yourname', 'fullname', 'fio', 'contactname', 'clientname', 'имя', 'вашеимя', 'фио'], patterns: [] },
  phone: {
    names: ['phone', 'tel', 'telephone', 'phonenumber', 'yourtel', 'yourphone', 'mobile', 'mobilephone', 'cellphone', 'телефон', 'ваштелефон'],
    // Contact Form 7's generated names: tel-123, phone-456.
    patterns: [/^tel\d+$/u, /^phone\d+$/u],
  },
  email: { names: ['email', 'youremail', 'emailaddress', 'mail', 'почта', 'электроннаяпочта'], patterns: [/^email\d+$/u] },
  message: {
    names: ['message', 'yourmessage', 'comment', 'comments', 'text', 'textarea', 'msg', 'question', 'сообщение', 'комментарий', 'вопрос'],
    patterns: [/^textarea\d+$/u, /^message\d+$/u],
  },
};
const FIRST_NAME = new Set(['firstname', 'fname', 'givenname']);
const LAST_NAME = new Set(['lastname', 'lname', 'surname', 'familyname', 'фамилия']);
const UTM_KEYS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term'] as const;
type UtmKey = (typeof UTM_KEYS)[number];
const UTM_CANONICAL = new Map<string, UtmKey>(UTM_KEYS.map((k) => [canonicalFieldName(k), k]));
const PAGE_URL = new Set(['pageurl', 'landingpage', 'pageuri']);
const REFERRER = new Set(['referrer', 'referer']);
/** Fields a site builder adds for itself: read (ids, cookies) or dropped, never kept as extra fields. */
const SUBMISSION_ID = new Set(['tranid']);
const COOKIES = new Set(['cookies']);
const DROPPED = new Set(['formid', 'grecaptcharesponse', 'hcaptcharesponse', 'cfturnstileresponse', 'wpnonce']);
const DROPPED_RAW_PREFIXES = ['_wpcf7'];
/** Cookies that are worth keeping as extra fields (visitor ids for end-to-end analytics). */
const KEPT_COOKIES = new Set(['_ym_uid', '_ga', 'roistat_visit']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalar(key: string, v: unknown): { value: string; numeric: boolean } | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return { value: v, numeric: false };
  if (typeof v === 'number' && Number.isFinite(v)) return { value: Number.isInteger(v) ? v.toFixed(0) : String(v), numeric: true };
  if (typeof v === 'boolean') return { value: String(v), numeric: false };
  throw new FormInputError(400, `field "${key.slice(0, 100)}" must be a string, a number, a boolean or a list of them`);
}

/**
 * The fields of a parsed body, in order: a flat object of strings (urlencoded, multipart) or a JSON
 * object; Webflow's webhook envelopes (v2 `{ triggerType: 'form_submission', payload: { data, id, … } }`
 * and v1 `{ name, site, data, d, _id }`) are unwrapped to their `data`. Lists (checkboxes, repeated
 * names) are joined with ", ". More than FORM_LIMITS.fields fields is a 413.
 */
export function fieldsOfBody(body: unknown): Envelope {
  if (body === undefined || body === null) return { fields: [] };
  if (!isObject(body)) throw new FormInputError(400, 'the body must be an object of form fields');
  let data: Record<string, unknown> = body;
  let submissionId: string | undefined;
  let pageUrl: string | undefined;
  if (body.triggerType === 'form_submission' && isObject(body.payload)) {
    const p = body.payload;
    data = isObject(p.data) ? p.data : {};
    if (typeof p.id === 'string') submissionId = p.id;
    if (typeof p.pageUrl === 'string') pageUrl = p.pageUrl;
  } else if (isObject(body.data) && (typeof body._id === 'string' || typeof body.site === 'string')) {
    data = body.data;
    if (typeof body._id === 'string') submissionId = body._id;
  }
  const keys = Object.keys(data);
  if (keys.length > FORM_LIMITS.fields) throw new FormInputError(413, `too many fields: at most ${FORM_LIMITS.fields}`);
  const fields: RawField[] = [];
  for (const key of keys) {
    const v = data[key];
    // PostgreSQL text cannot hold NUL: a clear 400 rather than a failed insert.
    if (key.includes('\u0000') || (typeof v === 'string' && v.includes('\u0000')) || (Array.isArray(v) && v.some((x) => typeof x === 'string' && x.includes('\u0000')))) {
      throw new FormInputError(400, `field "${key.split('\u0000').join('').slice(0, 100)}" contains a NUL character`);
    }
    if (Array.isArray(v)) {
      const parts = v.map((x) => scalar(key, x)).filter((x): x is { value: string; numeric: boolean } => x !== null);
      if (parts.length) fields.push({ key, value: parts.map((x) => x.value).join(', ') });
      continue;
    }
    const s = scalar(key, v);
    if (s) fields.push({ key, value: s.value, ...(s.numeric ? { numeric: true } : {}) });
  }
  return { fields, submissionId, pageUrl };
}

/** `a=1; b=2` (Tilda's COOKIES field, the Cookie header's format) → pairs; bad escapes are kept raw. */
export function parseCookieString(s: string): [string, string][] {
  const out: [string, string][] = [];
  for (const raw of s.split(';')) {
    const part = raw.trim();
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    out.push([name, safeDecode(part.slice(eq + 1).trim())]);
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** UTM tags in cookies: `utm_source=…` cookies and Tilda's `TILDAUTM` (`utm_source=…|||utm_medium=…`). */
export function utmFromCookies(cookies: [string, string][]): Partial<Record<UtmKey, string>> {
  const out: Partial<Record<UtmKey, string>> = {};
  const put = (name: string, value: string) => {
    const k = UTM_CANONICAL.get(canonicalFieldName(name));
    if (k && value.trim() && !out[k]) out[k] = value.trim();
  };
  for (const [name, value] of cookies) {
    if (name.toLowerCase() === 'tildautm') {
      for (const pair of value.split('|||')) {
        const eq = pair.indexOf('=');
        if (eq > 0) put(pair.slice(0, eq), safeDecode(pair.slice(eq + 1)));
      }
    } else put(name, value);
  }
  return out;
}

/** An absolute http(s) URL of at most 2000 characters, else null. */
export function httpUrl(s: string | undefined): URL | null {
  if (!s || s.length > FORM_LIMITS.url) return null;
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname ? u : null;
  } catch {
    return null;
  }
}

export function utmFromUrl(url: URL | null): Partial<Record<UtmKey, string>> {
  const out: Partial<Record<UtmKey, string>> = {};
  if (!url) return out;
  for (const [name, value] of url.searchParams) {
    const k = UTM_CANONICAL.get(canonicalFieldName(name));
    if (k && value.trim() && !out[k]) out[k] = value.trim();
  }
  return out;
}

function cut(s: string, max: number): string {
  const chars = [...s];
  return chars.length > max ? chars.slice(0, max).join('') : s;
}

/** Keeps extra fields within FORM_LIMITS (count, key, value, total bytes); reports whether anything was dropped or cut. */
export function boundExtraFields(fields: { key: string; value: string }[]): { kept: { key: string; value: string }[]; truncated: boolean } {
  const kept: { key: string; value: string }[] = [];
  let truncated = false;
  let bytes = 0;
  for (const f of fields) {
    const key = f.key.trim();
    if (!key || [...key].length > FORM_LIMITS.extraKey || /\p{Cc}/u.test(key) || kept.length >= FORM_LIMITS.extraFields) {
      truncated = true;
      continue;
    }
    const value = cut(f.value, FORM_LIMITS.extraValue);
    if (value !== f.value) truncated = true;
    const size = Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
    if (bytes + size > FORM_LIMITS.extraBytes) {
      truncated = true;
      continue;
    }
    bytes += size;
    kept.push({ key, value });
  }
  return { kept, truncated };
}

function matcher(mapping: FieldMapping | undefined): (canonical: string) => Target | null {
  const own = new Map<string, Target>();
  for (const t of TARGETS) for (const n of mapping?.[t] ?? []) if (!own.has(canonicalFieldName(n))) own.set(canonicalFieldName(n), t);
  return (c) => {
    const mine = own.get(c);
    if (mine) return mine;
    for (const t of TARGETS) if (DEFAULTS[t].names.includes(c) || DEFAULTS[t].patterns.some((p) => p.test(c))) return t;
    return null;
  };
}

/**
 * Maps one submission's fields. The first non-empty field of each target wins; a second one (say both
 * `phone` and `tel`) is kept as an extra field. Empty fields are dropped. `referer` is the Referer
 * header of the post (the page a plain HTML form is on).
 */
export function mapSubmission(envelope: Envelope, opts: { mapping?: FieldMapping; referer?: string } = {}): MappedSubmission {
  const { fields } = envelope;
  const target = matcher(opts.mapping);
  const got: Record<Target, string> = { name: '', phone: '', email: '', message: '' };
  const utmFields: Partial<Record<UtmKey, string>> = {};
  let first = '';
  let last = '';
  let pageUrl = envelope.pageUrl ?? '';
  let referrer = '';
  let honeypot = false;
  let submissionId = envelope.submissionId ?? '';
  const cookies: [string, string][] = [];
  const extra: { key: string; value: string }[] = [];

  const connectionTest = fields.length === 1 && fields[0].key === 'test' && fields[0].value === 'test';

  for (const f of fields) {
    const value = f.value.trim();
    const c = canonicalFieldName(f.key);
    const lower = f.key.toLowerCase();
    if (c === HONEYPOT_FIELD) {
      if (value) honeypot = true;
      continue;
    }
    if (DROPPED_RAW_PREFIXES.some((p) => lower.startsWith(p)) || DROPPED.has(c)) continue;
    if (COOKIES.has(c)) {
      cookies.push(...parseCookieString(f.value));
      continue;
    }
    if (!value) continue;
    if (SUBMISSION_ID.has(c)) {
      if (!submissionId) submissionId = value;
      continue;
    }
    const utm = UTM_CANONICAL.get(c);
    if (utm) {
      if (!utmFields[utm]) utmFields[utm] = value;
      continue;
    }
    if (PAGE_URL.has(c) && !pageUrl) {
      pageUrl = value;
      continue;
    }
    if (REFERRER.has(c) && !referrer) {
      referrer = value;
      continue;
    }
    const t = target(c);
    if (t && !got[t]) {
      got[t] = t === 'phone' && f.numeric && /^\d{8,15}$/.test(value) ? `+${value}` : value;
      continue;
    }
    if (!t && FIRST_NAME.has(c) && !first) {
      first = value;
      continue;
    }
    if (!t && LAST_NAME.has(c) && !last) {
      last = value;
      continue;
    }
    extra.push({ key: f.key, value });
  }
  if (!got.name && (first || last)) got.name = [first, last].filter(Boolean).join(' ');
  else {
    if (first) extra.push({ key: 'first_name', value: first });
    if (last) extra.push({ key: 'last_name', value: last });
  }

  // A plain HTML form post names its page only in the Referer header.
  const landing = pageUrl || (httpUrl(opts.referer) ? opts.referer! : '');
  const fromUrl = utmFromUrl(httpUrl(landing));
  const fromCookies = utmFromCookies(cookies);
  for (const [name, value] of cookies) if (KEPT_COOKIES.has(name) && value) extra.push({ key: name, value });
  const pick = (k: UtmKey) => utmFields[k] ?? cut(fromUrl[k] ?? fromCookies[k] ?? '', FORM_LIMITS.utm);
  const { kept, truncated } = boundExtraFields(extra);
  return {
    ...got,
    attribution: {
      utm_source: pick('utm_source'),
      utm_medium: pick('utm_medium'),
      utm_campaign: pick('utm_campaign'),
      utm_content: pick('utm_content'),
      utm_term: pick('utm_term'),
      landing_page: landing,
      referrer,
    },
    extraFields: kept,
    extraFieldsTruncated: truncated,
    honeypot,
    connectionTest,
    submissionId: cut(submissionId, FORM_LIMITS.submissionId),
  };
}

/** 10 minutes: the same content posted twice within a window is one request (a double click, a resend). */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;

/**
 * The Idempotency-Key intake gets for a submission: the sender's own id when it has one (a retried
 * webhook repeats it), else a hash of the mapped content within a 10-minute window, so a double-clicked
 * submit creates one request. Scoped by the form.
 */
export function submissionKey(formId: string, m: MappedSubmission, now: number): string {
  if (m.submissionId) return `form:${formId}:id:${m.submissionId}`;
  const content = JSON.stringify([m.name, m.phone, m.email, m.message, m.attribution, m.extraFields]);
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 32);
  return `form:${formId}:h:${hash}:${Math.floor(now / DUPLICATE_WINDOW_MS)}`;
}

/**
 * The machinery of the generated cross-tenant test (test/e2e/cross-tenant.integration.test.ts, issue 16 §6):
 * the operations of an OpenAPI document, request bodies built from their named schemas (the first
 * `examples` entry, else a minimal valid value), a book of one tenant's ids by resource kind (harvested
 * from its API answers), path parameters resolved from that book, and the leak check of an answer.
 * Nothing here knows today's routes: a kind is a path segment (`/v1/team/departments/{id}` → `departments`),
 * a body field is mapped to a kind by its name (`company_id` → `companies`).
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an OpenAPI document is untyped JSON
export type Json = any;

export const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export interface Operation {
  method: string;
  path: string;
  op: Json;
  /** `GET /v1/...` */
  name: string;
}

export function operationsOf(doc: Json): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const method of METHODS) if (item[method]) out.push({ method: method.toUpperCase(), path, op: item[method], name: `${method.toUpperCase()} ${path}` });
  }
  return out;
}

export const isPublic = (doc: Json, o: Operation) => Array.isArray(o.op.security ?? doc.security) && (o.op.security ?? doc.security).length === 0;
/** The 2xx an operation answers; a create's 201 before the 200 of its replay (`POST /v1/deals` with a used Idempotency-Key). */
export const successStatus = (o: Operation) => {
  const ok = Object.keys(o.op.responses ?? {}).filter((s) => /^2\d\d$/.test(s));
  return ok.includes('201') ? '201' : ok[0];
};
export const isEventStream = (o: Operation) => Object.values(o.op.responses ?? {}).some((r: Json) => r?.content && 'text/event-stream' in r.content);
export const documents = (o: Operation, status: number) => String(status) in (o.op.responses ?? {});
export const pathParams = (path: string) => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);

/** Follows `$ref`s into `components`. */
export function deref(doc: Json, schema: Json): Json {
  let s = schema;
  for (let i = 0; s && typeof s === 'object' && typeof s.$ref === 'string' && i < 20; i++) {
    s = s.$ref.split('/').slice(1).reduce((o: Json, k: string) => o?.[decodeURIComponent(k.replace(/~1/g, '/').replace(/~0/g, '~'))], doc);
  }
  return s;
}

/** The branches of a schema that are not `null` (anyOf/oneOf), or the schema itself. */
function branches(doc: Json, schema: Json): Json[] {
  const s = deref(doc, schema);
  if (!s) return [];
  const alts = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  // `oneOf` beside `properties` only says which of them are required together (CreateClientCard).
  if (alts && s.type === undefined && s.properties === undefined) return alts.map((b) => deref(doc, b)).filter((b) => b && b.type !== 'null');
  return [s];
}

export const isUuidSchema = (doc: Json, schema: Json): boolean => branches(doc, schema).some((b) => b.format === 'uuid');
export const isUuidArraySchema = (doc: Json, schema: Json): boolean => branches(doc, schema).some((b) => b.type === 'array' && isUuidSchema(doc, b.items));

// ---------------------------------------------------------------------------------------------------
// Ids by kind.

const singular = (w: string) => w.replace(/ies$/, 'y').replace(/(ses|xes)$/, (m) => m.slice(0, -2)).replace(/s$/, '');
const plural = (w: string) => (w.endsWith('s') ? w : /[^aeiou]y$/.test(w) ? `${w.slice(0, -1)}ies` : `${w}s`);
const kebab = (w: string) => w.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();

/** Field words that name a kind other than their own (a survivor is a contact). */
const FIELD_ALIASES: Record<string, string> = { survivor: 'contacts', loser: 'contacts', owner: 'users', assignee: 'users', author: 'users', head: 'users', actor: 'users', subject: 'users' };

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const PUBLIC_FORM_RE = /\bpf_[A-Za-z0-9_-]{8,}/g;
/** A record's id worth looking for in another tenant's answers (a uuid, a public form id; not `3`, an audit entry's number). */
const isId = (v: string) => new RegExp(`^(${UUID_RE.source}|${PUBLIC_FORM_RE.source.replace('\\b', '')})$`, 'i').test(v);

/** One tenant's ids: by kind (the last static segment of a collection, `client-cards`) and all of them. */
export class IdBook {
  readonly byKind = new Map<string, (string | number)[]>();
  /** Every id seen in this tenant's answers (uuids, public form ids). */
  readonly all = new Set<string>();

  add(kind: string, value: string | number | undefined | null): void {
    if (value === undefined || value === null || value === '') return;
    const list = this.byKind.get(kind) ?? [];
    if (!list.includes(value)) list.push(value);
    this.byKind.set(kind, list);
    if (typeof value === 'string' && isId(value)) this.all.add(value);
  }

  /** Every id-looking string in a text (an answer of this tenant's). */
  absorb(text: string): void {
    for (const m of text.matchAll(UUID_RE)) this.all.add(m[0].toLowerCase());
    for (const m of text.matchAll(PUBLIC_FORM_RE)) this.all.add(m[0]);
  }

  /** The kind a word names (`department` → `departments`, `client_card` → `client-cards`, `card` → `client-cards`). */
  kindOf(word: string): string | undefined {
    const w = kebab(word);
    const tries = [w, ...w.split('-').map((_, i, parts) => parts.slice(i).join('-'))];
    for (const t of tries) {
      const p = plural(singular(t));
      if (this.byKind.has(p)) return p;
      if (FIELD_ALIASES[singular(t)] && this.byKind.has(FIELD_ALIASES[singular(t)])) return FIELD_ALIASES[singular(t)];
      const suffixed = [...this.byKind.keys()].find((k) => k.endsWith(`-${p}`));
      if (suffixed) return suffixed;
    }
    return undefined;
  }

  /** The kind of a body field or query parameter by its name (`company_id`, `department_ids`, `contactId`). */
  kindOfField(name: string): string | undefined {
    const base = kebab(name).replace(/-ids?$/, '');
    return base ? this.kindOf(base) : undefined;
  }

  get(kind: string | undefined, n = 0): string | number | undefined {
    const list = kind ? this.byKind.get(kind) : undefined;
    return list?.length ? list[Math.min(n, list.length - 1)] : undefined;
  }

  /** Any uuid of this tenant (for a field whose kind the book does not know). */
  anyUuid(): string | undefined {
    for (const list of this.byKind.values()) for (const v of list) if (typeof v === 'string' && /^[0-9a-f-]{36}$/i.test(v)) return v;
    return undefined;
  }

  /**
   * Registers what an answer to `POST <collection>` created: the top-level `id` (or `version` when it has
   * no id) under the collection's kind; every nested object with an `id` under its property's plural
   * (`user` → `users`, `points[]` → `points`), and the one matching the collection (or the only one) under
   * the collection's kind too.
   */
  harvest(kind: string, body: Json, text = JSON.stringify(body ?? null), parents: (string | number)[] = []): void {
    this.absorb(text);
    if (!body || typeof body !== 'object' || Array.isArray(body)) return;
    // A sub-collection's POST may answer with the parent (`POST /v1/contacts/{id}/points` → the contact).
    if (typeof body.id === 'string' && !parents.includes(body.id)) this.add(kind, body.id);
    else if (typeof body.version === 'number') {
      this.add(kind, body.version);
      this.add('versions', body.version);
    }
    const nested: [string, string][] = [];
    for (const [k, v] of Object.entries(body)) {
      const items = Array.isArray(v) ? v : [v];
      for (const item of items) {
        if (item && typeof item === 'object' && typeof (item as Json).id === 'string') {
          this.add(plural(kebab(k)), (item as Json).id);
          if (!Array.isArray(v)) nested.push([k, (item as Json).id]);
        } else if (Array.isArray(v) && item && typeof item === 'object' && typeof (item as Json).key === 'string') {
          // Keyed parts of a record (a pipeline's `stages[]`, a deal's `checklist[]`): path parameters, not ids.
          this.add(plural(kebab(k)), (item as Json).key);
        }
      }
    }
    if (typeof body.id !== 'string' && typeof body.version !== 'number') {
      // A numbered record without an id (a routing version: `{ version: { version: 3, … }, problems }`).
      for (const v of Object.values(body)) {
        if (v && typeof v === 'object' && !Array.isArray(v) && (v as Json).id === undefined && typeof (v as Json).version === 'number') {
          this.add(kind, (v as Json).version);
          this.add('versions', (v as Json).version);
        }
      }
      const own = nested.find(([k]) => plural(kebab(k)) === kind || kind.endsWith(`-${plural(kebab(k))}`)) ?? (nested.length === 1 ? nested[0] : undefined);
      if (own) this.add(kind, own[1]);
    }
  }

  /** Registers the items of a list answer (`{ items: [...] }` or an array) under the collection's kind. */
  harvestList(kind: string, body: Json, text: string): void {
    this.absorb(text);
    const items = Array.isArray(body) ? body : Array.isArray(body?.items) ? body.items : [];
    for (const item of items) if (item && typeof item.id === 'string') this.add(kind, item.id);
  }
}

/** The kind a path parameter names: the static segment before it (`/v1/companies/{id}/contacts/{contactId}` → `contacts`). */
export function paramKind(path: string, param: string): string {
  const segments = path.split('/');
  const at = segments.indexOf(`{${param}}`);
  for (let i = at - 1; i > 0; i--) if (!segments[i].startsWith('{')) return segments[i];
  return param;
}

/** The static collection of an operation's path (its last static segment): `POST /v1/team/departments` → `departments`. */
export const collectionKind = (path: string) => path.split('/').filter((s) => s && !s.startsWith('{')).pop() ?? path;

/** Fills an operation's path parameters from the book; `missing` names the first it cannot fill. */
export function fillPath(path: string, book: IdBook): { url: string; values: (string | number)[] } | { missing: string } {
  const values: (string | number)[] = [];
  let url = path;
  for (const p of pathParams(path)) {
    const segment = paramKind(path, p);
    const kind = book.byKind.has(segment) ? segment : (book.kindOf(segment) ?? book.kindOfField(p));
    const value = book.get(kind);
    if (value === undefined) return { missing: `{${p}} (a ${segment} of tenant A's)` };
    values.push(value);
    url = url.replace(`{${p}}`, encodeURIComponent(String(value)));
  }
  return { url, values };
}

// ---------------------------------------------------------------------------------------------------
// Bodies.

export interface Fill {
  /** The id for a uuid field (`name` is the property name; `n` counts same-kind fields in one body). */
  uuid(name: string, n: number): string | undefined;
  /** A string field's value (markers in a fixture's names). */
  text?(name: string, value: string, schema: Json): string;
  /** Add the optional uuid fields the example leaves out. */
  addOptionalUuids: boolean;
  /** The uuid fields `uuid` had no id for (left out of the body). */
  unfilled?: string[];
}

/** A minimal valid value of a schema (required properties only). */
export function minimal(doc: Json, schema: Json, depth = 0): Json {
  const s = branches(doc, schema)[0];
  if (!s || depth > 8) return null;
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  if (s.examples?.length) return structuredClone(s.examples[0]);
  if (s.default !== undefined) return structuredClone(s.default);
  switch (s.type) {
    case 'object': {
      const out: Record<string, Json> = {};
      for (const k of (s.required as string[]) ?? []) out[k] = minimal(doc, s.properties?.[k], depth + 1);
      return out;
    }
    case 'array':
      return Array.from({ length: Math.max(s.minItems ?? 0, 0) }, () => minimal(doc, s.items, depth + 1));
    case 'integer':
    case 'number':
      return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1);
    case 'boolean':
      return false;
    case 'string':
      if (s.format === 'date-time') return new Date(Date.now() + 30 * 86_400_000).toISOString();
      if (s.format === 'date') return new Date().toISOString().slice(0, 10);
      if (s.format === 'uuid') return '00000000-0000-7000-8000-000000000000';
      if (s.format === 'idn-email' || s.format === 'email') return 'walker@example.com';
      if (s.format === 'time-zone') return 'Europe/Moscow';
      return 'walker'.padEnd(s.minLength ?? 0, 'x');
    default:
      return null;
  }
}

/** The first example of a request body's schema (else a minimal valid value), its uuid fields set by `fill`. */
export function bodyFor(doc: Json, schema: Json, fill: Fill): Json {
  const s = deref(doc, schema);
  const value = s?.examples?.length ? structuredClone(s.examples[0]) : minimal(doc, s);
  const counts = new Map<string, number>();
  const next = (name: string) => {
    const n = counts.get(name.replace(/^(survivor|loser|first|second)_/, '')) ?? 0;
    counts.set(name.replace(/^(survivor|loser|first|second)_/, ''), n + 1);
    return n;
  };
  return laterInstants(setFields(doc, s, value, fill, next, ''));
}

const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An example's instants moved so the earliest is a week from now, their spacing kept (a shift's end after
 * its start): examples age (`due_at: 2030-…` is "more than 2 years ahead" one day) and a walker must not.
 */
function laterInstants(value: Json): Json {
  const found: number[] = [];
  const visit = (v: Json, f: (s: string) => string): Json =>
    typeof v === 'string' && INSTANT_RE.test(v) ? f(v) : Array.isArray(v) ? v.map((x) => visit(x, f)) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, visit(x, f)])) : v;
  visit(value, (s) => (found.push(Date.parse(s)), s));
  if (!found.length) return value;
  const shift = Date.now() + 7 * 86_400_000 - Math.min(...found);
  return visit(value, (s) => new Date(Date.parse(s) + shift).toISOString());
}

function setFields(doc: Json, schema: Json, value: Json, fill: Fill, next: (name: string) => number, name: string): Json {
  const all = branches(doc, schema);
  if (isUuidSchema(doc, schema) || isUuidArraySchema(doc, schema)) {
    const id = fill.uuid(name, next(name));
    if (!id) {
      fill.unfilled?.push(name);
      return undefined;
    }
    return isUuidArraySchema(doc, schema) && !isUuidSchema(doc, schema) ? [id] : id;
  }
  const obj = all.find((b) => b.type === 'object' || b.properties);
  if (obj && value && typeof value === 'object' && !Array.isArray(value)) {
    const props = (obj.properties ?? {}) as Record<string, Json>;
    for (const [k, sub] of Object.entries(props)) {
      const uuidLike = isUuidSchema(doc, sub) || isUuidArraySchema(doc, sub);
      if (!(k in value) && !(uuidLike && fill.addOptionalUuids)) continue;
      const set = setFields(doc, sub, value[k], fill, next, k);
      if (set === undefined) delete value[k];
      else value[k] = set;
    }
    if (fill.text) for (const [k, sub] of Object.entries(props)) if (typeof value[k] === 'string' && !isUuidSchema(doc, sub)) value[k] = fill.text(k, value[k], deref(doc, sub));
    return value;
  }
  const arr = all.find((b) => b.type === 'array');
  if (arr && Array.isArray(value)) return value.map((v) => setFields(doc, arr.items, v, fill, next, name)).filter((v) => v !== undefined);
  return value;
}

/** A query string for an operation: every uuid parameter set by `fill`, required ones minimal. */
export function queryFor(doc: Json, o: Operation, fill: (name: string) => string | undefined): string {
  const q = new URLSearchParams();
  for (const raw of (o.op.parameters as Json[]) ?? []) {
    const p = deref(doc, raw);
    if (p.in !== 'query') continue;
    if (isUuidSchema(doc, p.schema) || isUuidArraySchema(doc, p.schema) || (p.schema?.type === undefined && /(^|_)id$/.test(p.name))) {
      const id = fill(p.name);
      if (id) q.append(p.name, id);
      else if (p.required) q.append(p.name, String(minimal(doc, p.schema)));
    } else if (p.required) {
      const v = minimal(doc, p.schema);
      for (const x of Array.isArray(v) ? v : [v]) q.append(p.name, String(x));
    }
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The media type and body an operation is sent with (JSON from the schema; a small CSV for a file upload). */
export function requestBodyFor(doc: Json, o: Operation, fill: Fill, csv: string): { type: string; body: string } | undefined {
  const content = deref(doc, o.op.requestBody)?.content as Record<string, Json> | undefined;
  if (!content) return undefined;
  if (content['application/json']) return { type: 'application/json', body: JSON.stringify(bodyFor(doc, content['application/json'].schema ?? {}, fill)) };
  const type = Object.keys(content).find((t) => t === 'text/csv') ?? Object.keys(content)[0];
  return { type, body: csv };
}

// ---------------------------------------------------------------------------------------------------
// Leaks.

/** What of tenant A's an answer shows that the request did not carry: A's ids and marker strings. */
export function leaksIn(text: string, secrets: Iterable<string>, carried: Set<string>): string[] {
  const found: string[] = [];
  const lower = text.toLowerCase();
  for (const s of secrets) if (s && !carried.has(s) && lower.includes(s.toLowerCase())) found.push(s);
  return found;
}

/** Runs `fn` over `items` with at most `n` at a time. */
export async function pool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) {
        const at = i++;
        out[at] = await fn(items[at]);
      }
    }),
  );
  return out;
}

export interface Answer {
  status: number;
  type: string;
  text: string;
  body: Json;
  setCookie: string | null;
}

/** One HTTP call with a credential's headers. */
export async function call(base: string, method: string, url: string, headers: Record<string, string>, body?: { type: string; body: string }): Promise<Answer> {
  const res = await fetch(`${base}${url}`, { method, headers: { ...headers, ...(body ? { 'content-type': body.type } : {}) }, body: body?.body, redirect: 'manual' });
  const text = await res.text();
  let parsed: Json;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, body: parsed, setCookie: res.headers.get('set-cookie') };
}

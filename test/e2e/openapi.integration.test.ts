/**
 * The OpenAPI document the gateway serves, checked as a document (named components, formats, error
 * content types, links, examples) and against the gateway behind it (405 with Allow, the date-time
 * that used to be a 500, JSON bodies validated without type coercion), with real identity and intake.
 */
import { request as httpRequest } from 'node:http';
import { startPlatform, type Platform } from '../support/platform';

type Json = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the document under test
let doc: any;
let platform: Platform;
let base: string;
let key: string;

async function api(path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${key}`);
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(`${base}${path}`, { ...init, headers });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** Any method, even those fetch refuses to send (TRACE), with no credential. */
function raw(method: string, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every operation of the document: [method, path, operation]. */
function operations(): [string, string, Json][] {
  return Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => [method, path, op] as [string, string, Json]));
}

/** Every (name, schema) of an object property anywhere below `schema`. */
function properties(schema: unknown, out: [string, Json][] = []): [string, Json][] {
  if (!schema || typeof schema !== 'object') return out;
  const s = schema as Json;
  for (const [name, sub] of Object.entries((s.properties as Record<string, Json>) ?? {})) {
    out.push([name, sub]);
    properties(sub, out);
  }
  // `then`/`if` only constrain properties declared above; they declare none of their own.
  properties(s.items, out);
  for (const k of ['anyOf', 'oneOf', 'allOf']) for (const sub of (s[k] as unknown[]) ?? []) properties(sub, out);
  return out;
}

/** The formats a property's schema declares (`idn-email`: e-mail with Unicode domains) (directly or in one of its anyOf branches). */
function formats(schema: Json): string[] {
  return [schema.format, ...((schema.anyOf as Json[]) ?? []).map((b) => b.format)].filter((f): f is string => typeof f === 'string');
}

beforeAll(async () => {
  platform = await startPlatform();
  base = platform.base;
  key = platform.tenants.a.apiKey;
  const res = await fetch(`${base}/openapi.json`);
  expect(res.status).toBe(200);
  doc = await res.json();
});

afterAll(async () => {
  await platform?.stop();
});

describe('the OpenAPI document', () => {
  it('names its component schemas by their $id, never def-N', () => {
    const names = Object.keys(doc.components.schemas);
    for (const name of ['Problem', 'Attribution', 'Axes', 'Request', 'Comment', 'RequestPage', 'CommentPage', 'CreateRequest', 'CreateComment', 'FormSubmissionAccepted', 'Session', 'Me', 'RequestsPerDayReport']) {
      expect(names).toContain(name);
    }
    expect(JSON.stringify(doc)).not.toMatch(/def-\d/);
    expect(doc.paths['/v1/requests'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/CreateRequest' });
  });

  it('documents every error response as application/problem+json, and 429 with Retry-After', () => {
    let errors = 0;
    for (const [method, path, op] of operations()) {
      for (const [status, response] of Object.entries(op.responses as Record<string, Json>)) {
        if (Number(status) < 400) continue;
        errors++;
        expect({ at: `${method} ${path} ${status}`, types: Object.keys((response.content as Json) ?? {}) }).toEqual({ at: `${method} ${path} ${status}`, types: ['application/problem+json'] });
        if (status === '429') expect(Object.keys(response.headers as Json)).toContain('retry-after');
      }
    }
    expect(errors).toBeGreaterThan(30);
  });

  it('gives every id, timestamp, day and e-mail a format', () => {
    const checked: string[] = [];
    const want = (name: string): string | undefined => {
      // A tax id (the Russian INN) is a number of the state's, not a record's id.
      if (name === 'tax_id') return undefined;
      if (name === 'id' || name.endsWith('_id')) return 'uuid';
      if (name.endsWith('_at') || name === 'created_from' || name === 'created_to') return 'date-time';
      if (name === 'day' || name === 'from' || name === 'to') return 'date';
      if (name === 'email') return 'idn-email';
      return undefined;
    };
    const check = (where: string, name: string, schema: Json) => {
      // Not record ids or dates: a routing rule's id is the rule set's own (`[a-z0-9_-]`), a history
      // entry's actor may be a part of the system (`timers`, `routing`) and its from/to are the values.
      if (name === 'rule_id' || name === 'routing_rule_id' || name === 'actor_id' || (where === 'RoutingRule' && name === 'id')) return;
      if (where === 'HistoryEntry' && (name === 'from' || name === 'to')) return;
      // A schedule's weekly hours are wall-clock times (`HH:MM`, pattern-checked), not dates.
      if (where === 'WorkingHours' && (name === 'from' || name === 'to')) return;
      // The audit log's entries are numbered by a sequence (bigint), not UUIDs; its targets include public
      // forms (`pf_…`) and tenants; a public form's id is `pf_` + 16 characters; a form's field mapping
      // lists field names; a transition's `to` is a state.
      if (where === 'AuditEntry' && (name === 'id' || name === 'target_id')) return;
      if (where === 'get /v1/audit' && name === 'target_id') return;
      if ((where === 'PublicForm' || where === 'patch /v1/public-forms/{id}') && name === 'id') return;
      if (where === 'FieldMapping' && name === 'email') return;
      if ((where === 'Transition' || where === 'BulkTransition') && name === 'to') return;
      // A DNI pool's public id and a site visitor's session id are opaque tokens, not record ids.
      if ((where === 'NumberPool' || where.includes('/v1/public/dni/')) && name === 'public_id') return;
      if ((where === 'DniLend' || where === 'DniHeartbeat') && name === 'session_id') return;
      // A PBX's own ids of a call and of an event (whatever the PBX makes them).
      if (where === 'GenericCallEvent' && (name === 'call_id' || name === 'event_id')) return;
      // A pipeline stage's `to` lists the stages a deal may move to (their keys).
      if (where === 'Stage' && name === 'to') return;
      // A range of instants (shifts) rather than of days.
      if ((name === 'from' || name === 'to') && formats(schema).includes('date-time')) return;
      const format = want(name);
      if (!format) return;
      checked.push(`${where}.${name}`);
      if (!formats(schema).includes(format)) missing.push(`${where}.${name}: ${format}`);
    };
    const missing: string[] = [];
    for (const [component, schema] of Object.entries(doc.components.schemas as Record<string, Json>)) {
      for (const [name, sub] of properties(schema)) check(component, name, sub);
    }
    for (const [method, path, op] of operations()) {
      for (const p of (op.parameters as { name: string; in: string; schema: Json }[]) ?? []) if (p.in !== 'header') check(`${method} ${path}`, p.name, p.schema);
    }
    expect(missing).toEqual([]);
    expect(checked).toEqual(expect.arrayContaining(['Request.id', 'Request.created_at', 'Comment.request_id', 'Me.tenant_id', 'get /v1/requests/{id}.id', 'get /v1/requests.created_from', 'get /v1/reports/requests-per-day.from']));
  });

  it('links a created request to reading and commenting on it, and has examples for request bodies', () => {
    const created = doc.paths['/v1/requests'].post.responses['201'];
    expect(Object.keys(created.links)).toEqual(expect.arrayContaining(['GetRequest', 'ListComments', 'AddComment']));
    expect(created.links.GetRequest).toMatchObject({ operationId: 'getRequest', parameters: { id: '$response.body#/id' } });
    const ids = new Set(operations().map(([, , op]) => op.operationId));
    for (const link of Object.values(created.links as Record<string, { operationId: string }>)) expect(ids).toContain(link.operationId);
    for (const [method, path, op] of operations()) {
      const body = (op.requestBody as { content: Record<string, Json> } | undefined)?.content['application/json'];
      if (body) expect({ at: `${method} ${path}`, examples: Boolean(body.examples || body.example) }).toEqual({ at: `${method} ${path}`, examples: true });
    }
  });

  it('marks the routes that need no credential as such', () => {
    expect(doc.paths['/v1/session'].post.security).toEqual([]);
    expect(doc.paths['/v1/requests'].get.security).toBeUndefined();
    expect(doc.security).toEqual([{ apiKey: [] }, { session: [] }]);
  });
});

describe('the gateway keeps to its document', () => {
  it('answers a known path with a method it lacks 405 with Allow, before asking for a credential; OPTIONS 204', async () => {
    for (const [method, path, allow] of [
      ['PUT', '/v1/requests', 'GET, HEAD, POST, OPTIONS'],
      ['DELETE', '/v1/requests/01936f5e-1234-7abc-8def-0123456789ab', 'GET, HEAD, OPTIONS'],
      ['TRACE', '/v1/me', 'GET, HEAD, OPTIONS'],
      ['PATCH', '/v1/requests/stream', 'GET, HEAD, OPTIONS'],
    ]) {
      const res = await raw(method, path);
      expect({ method, path, status: res.status, allow: res.headers.allow }).toEqual({ method, path, status: 405, allow });
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(JSON.parse(res.body)).toMatchObject({ status: 405, title: 'Method Not Allowed' });
    }
    const options = await fetch(`${base}/v1/requests`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
    expect((await fetch(`${base}/v1/nothing-here`, { method: 'PUT' })).status).toBe(401);
  });

  it('serves any RFC 3339 date-time filter (the offset -18:11 was a 500), compared in UTC', async () => {
    const created = await api('/v1/requests', { method: 'POST', body: JSON.stringify({ channel: 'email', email: 'dates@example.com' }) });
    expect(created.status).toBe(201);
    const old = await api(`/v1/requests?created_from=${encodeURIComponent('0402-04-08T12:44:59-18:11')}`);
    expect(old.status).toBe(200);
    expect(old.body.items.map((r: { id: string }) => r.id)).toContain(created.body.id);
    for (const value of ['0001-01-01T00:00:00+23:59', '2000-01-01 00:00:00z', '1998-12-31T23:59:60Z', '2020-06-01T10:00:00.123456789+0530']) {
      const res = await api(`/v1/requests?created_from=${encodeURIComponent(value)}`);
      expect({ value, status: res.status }).toEqual({ value, status: 200 });
    }
    const future = await api(`/v1/requests?created_from=${encodeURIComponent('9999-12-31T23:59:59-23:59')}`);
    expect(future.status).toBe(200);
    expect(future.body.items).toEqual([]);
    const bad = await api(`/v1/requests?created_from=${encodeURIComponent('2026-02-30T00:00:00Z')}`);
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toContain('created_from');
  });

  it("validates a JSON body's types as sent (no coercion), and query strings as text", async () => {
    const created = await api('/v1/requests', { method: 'POST', body: JSON.stringify({ channel: 'email', email: 'types@example.com' }) });
    for (const body of [{ text: false }, { text: 12 }, { text: null }, { text: '   ' }]) {
      const res = await api(`/v1/requests/${created.body.id}/comments`, { method: 'POST', body: JSON.stringify(body) });
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    expect((await api('/v1/requests', { method: 'POST', body: JSON.stringify({ channel: 'email', email: 'x@example.com', name: 7 }) })).status).toBe(400);
    expect((await api('/v1/requests?limit=2&state=new')).status).toBe(200);
  });

  it('answers what the fuzzer found as 4xx problems: a NUL in a comment, a multipart body without a boundary', async () => {
    const created = await api('/v1/requests', { method: 'POST', body: JSON.stringify({ channel: 'email', email: 'nul@example.com' }) });
    const nul = await api(`/v1/requests/${created.body.id}/comments`, { method: 'POST', body: JSON.stringify({ text: 'a\u0000b' }) });
    expect(nul.status).toBe(400);
    const form = await fetch(`${base}/v1/forms/${platform.tenants.a.formId}/submissions`, { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'name=x' });
    expect(form.status).toBe(400);
    expect(form.headers.get('content-type')).toContain('application/problem+json');
  });
});

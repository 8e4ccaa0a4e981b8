/**
 * Connections, extensions and "whom do I connect this caller to" against the real platform (identity,
 * intake, contacts, telephony on their own databases, the gateway): secrets shown once and never read
 * back, rotation keeping the old secret 24 h, one default per tenant, extensions of the tenant's users
 * only, another tenant's things NOT_FOUND; the decision following intake's published rules to the
 * assignee's extension, the department's on-shift members, or the fallback, and remembered per call.
 */
import { IdentityServiceService, Role } from '@crm/contracts/crm/identity/v1/identity';
import { DepartmentKind, TeamServiceService } from '@crm/contracts/crm/identity/v1/team';
import { Channel } from '@crm/contracts/crm/intake/v1/request';
import { AssignmentStrategy, RoutingServiceService, type RoutingRule } from '@crm/contracts/crm/intake/v1/routing';
import { ConnectionServiceService, Provider, WebhookServiceService, type ConnectionFields } from '@crm/contracts/crm/telephony/v1/telephony';
import { createClient, status, type ServiceError, type TenantContext } from '@crm/grpc';
import { uniqueName } from '@crm/testing';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { startPlatform, type Platform } from '../support/platform';

let p: Platform;
let pool: Pool;
let connections: ReturnType<typeof createClient<typeof ConnectionServiceService>>;
let webhooks: ReturnType<typeof createClient<typeof WebhookServiceService>>;
let identity: ReturnType<typeof createClient<typeof IdentityServiceService>>;
let team: ReturnType<typeof createClient<typeof TeamServiceService>>;
let routing: ReturnType<typeof createClient<typeof RoutingServiceService>>;
let A: TenantContext;
let B: TenantContext;
const svc = (tenantId: string): TenantContext => ({ tenantId, callerId: 'test', callerKind: 'service' });

const fields = (over: Partial<ConnectionFields> = {}): ConnectionFields => ({
  provider: Provider.PROVIDER_KAMAILIO,
  name: 'Office PBX',
  apiBaseUrl: '',
  account: '',
  secret: '',
  fallbackTarget: 'reception',
  isDefault: false,
  disabled: false,
  ...over,
});

async function failure(call: Promise<unknown>): Promise<ServiceError & { violations: { field: string; message: string }[] }> {
  try {
    await call;
  } catch (err) {
    const e = err as ServiceError;
    const raw = e.metadata?.get('x-error-violations')[0];
    return Object.assign(e, { violations: raw ? JSON.parse(raw.toString()) : [] });
  }
  throw new Error('expected the call to fail');
}

async function seller(tenantId: string, name: string, departmentIds: string[]): Promise<string> {
  const email = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '.')}.${uniqueName('u').replace(/_/g, '')}@sip.test`;
  const id = (await identity.createUser({ email, displayName: name, password: 'correct horse battery', roles: [Role.ROLE_SELLER] }, svc(tenantId))).user!.id;
  if (departmentIds.length) await team.updateUser({ id, roles: [], updateRoles: false, departmentIds, updateDepartmentIds: true, headedDepartmentIds: [], updateHeadedDepartmentIds: false }, svc(tenantId));
  return id;
}

function rule(id: string, departmentId: string, over: Partial<RoutingRule> = {}): RoutingRule {
  return {
    id,
    name: `Rule ${id}`,
    departmentId,
    strategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_ROUND_ROBIN,
    ownerFirst: false,
    overflowDepartmentId: '',
    disabled: false,
    ...over,
    when: { channels: [Channel.CHANNEL_PHONE], dialedNumberKinds: [], projectIds: [], utmSources: [], clientStates: [], owner: '', workingHours: '', ...(over.when ?? {}) },
  };
}

beforeAll(async () => {
  // A deadline for intake's routing generous enough for this shared machine (the decision, not its speed, is under test).
  p = await startPlatform({ telephonyEnv: { TELEPHONY_DECIDE_TIMEOUT_MS: '3000' } });
  pool = new Pool({ connectionString: p.telephonyDbUrl, max: 2 });
  connections = createClient(ConnectionServiceService, { address: p.telephonyAddr, defaultDeadlineMs: 15_000 });
  webhooks = createClient(WebhookServiceService, { address: p.telephonyAddr, defaultDeadlineMs: 15_000 });
  identity = createClient(IdentityServiceService, { address: p.identityAddr, defaultDeadlineMs: 15_000 });
  team = createClient(TeamServiceService, { address: p.identityAddr, defaultDeadlineMs: 15_000 });
  routing = createClient(RoutingServiceService, { address: p.intakeAddr, defaultDeadlineMs: 15_000 });
  A = { tenantId: p.tenants.a.id, callerId: randomUUID(), callerKind: 'user', roles: ['admin'] };
  B = { tenantId: p.tenants.b.id, callerId: randomUUID(), callerKind: 'user', roles: ['admin'] };
}, 120_000);

afterAll(async () => {
  for (const c of [connections, webhooks, identity, team, routing]) c?.close();
  await pool?.end();
  await p?.stop();
});

describe('connections', () => {
  it('creates a kamailio connection: the signing secret once, the webhook URL, never a secret again', async () => {
    const made = await connections.createConnection({ connection: fields() }, A);
    expect(made.signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(made.signingSecret.slice(6), 'base64')).toHaveLength(32);
    const c = made.connection!;
    expect(c).toMatchObject({ provider: Provider.PROVIDER_KAMAILIO, name: 'Office PBX', fallbackTarget: 'reception', isDefault: true, disabled: false });
    expect(c.webhookUrl).toBe(`http://127.0.0.1:8080/webhooks/telephony/${c.id}`);
    const got = (await connections.getConnection({ id: c.id }, A)).connection!;
    expect(got).toEqual(c);
    expect(JSON.stringify(got)).not.toContain(made.signingSecret.slice(6, 20));
    const listed = await connections.listConnections({ pageSize: 0, pageToken: '' }, A);
    expect(JSON.stringify(listed)).not.toContain(made.signingSecret.slice(6, 20));
    // Another tenant sees nothing of it.
    expect((await failure(connections.getConnection({ id: c.id }, B))).code).toBe(status.NOT_FOUND);
    expect((await failure(connections.updateConnection({ id: c.id, connection: fields({ name: 'x' }), updateMask: ['name'] }, B))).code).toBe(status.NOT_FOUND);
    expect((await failure(connections.rotateSecret({ id: c.id }, B))).code).toBe(status.NOT_FOUND);
    expect((await connections.listConnections({ pageSize: 0, pageToken: '' }, B)).connections).toEqual([]);
  });

  it('refuses bad fields with violations and stores nothing', async () => {
    const before = Number((await pool.query('SELECT count(*) AS n FROM connections')).rows[0].n);
    const bad = await failure(connections.createConnection({ connection: fields({ provider: Provider.PROVIDER_UNSPECIFIED, name: '', apiBaseUrl: 'ftp://x', fallbackTarget: 'x'.repeat(201) }) }, A));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.violations.map((v) => v.field).sort()).toEqual(['connection.api_base_url', 'connection.fallback_target', 'connection.name', 'connection.provider']);
    const mango = await failure(connections.createConnection({ connection: fields({ provider: Provider.PROVIDER_MANGO, account: 'key' }) }, A));
    expect(mango.violations).toEqual([{ field: 'connection.secret', message: expect.stringContaining('required') }]);
    expect(Number((await pool.query('SELECT count(*) AS n FROM connections')).rows[0].n)).toBe(before);
    expect((await failure(connections.getConnection({ id: 'nope' }, A))).code).toBe(status.NOT_FOUND);
    expect((await failure(connections.listConnections({ pageSize: 101, pageToken: '' }, A))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(connections.listConnections({ pageSize: 1, pageToken: 'garbage!' }, A))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('keeps one default per tenant, updates by mask, provider credentials write-only', async () => {
    const zadarma = await connections.createConnection({ connection: fields({ provider: Provider.PROVIDER_ZADARMA, name: 'Zadarma', apiBaseUrl: 'https://api.zadarma.com', account: 'key1', secret: 'the-secret-value', isDefault: true }) }, A);
    expect(zadarma.signingSecret).toBe('');
    expect(zadarma.connection!.isDefault).toBe(true);
    const { rows } = await pool.query('SELECT count(*) AS n FROM connections WHERE tenant_id = $1 AND is_default', [A.tenantId]);
    expect(Number(rows[0].n)).toBe(1);
    expect(JSON.stringify(await connections.getConnection({ id: zadarma.connection!.id }, A))).not.toContain('the-secret-value');
    const up = (await connections.updateConnection({ id: zadarma.connection!.id, connection: fields({ name: 'Zadarma main', fallbackTarget: '+74950000000', disabled: true }), updateMask: ['name', 'fallback_target'] }, A)).connection!;
    expect(up).toMatchObject({ name: 'Zadarma main', fallbackTarget: '+74950000000', disabled: false, isDefault: true, account: 'key1' });
    const refused = await failure(connections.updateConnection({ id: up.id, connection: fields({ provider: Provider.PROVIDER_TWILIO }), updateMask: ['provider', 'nonsense'] }, A));
    expect(refused.code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(connections.updateConnection({ id: up.id, connection: fields(), updateMask: [] }, A))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(connections.rotateSecret({ id: up.id }, A))).code).toBe(status.FAILED_PRECONDITION);
    // Paging over the tenant's two connections.
    const first = await connections.listConnections({ pageSize: 1, pageToken: '' }, A);
    expect(first.connections).toHaveLength(1);
    const second = await connections.listConnections({ pageSize: 1, pageToken: first.nextPageToken }, A);
    expect(second.connections).toHaveLength(1);
    expect(second.connections[0]!.id).not.toBe(first.connections[0]!.id);
  });

  it('rotates a signing secret: the previous one keeps verifying for 24 h', async () => {
    const made = await connections.createConnection({ connection: fields({ provider: Provider.PROVIDER_GENERIC, name: 'Generic' }) }, A);
    const rotated = await connections.rotateSecret({ id: made.connection!.id }, A);
    expect(rotated.signingSecret).toMatch(/^whsec_/);
    expect(rotated.signingSecret).not.toBe(made.signingSecret);
    const { rows } = await pool.query('SELECT signing_secret, previous_signing_secret, previous_valid_until FROM connections WHERE id = $1', [made.connection!.id]);
    expect(rows[0]).toMatchObject({ signing_secret: rotated.signingSecret, previous_signing_secret: made.signingSecret });
    const hours = (new Date(rows[0].previous_valid_until).getTime() - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);
  });
});

describe('extensions', () => {
  let conn: string;
  let u1: string;
  let u2: string;

  beforeAll(async () => {
    conn = (await connections.createConnection({ connection: fields({ name: 'Ext PBX' }) }, A)).connection!.id;
    u1 = await seller(A.tenantId, 'Ext One', []);
    u2 = await seller(A.tenantId, 'Ext Two', []);
  });

  it('sets, moves, lists and deletes extensions of the tenant users only', async () => {
    const e1 = (await connections.setExtension({ connectionId: conn, userId: u1, extension: '101' }, A)).extension!;
    expect(e1).toMatchObject({ connectionId: conn, userId: u1, extension: '101' });
    // A user has one extension per connection: setting again moves it.
    const moved = (await connections.setExtension({ connectionId: conn, userId: u1, extension: '102' }, A)).extension!;
    expect(moved).toMatchObject({ id: e1.id, extension: '102' });
    const taken = await failure(connections.setExtension({ connectionId: conn, userId: u2, extension: '102' }, A));
    expect(taken.code).toBe(status.ALREADY_EXISTS);
    const foreignUser = await seller(B.tenantId, 'Foreign', []);
    const foreign = await failure(connections.setExtension({ connectionId: conn, userId: foreignUser, extension: '103' }, A));
    expect(foreign.code).toBe(status.INVALID_ARGUMENT);
    expect(foreign.violations).toEqual([{ field: 'user_id', message: expect.any(String) }]);
    const bad = await failure(connections.setExtension({ connectionId: conn, userId: 'x', extension: 'a b' }, A));
    expect(bad.violations.map((v) => v.field).sort()).toEqual(['extension', 'user_id']);
    expect((await failure(connections.setExtension({ connectionId: conn, userId: u2, extension: '104' }, B))).code).toBe(status.NOT_FOUND);
    await connections.setExtension({ connectionId: conn, userId: u2, extension: '104' }, A);
    const list = await connections.listExtensions({ connectionId: conn, userId: '', pageSize: 0, pageToken: '' }, A);
    expect(list.extensions.map((e) => e.extension).sort()).toEqual(['102', '104']);
    expect((await connections.listExtensions({ connectionId: '', userId: u2, pageSize: 0, pageToken: '' }, A)).extensions.map((e) => e.extension)).toEqual(['104']);
    expect((await connections.listExtensions({ connectionId: conn, userId: '', pageSize: 0, pageToken: '' }, B)).extensions).toEqual([]);
    expect((await failure(connections.deleteExtension({ id: e1.id }, B))).code).toBe(status.NOT_FOUND);
    await connections.deleteExtension({ id: e1.id }, A);
    expect((await failure(connections.deleteExtension({ id: e1.id }, A))).code).toBe(status.NOT_FOUND);
  });
});

describe('decide', () => {
  let conn: string;
  let sales: string;
  let s1: string;
  let s2: string;
  let noExt: string;
  const advertising = '+74951230001';

  beforeAll(async () => {
    conn = (await connections.createConnection({ connection: fields({ name: 'Decide PBX', fallbackTarget: 'operator' }) }, A)).connection!.id;
    sales = (await team.createTeamDepartment({ name: 'Phone sales', kind: DepartmentKind.DEPARTMENT_KIND_SALES, slaFirstResponseMinutes: 0, schedule: undefined }, svc(A.tenantId))).department!.id;
    s1 = await seller(A.tenantId, 'Phone One', [sales]);
    s2 = await seller(A.tenantId, 'Phone Two', [sales]);
    noExt = await seller(A.tenantId, 'No Extension', [sales]);
    await connections.setExtension({ connectionId: conn, userId: s1, extension: '201' }, A);
    await connections.setExtension({ connectionId: conn, userId: s2, extension: '202' }, A);
    void noExt;
    const now = new Date();
    await pool.query(`INSERT INTO numbers (id, tenant_id, phone, kind, utm_source, created_at, updated_at) VALUES ($1, $2, $3, 'advertising', 'yandex', $4, $4)`, [randomUUID(), A.tenantId, advertising, now]);
  });

  it('nobody decided (no published rules): the connection fallback', async () => {
    const d = await webhooks.decide({ connectionId: conn, caller: '8 (916) 555-00-01', dialed: advertising, providerCallId: '' }, svc('platform'));
    expect(d).toMatchObject({ fallback: true, fallbackTarget: 'operator', decidedBy: 'fallback', extensions: [] });
    expect((await failure(webhooks.decide({ connectionId: randomUUID(), caller: '', dialed: '', providerCallId: '' }, svc('platform')))).code).toBe(status.NOT_FOUND);
  });

  it('follows the published rules to an extension, round robin; a queue rule gives the on-shift members; remembered per call', async () => {
    const saved = await routing.saveDraft(
      {
        rules: [rule('ads', sales, { when: { channels: [Channel.CHANNEL_PHONE], dialedNumberKinds: ['advertising'], projectIds: [], utmSources: [], clientStates: [], owner: '', workingHours: '' } }), rule('queue', sales, { strategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_QUEUE })],
        fallbackDepartmentId: sales,
        fallbackStrategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_QUEUE,
        comment: 'sip test',
      },
      A,
    );
    expect(saved.problems).toEqual([]);
    await routing.publishRouting({ version: saved.version!.version, expectedPublishedVersion: 0 }, A);
    const seen: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const d = await webhooks.decide({ connectionId: conn, caller: '+79165550002', dialed: '8 495 123-00-01', providerCallId: '' }, svc('platform'));
      // The rotation reaching the member without an extension rings the department's instead.
      expect(d).toMatchObject({ fallback: false, departmentId: sales });
      expect(d.extensions.length).toBeGreaterThan(0);
      seen.push(...d.extensions);
    }
    expect(new Set(seen)).toEqual(new Set(['201', '202']));
    // Another number (not advertising): the queue rule rings the department's on-shift members with extensions.
    const q = await webhooks.decide({ connectionId: conn, caller: '+79165550003', dialed: '+74950000999', providerCallId: 'call-1@pbx' }, svc('platform'));
    expect(q).toMatchObject({ queue: sales, departmentId: sales, decidedBy: 'department', fallback: false });
    expect([...q.extensions].sort()).toEqual(['201', '202']);
    expect([...q.userIds].sort()).toEqual([s1, s2].sort());
    const { rows } = await pool.query('SELECT tenant_id, decision FROM call_decisions WHERE connection_id = $1 AND provider_call_id = $2', [conn, 'call-1@pbx']);
    expect(rows[0]).toMatchObject({ tenant_id: A.tenantId, decision: { queue: sales } });
    // Asked again for the same call: the first answer, even after the extensions changed.
    await connections.setExtension({ connectionId: conn, userId: s1, extension: '299' }, A);
    const again = await webhooks.decide({ connectionId: conn, caller: '+79165550003', dialed: '+74950000999', providerCallId: 'call-1@pbx' }, svc('platform'));
    expect(again.extensions).toEqual(q.extensions);
    await connections.setExtension({ connectionId: conn, userId: s1, extension: '201' }, A);
  });

  it("another tenant's number is not attributed (the rules see no advertising number)", async () => {
    const connB = (await connections.createConnection({ connection: fields({ name: 'B PBX', fallbackTarget: 'b-operator' }) }, B)).connection!.id;
    // B has no rules: whatever number is dialed, B's fallback; A's advertising number does not make it A's call.
    const d = await webhooks.decide({ connectionId: connB, caller: '+79165550004', dialed: advertising, providerCallId: '' }, svc('platform'));
    expect(d).toMatchObject({ fallback: true, fallbackTarget: 'b-operator' });
  });
});

describe('REST /v1/telephony/connections and /extensions', () => {
  let key: string;
  let readOnly: string;
  const api = async (method: string, path: string, body?: unknown, as = key) => {
    const res = await fetch(`${p.base}${path}`, { method, headers: { authorization: `Bearer ${as}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON under test
    return { status: res.status, type: res.headers.get('content-type') ?? '', location: res.headers.get('location'), body: text ? (JSON.parse(text) as any) : undefined };
  };

  beforeAll(async () => {
    key = (await identity.createApiKey({ name: 'telephony', scopes: ['telephony:admin'] }, svc(A.tenantId))).secret;
    readOnly = (await identity.createApiKey({ name: 'calls', scopes: ['calls:read'] }, svc(A.tenantId))).secret;
  });

  it('creates, reads, changes, rotates and lists connections; secrets once, bad input 400, others 404', async () => {
    const made = await api('POST', '/v1/telephony/connections', { provider: 'kamailio', name: 'REST PBX', fallback_target: '100' });
    expect(made.status).toBe(201);
    expect(made.location).toBe(`/v1/telephony/connections/${made.body.connection.id}`);
    expect(made.body.signing_secret).toMatch(/^whsec_/);
    expect(made.body.connection).toMatchObject({ provider: 'kamailio', name: 'REST PBX', fallback_target: '100', disabled: false });
    const id = made.body.connection.id as string;
    const got = await api('GET', `/v1/telephony/connections/${id}`);
    expect(got.body).toEqual(made.body.connection);
    const patched = await api('PATCH', `/v1/telephony/connections/${id}`, { name: 'Renamed', is_default: true });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Renamed', is_default: true, fallback_target: '100' });
    const rotated = await api('POST', `/v1/telephony/connections/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.signing_secret).not.toBe(made.body.signing_secret);
    const page = await api('GET', '/v1/telephony/connections?limit=100');
    expect(page.body.items.map((c: { id: string }) => c.id)).toContain(id);
    expect(JSON.stringify(page.body)).not.toContain(rotated.body.signing_secret.slice(6, 20));
    expect(page.body.items.filter((c: { is_default: boolean }) => c.is_default)).toHaveLength(1);

    const bad = await api('POST', '/v1/telephony/connections', { provider: 'skype', name: '' });
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    const noSecret = await api('POST', '/v1/telephony/connections', { provider: 'twilio', name: 'Twilio' });
    expect(noSecret.status).toBe(400);
    expect(noSecret.body.errors).toEqual([expect.objectContaining({ field: 'secret' })]);
    expect((await api('PATCH', `/v1/telephony/connections/${id}`, {})).status).toBe(400);
    expect((await api('PATCH', `/v1/telephony/connections/${id}`, { provider: 'mango' })).status).toBe(400);
    expect((await api('GET', `/v1/telephony/connections/${randomUUID()}`)).status).toBe(404);
    expect((await api('GET', '/v1/telephony/connections?cursor=nope!')).status).toBe(400);
    expect((await api('GET', '/v1/telephony/connections', undefined, readOnly)).status).toBe(403);
    // Tenant B's key sees nothing of A's.
    const keyB = (await identity.createApiKey({ name: 'telephony', scopes: ['telephony:admin'] }, svc(B.tenantId))).secret;
    expect((await api('GET', `/v1/telephony/connections/${id}`, undefined, keyB)).status).toBe(404);
    expect((await api('POST', `/v1/telephony/connections/${id}/decide`, { caller: '+79165550009' }, keyB)).status).toBe(404);
  });

  it('sets, lists and deletes extensions; asks where a caller would go', async () => {
    const conn = (await api('POST', '/v1/telephony/connections', { provider: 'generic', name: 'Ext REST', fallback_target: 'desk' })).body.connection.id as string;
    const user = await seller(A.tenantId, 'Rest Seller', []);
    const set = await api('PUT', '/v1/telephony/extensions', { connection_id: conn, user_id: user, extension: '301' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ connection_id: conn, user_id: user, extension: '301' });
    expect((await api('PUT', '/v1/telephony/extensions', { connection_id: conn, user_id: user, extension: 'bad ext' })).status).toBe(400);
    const other = await seller(A.tenantId, 'Rest Other', []);
    expect((await api('PUT', '/v1/telephony/extensions', { connection_id: conn, user_id: other, extension: '301' })).status).toBe(409);
    expect((await api('PUT', '/v1/telephony/extensions', { connection_id: conn, user_id: randomUUID(), extension: '302' })).status).toBe(400);
    const list = await api('GET', `/v1/telephony/extensions?connection_id=${conn}`);
    expect(list.body).toEqual({ items: [set.body], next_cursor: null });
    const decision = await api('POST', `/v1/telephony/connections/${conn}/decide`, { caller: '8 916 555-00-09', dialed: '+74950000001' });
    expect(decision.status).toBe(200);
    expect(decision.body).toMatchObject({ decided_by: expect.any(String), fallback: expect.any(Boolean) });
    expect((await api('DELETE', `/v1/telephony/extensions/${set.body.id}`)).status).toBe(204);
    expect((await api('DELETE', `/v1/telephony/extensions/${set.body.id}`)).status).toBe(404);
  });
});

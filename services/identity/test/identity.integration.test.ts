/**
 * identity against real PostgreSQL over real gRPC: the service runs in-process (startIdentity) on a
 * fresh database; every call goes through createClient and the shared gRPC runtime.
 */
import { IdentityServiceService, Role, SubjectKind, type ApiKey, type Tenant, type User } from '@crm/contracts/crm/identity/v1/identity';
import { parseConfig } from '@crm/config';
import { createClient, status, type PromiseClient, type ServiceError, type TenantContext } from '@crm/grpc';
import type { RunningService } from '@crm/service';
import { createTestDatabase, stackUrls, uniqueName, type TestDatabase } from '@crm/testing';
import { createHash } from 'node:crypto';
import { identityEnv, startIdentity } from '../src/app';

type Client = PromiseClient<typeof IdentityServiceService>;

const platform: TenantContext = { tenantId: 'platform', callerId: 'gateway', callerKind: 'service' };
const serviceFor = (tenant: Tenant): TenantContext => ({ tenantId: tenant.id, callerId: 'bootstrap', callerKind: 'service' });
const userFor = (tenant: Tenant, user: User): TenantContext => ({ tenantId: tenant.id, callerId: user.id, callerKind: 'user' });
const keyFor = (tenant: Tenant, key: ApiKey): TenantContext => ({ tenantId: tenant.id, callerId: key.id, callerKind: 'api_key' });
const PASSWORD = 's3cret-passw0rd';

let db: TestDatabase;
let svc: RunningService;
let client: Client;

beforeAll(async () => {
  db = await createTestDatabase('identity');
  const env = parseConfig(identityEnv, {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: stackUrls().kafkaBrokers.join(','),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    TOPIC_SUFFIX: `.${uniqueName('x')}`,
  });
  svc = await startIdentity(env);
  client = createClient(IdentityServiceService, { address: `127.0.0.1:${svc.grpc.port}` });
});

afterAll(async () => {
  client?.close();
  await svc?.stop();
  await db?.drop();
});

/** The gRPC error a call fails with (fails the test when the call succeeds). */
async function failure(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return svc.orm!.em.getConnection().execute<T[]>(query, params);
}

/** Row counts of every table, to prove a rejected write left nothing behind. */
async function counts(): Promise<Record<string, number>> {
  const tables = ['tenants', 'users', 'departments', 'api_keys', 'sessions', 'public_forms', 'audit_log'];
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`))[0].n;
  return out;
}

async function newTenant(locale = 'ru'): Promise<Tenant> {
  const slug = uniqueName('t').replace(/_/g, '-');
  const { tenant } = await client.createTenant({ name: `Tenant ${slug}`, slug, locale }, platform);
  return tenant!;
}

async function newUser(tenant: Tenant, roles: Role[], email = `${uniqueName('u')}@example.com`, departmentId?: string): Promise<User> {
  const { user } = await client.createUser({ email, displayName: 'Ivan Petrov', password: PASSWORD, roles, departmentId }, serviceFor(tenant));
  return user!;
}

describe('tenant → admin → login → authenticate', () => {
  it('bootstraps a tenant and an admin who logs in and is authenticated by the session token', async () => {
    const { tenant } = await client.createTenant({ name: 'Acme', slug: uniqueName('acme').replace(/_/g, '-'), locale: '' }, platform);
    expect(tenant).toMatchObject({ name: 'Acme', locale: 'ru' });
    const admin = await newUser(tenant!, [Role.ROLE_ADMIN], 'Admin@Acme.Example');
    expect(admin).toMatchObject({ tenantId: tenant!.id, email: 'admin@acme.example', roles: [Role.ROLE_ADMIN] });
    expect(JSON.stringify(admin)).not.toMatch(/password|scrypt/i);

    const login = await client.login({ tenantSlug: tenant!.slug, email: 'ADMIN@acme.example', password: PASSWORD, clientAddress: '', userAgent: '' }, platform);
    expect(login.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const ttl = Date.parse(login.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(12 * 3600_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(12 * 3600_000);
    const expected = {
      tenantId: tenant!.id,
      tenantSlug: tenant!.slug,
      tenantLocale: 'ru',
      subjectKind: SubjectKind.SUBJECT_KIND_USER,
      subjectId: admin.id,
      displayName: 'Ivan Petrov',
      email: 'admin@acme.example',
      roles: [Role.ROLE_ADMIN],
      scopes: ['requests:read', 'requests:write', 'reports:read', 'contacts:read', 'contacts:write', 'team:read', 'tasks:read', 'tasks:write', 'routing:write', 'identity:admin', 'deals:read', 'deals:write', 'pipelines:write', 'calls:read', 'calls:write', 'telephony:admin'],
      tenantTimeZone: 'UTC',
      departmentIds: [],
      headedDepartmentIds: [],
    };
    expect(tenant!.timeZone).toBe('UTC'); // none given at creation
    // The principal names the new session (the sessions page marks it as the current one).
    expect(login.principal).toEqual({ ...expected, sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const { principal } = await client.authenticate({ credential: { $case: 'sessionToken', value: login.sessionToken } }, platform);
    expect(principal).toEqual({ ...expected, sessionId: login.principal!.sessionId });

    // Only the SHA-256 of the token is stored; the password is stored as a salted scrypt hash.
    const [session] = await sql<{ token_hash: Buffer }>('SELECT token_hash FROM sessions WHERE user_id = ?', [admin.id]);
    expect(session.token_hash.equals(createHash('sha256').update(login.sessionToken).digest())).toBe(true);
    const [row] = await sql<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = ?', [admin.id]);
    expect(row.password_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(row.password_hash).not.toContain(PASSWORD);
  });

  it('applies a role change to an open session at once, and logout ends the session', async () => {
    const tenant = await newTenant('en');
    const user = await newUser(tenant, [Role.ROLE_SELLER]);
    const { sessionToken } = await client.login({ tenantSlug: tenant.slug, email: user.email, password: PASSWORD, clientAddress: '', userAgent: '' }, platform);
    const auth = () => client.authenticate({ credential: { $case: 'sessionToken', value: sessionToken } }, platform);
    expect((await auth()).principal).toMatchObject({ tenantLocale: 'en', roles: [Role.ROLE_SELLER], scopes: ['requests:read', 'requests:write', 'contacts:read', 'contacts:write', 'team:read', 'tasks:read', 'tasks:write', 'deals:read', 'deals:write', 'calls:read', 'calls:write'] });

    await client.updateUserRoles({ id: user.id, roles: [Role.ROLE_ANALYST, Role.ROLE_HEAD_OF_SALES] }, serviceFor(tenant));
    expect((await auth()).principal).toMatchObject({ roles: [Role.ROLE_ANALYST, Role.ROLE_HEAD_OF_SALES], scopes: ['requests:read', 'requests:write', 'reports:read', 'contacts:read', 'contacts:write', 'team:read', 'tasks:read', 'tasks:write', 'routing:write', 'deals:read', 'deals:write', 'pipelines:write', 'calls:read', 'calls:write', 'telephony:admin'] });

    await client.logout({ sessionToken }, platform);
    expect(await failure(auth())).toMatchObject({ code: status.UNAUTHENTICATED, details: 'invalid credentials' });
    await expect(client.logout({ sessionToken }, platform)).resolves.toEqual({}); // idempotent
  });

  it('rejects an expired session', async () => {
    const tenant = await newTenant();
    const user = await newUser(tenant, [Role.ROLE_SELLER]);
    const { sessionToken } = await client.login({ tenantSlug: tenant.slug, email: user.email, password: PASSWORD, clientAddress: '', userAgent: '' }, platform);
    await sql("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = ?", [user.id]);
    const err = await failure(client.authenticate({ credential: { $case: 'sessionToken', value: sessionToken } }, platform));
    expect(err).toMatchObject({ code: status.UNAUTHENTICATED, details: 'invalid credentials' });
  });

  it('gives a wrong password, an unknown e-mail and an unknown tenant the identical error', async () => {
    const tenant = await newTenant();
    const user = await newUser(tenant, [Role.ROLE_SELLER]);
    const before = await counts();
    const errors = await Promise.all([
      failure(client.login({ tenantSlug: tenant.slug, email: user.email, password: 'wrong-password', clientAddress: '', userAgent: '' }, platform)),
      failure(client.login({ tenantSlug: tenant.slug, email: 'nobody@example.com', password: PASSWORD, clientAddress: '', userAgent: '' }, platform)),
      failure(client.login({ tenantSlug: 'no-such-tenant', email: user.email, password: PASSWORD, clientAddress: '', userAgent: '' }, platform)),
      failure(client.login({ tenantSlug: tenant.slug, email: user.email, password: '', clientAddress: '', userAgent: '' }, platform)),
      failure(client.authenticate({ credential: { $case: 'sessionToken', value: 'A'.repeat(43) } }, platform)),
      failure(client.authenticate({ credential: undefined }, platform)),
    ]);
    const shapes = errors.map((e) => ({ code: e.code, details: e.details, errorCode: e.metadata.get('x-error-code')[0] }));
    for (const s of shapes) expect(s).toEqual({ code: status.UNAUTHENTICATED, details: 'invalid credentials', errorCode: 'UNAUTHENTICATED' });
    // No session was opened; each failed login is audited (address, user agent) — the unknown tenant's cannot be.
    expect(await counts()).toEqual({ ...before, audit_log: before.audit_log + 3 });
  });
});

describe('API keys', () => {
  it('create → authenticate → revoke → authenticate fails; only the hash is stored', async () => {
    const tenant = await newTenant();
    const { key, secret } = await client.createApiKey({ name: 'CRM sync', scopes: ['requests:read', 'requests:write'] }, serviceFor(tenant));
    expect(secret).toMatch(new RegExp(`^crm_${key!.prefix}_[A-Za-z0-9_-]{43}$`));
    expect(key).toMatchObject({ tenantId: tenant.id, name: 'CRM sync', scopes: ['requests:read', 'requests:write'] });
    expect(key!.revokedAt).toBeUndefined();
    expect(key!.lastUsedAt).toBeUndefined();

    const auth = (value: string) => client.authenticate({ credential: { $case: 'apiKey', value } }, platform);
    expect((await auth(secret)).principal).toEqual({
      tenantId: tenant.id,
      tenantSlug: tenant.slug,
      tenantLocale: 'ru',
      subjectKind: SubjectKind.SUBJECT_KIND_API_KEY,
      subjectId: key!.id,
      displayName: 'CRM sync',
      email: '',
      roles: [],
      scopes: ['requests:read', 'requests:write'],
      tenantTimeZone: 'UTC',
      departmentIds: [],
      headedDepartmentIds: [],
      sessionId: '',
    });
    const { keys } = await client.listApiKeys({}, serviceFor(tenant));
    expect(keys).toHaveLength(1);
    expect(keys[0].lastUsedAt).toBeDefined();
    // Used again within a minute: still authenticates, and last_used_at is not rewritten on every call.
    await expect(auth(secret)).resolves.toMatchObject({ principal: { subjectId: key!.id } });
    expect((await client.listApiKeys({}, serviceFor(tenant))).keys[0].lastUsedAt).toBe(keys[0].lastUsedAt);
    // Last used long ago: the next call refreshes it.
    await sql("UPDATE api_keys SET last_used_at = now() - interval '1 hour' WHERE id = ?", [key!.id]);
    await expect(auth(secret)).resolves.toMatchObject({ principal: { subjectId: key!.id } });
    expect(Date.parse((await client.listApiKeys({}, serviceFor(tenant))).keys[0].lastUsedAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(JSON.stringify(keys)).not.toContain(secret.slice(13));

    const [row] = await sql<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = ?', [key!.id]);
    expect((row.secret_hash as Buffer).equals(createHash('sha256').update(secret).digest())).toBe(true);
    expect(JSON.stringify(row)).not.toContain(secret.slice(13));

    // Same prefix, other random part: as wrong as an unknown key.
    const tampered = `${secret.slice(0, -4)}${secret.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect(await failure(auth(tampered))).toMatchObject({ code: status.UNAUTHENTICATED, details: 'invalid credentials' });
    expect(await failure(auth('crm_nope'))).toMatchObject({ code: status.UNAUTHENTICATED, details: 'invalid credentials' });

    const revoked = await client.revokeApiKey({ id: key!.id }, serviceFor(tenant));
    expect(revoked.key!.revokedAt).toBeDefined();
    expect(await failure(auth(secret))).toMatchObject({ code: status.UNAUTHENTICATED, details: 'invalid credentials' });
    const again = await client.revokeApiKey({ id: key!.id }, serviceFor(tenant)); // idempotent
    expect(again.key!.revokedAt).toBe(revoked.key!.revokedAt);
    expect(await sql("SELECT 1 FROM audit_log WHERE action = 'api_key.revoked' AND target = ?", [`api_key:${key!.id}`])).toHaveLength(1);
  });
});

describe('public forms', () => {
  it('create → resolve; disabled and unknown ids are NOT_FOUND', async () => {
    const tenant = await newTenant('en');
    const { form } = await client.createPublicForm({ name: 'Contact us' }, serviceFor(tenant));
    expect(form).toMatchObject({ tenantId: tenant.id, name: 'Contact us', enabled: true });
    expect(form!.id).toMatch(/^pf_[A-Za-z0-9]{16}$/);
    await expect(client.resolvePublicForm({ publicFormId: form!.id }, platform)).resolves.toEqual({
      tenantId: tenant.id,
      formId: form!.id,
      name: 'Contact us',
      tenantLocale: 'en',
      fieldMapping: { name: [], phone: [], email: [], message: [] },
      thankYouUrl: '',
    });
    expect((await client.listPublicForms({}, serviceFor(tenant))).forms.map((f) => f.id)).toEqual([form!.id]);

    await client.setPublicFormEnabled({ id: form!.id, enabled: false }, serviceFor(tenant));
    expect(await failure(client.resolvePublicForm({ publicFormId: form!.id }, platform))).toMatchObject({ code: status.NOT_FOUND });
    await client.setPublicFormEnabled({ id: form!.id, enabled: true }, serviceFor(tenant));
    await expect(client.resolvePublicForm({ publicFormId: form!.id }, platform)).resolves.toMatchObject({ formId: form!.id });

    for (const id of ['pf_0000000000000000', 'pf_x', '', "pf_'; DROP TABLE x"]) {
      expect(await failure(client.resolvePublicForm({ publicFormId: id }, platform))).toMatchObject({ code: status.NOT_FOUND });
    }
  });
});

describe('permissions', () => {
  it('lets an admin user and an identity:admin key manage; a seller, a plain key, a revoked key and outsiders get PERMISSION_DENIED', async () => {
    const tenant = await newTenant();
    const other = await newTenant();
    const admin = await newUser(tenant, [Role.ROLE_ADMIN]);
    const seller = await newUser(tenant, [Role.ROLE_SELLER, Role.ROLE_HEAD_OF_SALES]);
    const { key: plainKey } = await client.createApiKey({ name: 'reader', scopes: ['requests:read', 'requests:write', 'reports:read'] }, serviceFor(tenant));
    const { key: adminKey } = await client.createApiKey({ name: 'provisioning', scopes: ['identity:admin'] }, serviceFor(tenant));
    const before = await counts();
    const input = () => ({ email: `${uniqueName('p')}@example.com`, displayName: 'New', password: PASSWORD, roles: [Role.ROLE_SELLER] });

    const denied = [
      userFor(tenant, seller),
      keyFor(tenant, plainKey!),
      { tenantId: tenant.id, callerId: 'not-a-uuid', callerKind: 'user' as const },
      userFor(other, admin), // an admin of another tenant
      { ...keyFor(other, adminKey!) },
    ];
    for (const ctx of denied) {
      expect(await failure(client.createUser(input(), ctx))).toMatchObject({ code: status.PERMISSION_DENIED });
      expect(await failure(client.listUsers({ page: undefined }, ctx))).toMatchObject({ code: status.PERMISSION_DENIED });
      expect(await failure(client.createApiKey({ name: 'x', scopes: ['identity:admin'] }, ctx))).toMatchObject({ code: status.PERMISSION_DENIED });
    }
    expect(await failure(client.createTenant({ name: 'X', slug: 'by-a-user', locale: 'en' }, userFor(tenant, admin)))).toMatchObject({ code: status.PERMISSION_DENIED });
    expect(await failure(client.createTenant({ name: 'X', slug: 'by-a-key', locale: 'en' }, keyFor(tenant, adminKey!)))).toMatchObject({ code: status.PERMISSION_DENIED });
    expect(await counts()).toEqual(before);

    await expect(client.createUser(input(), userFor(tenant, admin))).resolves.toMatchObject({ user: { tenantId: tenant.id } });
    await expect(client.createUser(input(), keyFor(tenant, adminKey!))).resolves.toMatchObject({ user: { tenantId: tenant.id } });
    const actors = await sql<{ actor_kind: string; actor_id: string }>("SELECT actor_kind, actor_id FROM audit_log WHERE tenant_id = ? AND action = 'user.created' ORDER BY id DESC LIMIT 2", [tenant.id]);
    expect(actors).toEqual([
      { actor_kind: 'api_key', actor_id: adminKey!.id },
      { actor_kind: 'user', actor_id: admin.id },
    ]);

    await client.revokeApiKey({ id: adminKey!.id }, serviceFor(tenant));
    expect(await failure(client.createUser(input(), keyFor(tenant, adminKey!)))).toMatchObject({ code: status.PERMISSION_DENIED });
    // Demoting the admin takes effect on the next call.
    await client.updateUserRoles({ id: admin.id, roles: [Role.ROLE_SELLER] }, serviceFor(tenant));
    expect(await failure(client.createUser(input(), userFor(tenant, admin)))).toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it('answers NOT_FOUND to a service calling for a tenant that does not exist', async () => {
    const ctx: TenantContext = { tenantId: '0193a5e0-0000-7000-8000-000000000000', callerId: 'bootstrap', callerKind: 'service' };
    expect(await failure(client.listDepartments({}, ctx))).toMatchObject({ code: status.NOT_FOUND });
    expect(await failure(client.createDepartment({ name: 'x' }, { ...ctx, tenantId: 'platform' }))).toMatchObject({ code: status.NOT_FOUND });
  });
});

describe('two tenants', () => {
  it('tenant B sees none of tenant A’s users, keys, forms or departments, and cannot change them (NOT_FOUND)', async () => {
    const a = await newTenant();
    const b = await newTenant();
    const { department: deptA } = await client.createDepartment({ name: 'Sales' }, serviceFor(a));
    const userA = await newUser(a, [Role.ROLE_SELLER], undefined, deptA!.id);
    expect(userA.departmentId).toBe(deptA!.id);
    const { key: keyA, secret: secretA } = await client.createApiKey({ name: 'a-key', scopes: ['requests:read'] }, serviceFor(a));
    const { form: formA } = await client.createPublicForm({ name: 'a-form' }, serviceFor(a));
    const adminB = await newUser(b, [Role.ROLE_ADMIN]);
    const before = await counts();

    for (const ctx of [serviceFor(b), userFor(b, adminB)]) {
      expect(await failure(client.getUser({ id: userA.id }, ctx))).toMatchObject({ code: status.NOT_FOUND });
      expect(await failure(client.updateUserRoles({ id: userA.id, roles: [Role.ROLE_ADMIN] }, ctx))).toMatchObject({ code: status.NOT_FOUND });
      expect(await failure(client.revokeApiKey({ id: keyA!.id }, ctx))).toMatchObject({ code: status.NOT_FOUND });
      expect(await failure(client.setPublicFormEnabled({ id: formA!.id, enabled: false }, ctx))).toMatchObject({ code: status.NOT_FOUND });
      expect(
        await failure(client.createUser({ email: `${uniqueName('x')}@example.com`, displayName: 'X', password: PASSWORD, roles: [Role.ROLE_SELLER], departmentId: deptA!.id }, ctx)),
      ).toMatchObject({ code: status.NOT_FOUND });
      expect((await client.listUsers({ page: undefined }, ctx)).users.map((u) => u.id)).toEqual([adminB.id]);
      expect((await client.listApiKeys({}, ctx)).keys).toEqual([]);
      expect((await client.listPublicForms({}, ctx)).forms).toEqual([]);
      expect((await client.listDepartments({}, ctx)).departments).toEqual([]);
    }
    // A missing id answers exactly like A's id.
    const missing = await failure(client.getUser({ id: '0193a5e0-0000-7000-8000-000000000001' }, serviceFor(b)));
    const foreign = await failure(client.getUser({ id: userA.id }, serviceFor(b)));
    expect(foreign.code).toBe(missing.code);

    expect(await counts()).toEqual(before);
    // A's records are untouched.
    expect((await client.getUser({ id: userA.id }, serviceFor(a))).user!.roles).toEqual([Role.ROLE_SELLER]);
    await expect(client.authenticate({ credential: { $case: 'apiKey', value: secretA } }, platform)).resolves.toMatchObject({ principal: { tenantId: a.id } });
    await expect(client.resolvePublicForm({ publicFormId: formA!.id }, platform)).resolves.toMatchObject({ tenantId: a.id });
    // The same e-mail and department name may exist in both tenants.
    await expect(client.createDepartment({ name: 'Sales' }, serviceFor(b))).resolves.toBeDefined();
    await expect(newUser(b, [Role.ROLE_SELLER], userA.email)).resolves.toMatchObject({ tenantId: b.id, email: userA.email });
  });
});

describe('bad input', () => {
  it('rejects malformed, oversized, unknown and duplicate input with nothing written', async () => {
    const tenant = await newTenant();
    const ctx = serviceFor(tenant);
    const existing = await newUser(tenant, [Role.ROLE_SELLER]);
    await client.createDepartment({ name: 'Inbound' }, ctx);
    const user = (over: Record<string, unknown>) => ({ email: `${uniqueName('b')}@example.com`, displayName: 'B', password: PASSWORD, roles: [Role.ROLE_SELLER], ...over });
    const before = await counts();

    const invalid: [string, Promise<unknown>][] = [
      ['email', client.createUser(user({ email: 'not-an-email' }), ctx)],
      ['password', client.createUser(user({ password: 'short' }), ctx)],
      ['password', client.createUser(user({ password: 'x'.repeat(201) }), ctx)],
      ['display_name', client.createUser(user({ displayName: 'x'.repeat(201) }), ctx)],
      ['display_name', client.createUser(user({ displayName: '   ' }), ctx)],
      ['roles', client.createUser(user({ roles: [] }), ctx)],
      ['roles', client.createUser(user({ roles: [Role.ROLE_UNSPECIFIED] }), ctx)],
      ['roles', client.createUser(user({ roles: [Role.ROLE_SELLER, 42 as Role] }), ctx)],
      ['roles', client.updateUserRoles({ id: existing.id, roles: [42 as Role] }, ctx)],
      ['name', client.createDepartment({ name: 'd'.repeat(201) }, ctx)],
      ['name', client.createApiKey({ name: '', scopes: ['requests:read'] }, ctx)],
      ['scopes', client.createApiKey({ name: 'k', scopes: ['requests:read', 'everything:*'] }, ctx)],
      ['scopes', client.createApiKey({ name: 'k', scopes: [] }, ctx)],
      ['name', client.createPublicForm({ name: 'f'.repeat(201) }, ctx)],
      ['slug', client.createTenant({ name: 'T', slug: 'Bad_Slug', locale: 'ru' }, platform)],
      ['slug', client.createTenant({ name: 'T', slug: 'x', locale: 'ru' }, platform)],
      ['locale', client.createTenant({ name: 'T', slug: uniqueName('l').replace(/_/g, '-'), locale: 'de' }, platform)],
      ['name', client.createTenant({ name: 'n'.repeat(201), slug: uniqueName('l').replace(/_/g, '-'), locale: 'ru' }, platform)],
      ['time_zone', client.createTenant({ name: 'T', slug: uniqueName('l').replace(/_/g, '-'), locale: 'ru', timeZone: 'Mars/Olympus' }, platform)],
      ['time_zone', client.createTenant({ name: 'T', slug: uniqueName('l').replace(/_/g, '-'), locale: 'ru', timeZone: '+03:00' }, platform)],
      ['time_zone', client.updateTenant({ timeZone: 'Europe/Atlantis' }, ctx)],
      ['time_zone', client.updateTenant({ timeZone: '' }, ctx)],
      ['page.cursor', client.listUsers({ page: { pageSize: 10, cursor: 'garbage' } }, ctx)],
      ['page.page_size', client.listUsers({ page: { pageSize: -1, cursor: '' } }, ctx)],
    ];
    for (const [field, call] of invalid) {
      const err = await failure(call);
      expect({ field, code: err.code }).toEqual({ field, code: status.INVALID_ARGUMENT });
      const violations = JSON.parse(err.metadata.get('x-error-violations')[0].toString()) as { field: string }[];
      expect(violations.map((v) => v.field)).toContain(field);
    }

    const duplicates: [string, Promise<unknown>][] = [
      ['email', client.createUser(user({ email: existing.email.toUpperCase() }), ctx)],
      ['name', client.createDepartment({ name: ' inbound ' }, ctx)],
      ['slug', client.createTenant({ name: 'Again', slug: tenant.slug, locale: 'en' }, platform)],
    ];
    for (const [field, call] of duplicates) {
      const err = await failure(call);
      expect({ field, code: err.code }).toEqual({ field, code: status.ALREADY_EXISTS });
    }
    expect(await counts()).toEqual(before);
  });
});

describe('listing users', () => {
  it('pages oldest first with an opaque cursor, without gaps or repeats', async () => {
    const tenant = await newTenant();
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await newUser(tenant, [Role.ROLE_SELLER])).id);
    const seen: string[] = [];
    let cursor = '';
    let pages = 0;
    do {
      const res = await client.listUsers({ page: { pageSize: 2, cursor } }, serviceFor(tenant));
      expect(res.users.length).toBeLessThanOrEqual(2);
      seen.push(...res.users.map((u) => u.id));
      cursor = res.page!.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(created);
    expect((await client.listUsers({ page: undefined }, serviceFor(tenant))).users).toHaveLength(5);
  });
});

describe('audit trail', () => {
  it('records every management write with actor, target and details, never a secret', async () => {
    const tenant = await newTenant();
    const ctx = serviceFor(tenant);
    const user = await newUser(tenant, [Role.ROLE_SELLER]);
    await client.updateUserRoles({ id: user.id, roles: [Role.ROLE_ANALYST] }, ctx);
    await client.updateUserRoles({ id: user.id, roles: [Role.ROLE_ANALYST] }, ctx); // no change, no row
    const { department } = await client.createDepartment({ name: 'Support' }, ctx);
    const { key, secret } = await client.createApiKey({ name: 'k', scopes: ['reports:read'] }, ctx);
    await client.revokeApiKey({ id: key!.id }, ctx);
    const { form } = await client.createPublicForm({ name: 'Form' }, ctx);
    await client.setPublicFormEnabled({ id: form!.id, enabled: false }, ctx);

    const rows = await sql<{ actor_kind: string; actor_id: string; action: string; target: string; details: Record<string, unknown> }>(
      'SELECT actor_kind, actor_id, action, target, details FROM audit_log WHERE tenant_id = ? ORDER BY id',
      [tenant.id],
    );
    expect(rows.map((r) => [r.action, r.target])).toEqual([
      ['tenant.created', `tenant:${tenant.id}`],
      ['user.created', `user:${user.id}`],
      ['user.roles_changed', `user:${user.id}`],
      ['department.created', `department:${department!.id}`],
      ['api_key.created', `api_key:${key!.id}`],
      ['api_key.revoked', `api_key:${key!.id}`],
      ['public_form.created', `public_form:${form!.id}`],
      ['public_form.disabled', `public_form:${form!.id}`],
    ]);
    expect(rows[0]).toMatchObject({ actor_kind: 'service', actor_id: 'gateway' });
    expect(rows.slice(1).every((r) => r.actor_kind === 'service' && r.actor_id === 'bootstrap')).toBe(true);
    expect(rows[2].details).toEqual({ from: ['seller'], to: ['analyst'] });
    expect(rows[4].details).toEqual({ name: 'k', prefix: key!.prefix, scopes: ['reports:read'] });
    const all = JSON.stringify(rows);
    expect(all).not.toContain(secret.slice(13));
    expect(all).not.toContain(PASSWORD);
  });
});

describe('tenant time zone', () => {
  it('is set at creation, carried in the principal, changed by an admin (audited) and per tenant only', async () => {
    const slug = uniqueName('tz').replace(/_/g, '-');
    const { tenant } = await client.createTenant({ name: 'Moscow sales', slug, locale: 'ru', timeZone: 'europe/moscow' }, platform);
    expect(tenant).toMatchObject({ slug, timeZone: 'Europe/Moscow' }); // stored in the canonical spelling
    const other = await newTenant();
    const admin = await newUser(tenant!, [Role.ROLE_ADMIN]);
    const seller = await newUser(tenant!, [Role.ROLE_SELLER]);
    const { sessionToken, principal } = await client.login({ tenantSlug: slug, email: admin.email, password: PASSWORD, clientAddress: '', userAgent: '' }, platform);
    expect(principal!.tenantTimeZone).toBe('Europe/Moscow');
    const { key, secret } = await client.createApiKey({ name: 'k', scopes: ['reports:read'] }, serviceFor(tenant!));
    const byKey = () => client.authenticate({ credential: { $case: 'apiKey', value: secret } }, platform);
    expect((await byKey()).principal!.tenantTimeZone).toBe('Europe/Moscow');
    expect((await client.getTenant({}, userFor(tenant!, admin))).tenant).toMatchObject({ id: tenant!.id, timeZone: 'Europe/Moscow' });

    // A seller and a plain key may not change it.
    expect(await failure(client.updateTenant({ timeZone: 'UTC' }, userFor(tenant!, seller)))).toMatchObject({ code: status.PERMISSION_DENIED });
    expect(await failure(client.updateTenant({ timeZone: 'UTC' }, keyFor(tenant!, key!)))).toMatchObject({ code: status.PERMISSION_DENIED });

    // The admin changes it: the open session and the key see the new zone at once; the other tenant keeps its own.
    const updated = await client.updateTenant({ timeZone: 'Europe/Berlin' }, userFor(tenant!, admin));
    expect(updated.tenant).toMatchObject({ id: tenant!.id, timeZone: 'Europe/Berlin', name: 'Moscow sales', locale: 'ru' });
    expect((await client.authenticate({ credential: { $case: 'sessionToken', value: sessionToken } }, platform)).principal!.tenantTimeZone).toBe('Europe/Berlin');
    expect((await byKey()).principal!.tenantTimeZone).toBe('Europe/Berlin');
    expect((await client.getTenant({}, serviceFor(other))).tenant!.timeZone).toBe('UTC');

    // Unchanged and absent fields write nothing.
    await client.updateTenant({ timeZone: 'Europe/Berlin' }, userFor(tenant!, admin));
    expect((await client.updateTenant({}, userFor(tenant!, admin))).tenant!.timeZone).toBe('Europe/Berlin');
    const audit = await sql<{ actor_kind: string; actor_id: string; details: Record<string, unknown> }>(
      "SELECT actor_kind, actor_id, details FROM audit_log WHERE tenant_id = ? AND action = 'tenant.time_zone_changed' ORDER BY id",
      [tenant!.id],
    );
    expect(audit).toEqual([{ actor_kind: 'user', actor_id: admin.id, details: { from: 'Europe/Moscow', to: 'Europe/Berlin' } }]);
    const [created] = await sql<{ details: Record<string, unknown> }>("SELECT details FROM audit_log WHERE tenant_id = ? AND action = 'tenant.created'", [tenant!.id]);
    expect(created.details).toMatchObject({ timeZone: 'Europe/Moscow' });
  });

  it('gives rows written before the column existed UTC (the migration default)', async () => {
    const id = '0190e000-0000-7000-8000-00000000a7c1';
    await sql("INSERT INTO tenants (id, name, slug, locale, created_at) VALUES (?, 'Old', ?, 'en', now())", [id, uniqueName('old').replace(/_/g, '-')]);
    const [row] = await sql<{ time_zone: string }>('SELECT time_zone FROM tenants WHERE id = ?', [id]);
    expect(row.time_zone).toBe('UTC');
    expect((await client.getTenant({}, { tenantId: id, callerId: 'bootstrap', callerKind: 'service' })).tenant!.timeZone).toBe('UTC');
  });
});

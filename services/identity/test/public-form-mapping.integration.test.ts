/**
 * A public form's field mapping and thank-you URL (identity_0003): set at CreatePublicForm, changed by
 * UpdatePublicForm (validated, audited, only the fields that are set), returned by ResolvePublicForm;
 * real PostgreSQL over real gRPC, two tenants.
 */
import { IdentityServiceService, Role, type Tenant } from '@crm/contracts/crm/identity/v1/identity';
import { parseConfig } from '@crm/config';
import { createClient, status, type PromiseClient, type ServiceError, type TenantContext } from '@crm/grpc';
import type { RunningService } from '@crm/service';
import { createTestDatabase, stackUrls, uniqueName, type TestDatabase } from '@crm/testing';
import { identityEnv, startIdentity } from '../src/app';

type Client = PromiseClient<typeof IdentityServiceService>;

const platform: TenantContext = { tenantId: 'platform', callerId: 'gateway', callerKind: 'service' };
const serviceFor = (tenant: Tenant): TenantContext => ({ tenantId: tenant.id, callerId: 'bootstrap', callerKind: 'service' });
const EMPTY = { name: [], phone: [], email: [], message: [] };

let db: TestDatabase;
let svc: RunningService;
let client: Client;

beforeAll(async () => {
  db = await createTestDatabase('identity_forms');
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

async function failure(call: Promise<unknown>): Promise<ServiceError & { violations: { field: string; message: string }[] }> {
  try {
    await call;
  } catch (err) {
    const e = err as ServiceError;
    const raw = e.metadata?.get('x-error-violations')[0];
    return Object.assign(e, { violations: raw ? (JSON.parse(raw.toString()) as { field: string; message: string }[]) : [] });
  }
  throw new Error('expected the call to fail');
}

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return svc.orm!.em.getConnection().execute<T[]>(query, params);
}

async function newTenant(): Promise<Tenant> {
  const slug = uniqueName('t').replace(/_/g, '-');
  return (await client.createTenant({ name: `Tenant ${slug}`, slug, locale: 'ru' }, platform)).tenant!;
}

describe('public form mapping and thank-you URL', () => {
  it('are set at creation, resolved for the gateway, and changed field by field (audited)', async () => {
    const tenant = await newTenant();
    const ctx = serviceFor(tenant);
    const { form } = await client.createPublicForm(
      { name: 'Landing', fieldMapping: { name: [' Контакт ', 'контакт'], phone: ['Mobile'], email: [], message: [] }, thankYouUrl: 'https://site.example/thanks' },
      ctx,
    );
    expect(form).toMatchObject({ name: 'Landing', fieldMapping: { name: ['Контакт'], phone: ['Mobile'], email: [], message: [] }, thankYouUrl: 'https://site.example/thanks' });
    await expect(client.resolvePublicForm({ publicFormId: form!.id }, platform)).resolves.toMatchObject({
      fieldMapping: { name: ['Контакт'], phone: ['Mobile'] },
      thankYouUrl: 'https://site.example/thanks',
    });

    // Only the URL: the name and the mapping stay.
    const u1 = await client.updatePublicForm({ id: form!.id, thankYouUrl: 'http://site.example/спасибо' }, ctx);
    expect(u1.form).toMatchObject({ name: 'Landing', thankYouUrl: 'http://site.example/спасибо', fieldMapping: { phone: ['Mobile'] } });
    // Only the mapping; an empty URL clears it.
    const u2 = await client.updatePublicForm({ id: form!.id, fieldMapping: { name: [], phone: [], email: ['E-mail адрес'], message: ['Задача'] }, thankYouUrl: '' }, ctx);
    expect(u2.form).toMatchObject({ name: 'Landing', thankYouUrl: '', fieldMapping: { name: [], phone: [], email: ['E-mail адрес'], message: ['Задача'] } });
    const u3 = await client.updatePublicForm({ id: form!.id, name: 'Renamed' }, ctx);
    expect(u3.form).toMatchObject({ name: 'Renamed', fieldMapping: { email: ['E-mail адрес'] } });
    // Nothing changed: no audit row.
    await client.updatePublicForm({ id: form!.id, name: 'Renamed' }, ctx);
    expect((await client.listPublicForms({}, ctx)).forms[0]).toMatchObject({ name: 'Renamed', fieldMapping: { message: ['Задача'] } });

    const audit = await sql<{ action: string; details: Record<string, unknown> }>("SELECT action, details FROM audit_log WHERE target = ? ORDER BY id", [`public_form:${form!.id}`]);
    expect(audit.map((a) => a.action)).toEqual(['public_form.created', 'public_form.updated', 'public_form.updated', 'public_form.updated']);
    expect(audit[3].details).toEqual({ name: 'Renamed' });
    expect(audit[2].details).toEqual({ fieldMapping: { name: [], phone: [], email: ['E-mail адрес'], message: ['Задача'] }, thankYouUrl: null });
  });

  it('a form created without them has the empty mapping and no URL', async () => {
    const tenant = await newTenant();
    const { form } = await client.createPublicForm({ name: 'Plain' }, serviceFor(tenant));
    expect(form).toMatchObject({ fieldMapping: EMPTY, thankYouUrl: '' });
  });

  it('rejects invalid values naming each field, with nothing written', async () => {
    const tenant = await newTenant();
    const ctx = serviceFor(tenant);
    const { form } = await client.createPublicForm({ name: 'Strict' }, ctx);
    const before = await sql<{ n: number }>('SELECT count(*)::int AS n FROM audit_log');
    const bad = await failure(
      client.updatePublicForm(
        {
          id: form!.id,
          name: '  ',
          thankYouUrl: 'javascript:alert(1)',
          fieldMapping: { name: ['', 'x'.repeat(101)], phone: Array.from({ length: 21 }, (_, i) => `p${i}`), email: ['Contact'], message: ['contact'] },
        },
        ctx,
      ),
    );
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.violations.map((v) => v.field).sort()).toEqual(
      ['name', 'field_mapping.name', 'field_mapping.name', 'field_mapping.phone', 'field_mapping.message', 'thank_you_url'].sort(),
    );
    expect((await failure(client.updatePublicForm({ id: form!.id, thankYouUrl: `https://site.example/${'a'.repeat(2000)}` }, ctx))).violations).toEqual([
      { field: 'thank_you_url', message: 'must be at most 2000 characters' },
    ]);
    expect((await failure(client.createPublicForm({ name: 'X', thankYouUrl: 'ftp://site.example/' }, ctx))).code).toBe(status.INVALID_ARGUMENT);
    expect((await sql<{ n: number }>('SELECT count(*)::int AS n FROM audit_log'))[0].n).toBe(before[0].n);
    expect((await client.listPublicForms({}, ctx)).forms).toHaveLength(1);
    expect((await client.listPublicForms({}, ctx)).forms[0]).toMatchObject({ name: 'Strict', fieldMapping: EMPTY, thankYouUrl: '' });
  });

  it("is tenant-scoped: another tenant's form is NOT_FOUND and unchanged; only admins may update", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const { form } = await client.createPublicForm({ name: 'A form' }, serviceFor(a));
    expect(await failure(client.updatePublicForm({ id: form!.id, thankYouUrl: 'https://evil.example/' }, serviceFor(b)))).toMatchObject({ code: status.NOT_FOUND });
    expect(await failure(client.updatePublicForm({ id: 'pf_0000000000000000', name: 'x' }, serviceFor(a)))).toMatchObject({ code: status.NOT_FOUND });
    expect(await failure(client.updatePublicForm({ id: "pf_'; --", name: 'x' }, serviceFor(a)))).toMatchObject({ code: status.NOT_FOUND });
    const { user } = await client.createUser({ email: `${uniqueName('s')}@example.com`, displayName: 'Seller', password: 's3cret-passw0rd', roles: [Role.ROLE_SELLER] }, serviceFor(a));
    const seller: TenantContext = { tenantId: a.id, callerId: user!.id, callerKind: 'user' };
    expect(await failure(client.updatePublicForm({ id: form!.id, name: 'x' }, seller))).toMatchObject({ code: status.PERMISSION_DENIED });
    await expect(client.resolvePublicForm({ publicFormId: form!.id }, platform)).resolves.toMatchObject({ tenantId: a.id, name: 'A form', thankYouUrl: '' });
  });
});

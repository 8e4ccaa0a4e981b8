/**
 * The demo tenant `npm start` creates on first run: an admin to log in with, an API key and a public
 * form. The API key's secret is shown once by identity, so the credentials are kept in the run
 * folder (`demo.json`, mode 600) to be printed again on later runs.
 */
import { IdentityServiceService, Role } from '@crm/contracts/crm/identity/v1/identity';
import { createClient, status, type ServiceError } from '@crm/grpc';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface DemoCredentials {
  tenantSlug: string;
  tenantId: string;
  email: string;
  password: string;
  apiKey: string;
  publicFormId: string;
}

export const DEMO = { slug: 'demo', name: 'Demo company', email: 'admin@demo.local', password: 'demo-password', timeZone: 'Europe/Moscow' } as const;

export async function ensureDemoTenant(identityAddr: string, file: string): Promise<DemoCredentials> {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials;
  const client = createClient(IdentityServiceService, { address: identityAddr, defaultDeadlineMs: 15_000 });
  const svc = { tenantId: 'platform', callerId: 'npm-start', callerKind: 'service' as const };
  try {
    let tenantId: string;
    let existed = false;
    try {
      tenantId = (await client.createTenant({ name: DEMO.name, slug: DEMO.slug, locale: 'ru', timeZone: DEMO.timeZone }, svc)).tenant!.id;
    } catch (err) {
      if ((err as ServiceError).code !== status.ALREADY_EXISTS) throw err;
      // The database outlived demo.json: log in to learn the tenant id, then issue a new key.
      tenantId = (await client.login({ tenantSlug: DEMO.slug, email: DEMO.email, password: DEMO.password }, svc)).principal!.tenantId;
      existed = true;
    }
    const ctx = { tenantId, callerId: 'npm-start', callerKind: 'service' as const };
    // A demo tenant made before tenants had time zones (UTC) is moved to the demo's zone.
    if (existed) await client.updateTenant({ timeZone: DEMO.timeZone }, ctx);
    await client.createUser({ email: DEMO.email, displayName: 'Demo Admin', password: DEMO.password, roles: [Role.ROLE_ADMIN] }, ctx).catch((err: ServiceError) => {
      if (err.code !== status.ALREADY_EXISTS) throw err;
    });
    const key = await client.createApiKey({ name: 'demo', scopes: ['requests:read', 'requests:write', 'reports:read', 'contacts:read', 'contacts:write'] }, ctx);
    const form = await client.createPublicForm({ name: 'Demo contact form' }, ctx);
    const creds: DemoCredentials = { tenantSlug: DEMO.slug, tenantId, email: DEMO.email, password: DEMO.password, apiKey: key.secret, publicFormId: form.form!.id };
    writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
    return creds;
  } finally {
    client.close();
  }
}

/**
 * The demo tenant `npm start` creates on first run: an admin to log in with, an API key and a public
 * form. The API key's secret is shown once by identity, so the credentials are kept in the run
 * folder (`demo.json`, mode 600) to be printed again on later runs. The team (Sales and Support with
 * Moscow working hours, a head of sales, two sellers, a project) is added idempotently, also to a
 * demo tenant made before it existed; so is a sales pipeline (funnel's template) when it has none.
 */
import { IdentityServiceService, Role } from '@crm/contracts/crm/identity/v1/identity';
import { PipelineServiceService } from '@crm/contracts/crm/funnel/v1/pipelines';
import { DepartmentKind, TeamServiceService, type WorkSchedule } from '@crm/contracts/crm/identity/v1/team';
import { defaultPipeline } from '@crm/funnel/src/domain/template';
import { createClient, status, type ServiceError, type TenantContext } from '@crm/grpc';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface DemoCredentials {
  tenantSlug: string;
  tenantId: string;
  email: string;
  password: string;
  apiKey: string;
  publicFormId: string;
  /** The demo team's logins (same tenant, password `DEMO.password`); absent in a demo.json made before it. */
  team?: { email: string; displayName: string; role: string; department: string }[];
}

/** Mon–Fri 09:00–18:00 in Moscow. */
const DEMO_HOURS: WorkSchedule = { timeZone: 'Europe/Moscow', hours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, from: '09:00', to: '18:00' })), holidays: [] };

export const DEMO_TEAM = [
  { email: 'head@demo.local', displayName: 'Boris Head', role: Role.ROLE_HEAD_OF_SALES, department: 'Sales', heads: true },
  { email: 'seller1@demo.local', displayName: 'Sergey Seller', role: Role.ROLE_SELLER, department: 'Sales', heads: false },
  { email: 'seller2@demo.local', displayName: 'Olga Support', role: Role.ROLE_SELLER, department: 'Support', heads: false },
] as const;

const ignoreExists = (err: ServiceError) => {
  if (err.code !== status.ALREADY_EXISTS) throw err;
};

/** Departments, the team and a project in the demo tenant; every step tolerates what exists already. */
async function ensureDemoTeam(identityAddr: string, ctx: TenantContext): Promise<NonNullable<DemoCredentials['team']>> {
  const identity = createClient(IdentityServiceService, { address: identityAddr, defaultDeadlineMs: 15_000 });
  const team = createClient(TeamServiceService, { address: identityAddr, defaultDeadlineMs: 15_000 });
  try {
    for (const [name, kind] of [
      ['Sales', DepartmentKind.DEPARTMENT_KIND_SALES],
      ['Support', DepartmentKind.DEPARTMENT_KIND_SUPPORT],
    ] as const)
      await team.createTeamDepartment({ name, kind, slaFirstResponseMinutes: 15, schedule: DEMO_HOURS }, ctx).catch(ignoreExists);
    const departments = new Map((await team.listTeamDepartments({}, ctx)).departments.map((d) => [d.name, d.id]));
    for (const m of DEMO_TEAM) {
      await identity.createUser({ email: m.email, displayName: m.displayName, password: DEMO.password, roles: [m.role] }, ctx).catch(ignoreExists);
      const user = (await team.listTeamUsers({ page: undefined, departmentId: '', includeInactive: true, query: m.email }, ctx)).users.find((u) => u.email === m.email);
      if (!user) continue;
      const dept = departments.get(m.department)!;
      await team.updateUser(
        { id: user.id, roles: [], updateRoles: false, departmentIds: [dept], updateDepartmentIds: true, headedDepartmentIds: m.heads ? [dept] : [], updateHeadedDepartmentIds: true },
        ctx,
      );
    }
    await team.createProject({ name: 'Main', code: 'main' }, ctx).catch(ignoreExists);
    return DEMO_TEAM.map((m) => ({ email: m.email, displayName: m.displayName, role: m.heads ? 'head of sales' : 'seller', department: m.department }));
  } finally {
    identity.close();
    team.close();
  }
}

/** The demo tenant's sales pipeline (funnel's template), made once: nothing when the tenant has any pipeline. */
export async function ensureDemoPipeline(funnelAddr: string, tenantId: string): Promise<void> {
  const pipelines = createClient(PipelineServiceService, { address: funnelAddr, defaultDeadlineMs: 15_000 });
  const ctx: TenantContext = { tenantId, callerId: 'npm-start', callerKind: 'service' };
  try {
    if ((await pipelines.listPipelines({ includeArchived: true }, ctx)).pipelines.length) return;
    await pipelines.createPipeline({ definition: defaultPipeline('ru') }, ctx).catch(ignoreExists);
  } finally {
    pipelines.close();
  }
}

export const DEMO = { slug: 'demo', name: 'Demo company', email: 'admin@demo.local', password: 'demo-password', timeZone: 'Europe/Moscow' } as const;

export async function ensureDemoTenant(identityAddr: string, file: string): Promise<DemoCredentials> {
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials;
    if (saved.team) return saved;
    // A demo.json from before the team existed: add the team, keep everything else.
    const team = await ensureDemoTeam(identityAddr, { tenantId: saved.tenantId, callerId: 'npm-start', callerKind: 'service' });
    writeFileSync(file, JSON.stringify({ ...saved, team }, null, 2), { mode: 0o600 });
    return { ...saved, team };
  }
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
      tenantId = (await client.login({ tenantSlug: DEMO.slug, email: DEMO.email, password: DEMO.password, clientAddress: '', userAgent: '' }, svc)).principal!.tenantId;
      existed = true;
    }
    const ctx = { tenantId, callerId: 'npm-start', callerKind: 'service' as const };
    // A demo tenant made before tenants had time zones (UTC) is moved to the demo's zone.
    if (existed) await client.updateTenant({ timeZone: DEMO.timeZone }, ctx);
    await client.createUser({ email: DEMO.email, displayName: 'Demo Admin', password: DEMO.password, roles: [Role.ROLE_ADMIN] }, ctx).catch((err: ServiceError) => {
      if (err.code !== status.ALREADY_EXISTS) throw err;
    });
    const key = await client.createApiKey({ name: 'demo', scopes: ['requests:read', 'requests:write', 'reports:read', 'contacts:read', 'contacts:write', 'deals:read', 'deals:write', 'calls:read', 'calls:write'] }, ctx);
    const form = await client.createPublicForm({ name: 'Demo contact form' }, ctx);
    const team = await ensureDemoTeam(identityAddr, ctx);
    const creds: DemoCredentials = { tenantSlug: DEMO.slug, tenantId, email: DEMO.email, password: DEMO.password, apiKey: key.secret, publicFormId: form.form!.id, team };
    writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
    return creds;
  } finally {
    client.close();
  }
}

/**
 * identity's TeamService against real PostgreSQL over real gRPC (startIdentity in-process on a fresh
 * database): invites, activation, away, departments with schedules and SLAs, projects, shifts, the
 * roster routing reads, the audit log, and who may do what — across two tenants.
 */
import { Role, type Tenant, type User } from '@crm/contracts/crm/identity/v1/identity';
import { DepartmentKind, type TeamDepartment, type WorkSchedule } from '@crm/contracts/crm/identity/v1/team';
import { status, type TenantContext } from '@crm/grpc';
import { uniqueName } from '@crm/testing';
import { createHash } from 'node:crypto';
import { failure, MISSING, PASSWORD, platform, serviceFor, startIdentityHarness, userFor, violationFields, type IdentityHarness } from './harness';

/** Moscow, Monday–Friday 09:00–18:00. */
const MOSCOW_HOURS: WorkSchedule = {
  timeZone: 'Europe/Moscow',
  hours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, from: '09:00', to: '18:00' })),
  holidays: [],
};
// Tuesday 2026-12-01: 10:00 UTC is 13:00 in Moscow.
const TUE_1300_MSK = '2026-12-01T10:00:00Z';

let h: IdentityHarness;
let identity: IdentityHarness['identity'];
let team: IdentityHarness['team'];

beforeAll(async () => {
  h = await startIdentityHarness('team');
  ({ identity, team } = h);
});

afterAll(() => h?.stop());

/** Fails with INVALID_ARGUMENT naming `field`. */
async function invalid(call: Promise<unknown>, field: string): Promise<void> {
  const err = await failure(call);
  expect({ code: err.code, fields: violationFields(err) }).toEqual({ code: status.INVALID_ARGUMENT, fields: expect.arrayContaining([field]) });
}

async function code(call: Promise<unknown>): Promise<number> {
  return (await failure(call)).code;
}

const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) => h.sql<T>(query, params);

/** Row counts of every table (and a fingerprint of users and departments) to prove a refused write left nothing. */
async function snapshot(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const t of ['users', 'departments', 'projects', 'shifts', 'sessions', 'audit_log']) out[t] = (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`))[0].n;
  out.usersHash = (await sql<{ h: string }>("SELECT md5(coalesce(string_agg(u::text, '|' ORDER BY id), '')) AS h FROM users u"))[0].h;
  out.departmentsHash = (await sql<{ h: string }>("SELECT md5(coalesce(string_agg(d::text, '|' ORDER BY id), '')) AS h FROM departments d"))[0].h;
  out.projectsHash = (await sql<{ h: string }>("SELECT md5(coalesce(string_agg(p::text, '|' ORDER BY id), '')) AS h FROM projects p"))[0].h;
  return out;
}

const newTenant = (timeZone = 'Europe/Moscow') => h.newTenant({ locale: 'ru', timeZone });
const newUser = (tenant: Tenant, roles: Role[], name = 'Ivan Petrov') => h.newUser(tenant, roles, { displayName: name });

interface Org {
  tenant: Tenant;
  admin: User;
  head: User;
  seller: User;
  support: User;
  sales: TeamDepartment;
  supportDept: TeamDepartment;
}

/** A tenant with an admin, Sales (headed by `head`, with `seller`) and Support (with `support`). */
async function newOrg(): Promise<Org> {
  const tenant = await newTenant();
  const svcCtx = serviceFor(tenant);
  const admin = await newUser(tenant, [Role.ROLE_ADMIN], 'Anna Admin');
  const sales = (await team.createTeamDepartment({ name: 'Sales', kind: DepartmentKind.DEPARTMENT_KIND_SALES, schedule: MOSCOW_HOURS }, svcCtx)).department!;
  const supportDept = (await team.createTeamDepartment({ name: 'Support', kind: DepartmentKind.DEPARTMENT_KIND_SUPPORT, slaFirstResponseMinutes: 30, schedule: undefined }, svcCtx)).department!;
  const head = await newUser(tenant, [Role.ROLE_HEAD_OF_SALES], 'Boris Head');
  const seller = await newUser(tenant, [Role.ROLE_SELLER], 'Sergey Seller');
  const support = await newUser(tenant, [Role.ROLE_SELLER], 'Olga Support');
  const set = (id: string, departmentIds: string[], headedDepartmentIds?: string[]) =>
    team.updateUser(
      { id, roles: [], updateRoles: false, departmentIds, updateDepartmentIds: true, headedDepartmentIds: headedDepartmentIds ?? [], updateHeadedDepartmentIds: headedDepartmentIds !== undefined },
      svcCtx,
    );
  await set(head.id, [sales.id], [sales.id]);
  await set(seller.id, [sales.id]);
  await set(support.id, [supportDept.id]);
  return { tenant, admin, head, seller, support, sales, supportDept };
}

const invite = (o: { email?: string; roles?: Role[]; departmentIds?: string[]; headedDepartmentIds?: string[]; displayName?: string }) => ({
  email: o.email ?? `${uniqueName('inv')}@example.com`,
  displayName: o.displayName ?? 'New Person',
  roles: o.roles ?? [Role.ROLE_SELLER],
  departmentIds: o.departmentIds ?? [],
  headedDepartmentIds: o.headedDepartmentIds ?? [],
});

describe('invite → accept → login', () => {
  it('invites with a one-time token stored only as its hash; accepting sets the password and activates', async () => {
    const org = await newOrg();
    const email = `${uniqueName('new')}@example.com`;
    const res = await team.inviteUser(invite({ email: email.toUpperCase(), displayName: 'Иван Новиков', departmentIds: [org.sales.id] }), userFor(org.tenant, org.admin));
    expect(res.inviteToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(res.inviteExpiresAt) - Date.now()).toBeGreaterThan(7 * 86_400_000 - 60_000);
    expect(res.user).toMatchObject({ email, displayName: 'Иван Новиков', active: false, invited: true, departmentIds: [org.sales.id], roles: [Role.ROLE_SELLER] });
    const [row] = await sql<{ invite_token_hash: Buffer; department_id: string }>('SELECT invite_token_hash, department_id FROM users WHERE id = ?', [res.user!.id]);
    expect(row.invite_token_hash.equals(createHash('sha256').update(res.inviteToken).digest())).toBe(true);
    expect(row.department_id).toBe(org.sales.id); // the primary department for older readers
    const audits = await sql<{ details: unknown }>("SELECT details FROM audit_log WHERE target = ? AND action = 'user.invited'", [`user:${res.user!.id}`]);
    expect(audits).toHaveLength(1);
    expect(JSON.stringify(audits[0].details)).not.toContain(res.inviteToken);

    // Not accepted yet: cannot log in (the same answer as a wrong password).
    expect(await code(identity.login({ tenantSlug: org.tenant.slug, email, password: PASSWORD, clientAddress: '', userAgent: '' }, platform))).toBe(status.UNAUTHENTICATED);
    await invalid(team.acceptInvite({ token: res.inviteToken, password: 'short' }, platform), 'password');
    expect(await code(team.acceptInvite({ token: 'A'.repeat(43), password: PASSWORD }, platform))).toBe(status.NOT_FOUND);
    expect(await code(team.acceptInvite({ token: 'not a token', password: PASSWORD }, platform))).toBe(status.NOT_FOUND);

    const accepted = await team.acceptInvite({ token: res.inviteToken, password: PASSWORD }, platform);
    expect(accepted).toMatchObject({ tenantSlug: org.tenant.slug, user: { id: res.user!.id, active: true, invited: false } });
    const login = await identity.login({ tenantSlug: org.tenant.slug, email, password: PASSWORD, clientAddress: '', userAgent: '' }, platform);
    expect(login.principal).toMatchObject({ subjectId: res.user!.id, departmentIds: [org.sales.id], headedDepartmentIds: [] });
    // One use only.
    expect(await code(team.acceptInvite({ token: res.inviteToken, password: PASSWORD }, platform))).toBe(status.NOT_FOUND);
    const actions = (await team.listAuditEntries({ page: undefined, targetKind: 'user', targetId: res.user!.id, actorId: '' }, serviceFor(org.tenant))).entries.map((e) => e.action);
    expect(actions).toEqual(['login.succeeded', 'user.invite_accepted', 'user.invited']);
  });

  it('refuses an expired invite and a taken e-mail', async () => {
    const org = await newOrg();
    const res = await team.inviteUser(invite({}), serviceFor(org.tenant));
    await sql("UPDATE users SET invite_expires_at = now() - interval '1 second' WHERE id = ?", [res.user!.id]);
    expect(await code(team.acceptInvite({ token: res.inviteToken, password: PASSWORD }, platform))).toBe(status.NOT_FOUND);
    const before = await snapshot();
    const err = await failure(team.inviteUser(invite({ email: res.user!.email }), serviceFor(org.tenant)));
    expect({ code: err.code, fields: violationFields(err) }).toEqual({ code: status.ALREADY_EXISTS, fields: ['email'] });
    expect(await code(team.inviteUser(invite({ email: org.seller.email }), serviceFor(org.tenant)))).toBe(status.ALREADY_EXISTS);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses malformed, oversized and cross-tenant input with nothing written', async () => {
    const org = await newOrg();
    const other = await newOrg();
    const ctx = serviceFor(org.tenant);
    const before = await snapshot();
    await invalid(team.inviteUser(invite({ email: 'not-an-email' }), ctx), 'email');
    await invalid(team.inviteUser(invite({ email: `${'a'.repeat(250)}@example.com` }), ctx), 'email');
    await invalid(team.inviteUser(invite({ displayName: 'x'.repeat(201) }), ctx), 'display_name');
    await invalid(team.inviteUser(invite({ displayName: '   ' }), ctx), 'display_name');
    await invalid(team.inviteUser(invite({ roles: [] }), ctx), 'roles');
    await invalid(team.inviteUser(invite({ roles: [99 as Role] }), ctx), 'roles');
    await invalid(team.inviteUser(invite({ departmentIds: [org.sales.id, 'nope'] }), ctx), 'department_ids[1]');
    await invalid(team.inviteUser(invite({ departmentIds: Array.from({ length: 51 }, () => org.sales.id) }), ctx), 'department_ids');
    await invalid(team.inviteUser(invite({ headedDepartmentIds: [org.sales.id] }), ctx), 'headed_department_ids');
    expect(await code(team.inviteUser(invite({ departmentIds: [other.sales.id] }), ctx))).toBe(status.NOT_FOUND);
    expect(await code(team.inviteUser(invite({ departmentIds: [MISSING] }), ctx))).toBe(status.NOT_FOUND);
    await invalid(team.acceptInvite({ token: '', password: PASSWORD }, platform), 'token');
    expect(await snapshot()).toEqual(before);
  });
});

describe('users: update, deactivate, away', () => {
  it('deactivation ends every session at once and refuses login; reactivation lets them in again', async () => {
    const org = await newOrg();
    const login = () => identity.login({ tenantSlug: org.tenant.slug, email: org.seller.email, password: PASSWORD, clientAddress: '', userAgent: '' }, platform);
    const a = await login();
    const b = await login();
    const auth = (token: string) => identity.authenticate({ credential: { $case: 'sessionToken', value: token } }, platform);
    expect((await auth(a.sessionToken)).principal).toMatchObject({ subjectId: org.seller.id, departmentIds: [org.sales.id] });

    const res = await team.setUserActive({ id: org.seller.id, active: false }, userFor(org.tenant, org.admin));
    expect(res).toMatchObject({ sessionsRevoked: 2, user: { active: false, invited: false } });
    expect(res.user!.deactivatedAt).not.toBe('');
    expect(await code(auth(a.sessionToken))).toBe(status.UNAUTHENTICATED);
    expect(await code(auth(b.sessionToken))).toBe(status.UNAUTHENTICATED);
    expect(await code(login())).toBe(status.UNAUTHENTICATED);
    // Idempotent: a second deactivation changes and audits nothing.
    const audits = await sql<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE target = ? AND action = 'user.deactivated'", [`user:${org.seller.id}`]);
    expect(audits[0].n).toBe(1);
    expect((await team.setUserActive({ id: org.seller.id, active: false }, serviceFor(org.tenant))).sessionsRevoked).toBe(0);
    expect((await sql<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE target = ? AND action = 'user.deactivated'", [`user:${org.seller.id}`]))[0].n).toBe(1);
    // Deactivated users leave the default list and the roster.
    const listed = (await team.listTeamUsers({ page: undefined, departmentId: '', includeInactive: false, query: '' }, serviceFor(org.tenant))).users.map((u) => u.id);
    expect(listed).not.toContain(org.seller.id);
    expect((await team.listTeamUsers({ page: undefined, departmentId: '', includeInactive: true, query: '' }, serviceFor(org.tenant))).users.map((u) => u.id)).toContain(org.seller.id);
    expect((await team.getRoster({ at: '' }, serviceFor(org.tenant))).users.map((u) => u.id)).not.toContain(org.seller.id);

    await team.setUserActive({ id: org.seller.id, active: true }, serviceFor(org.tenant));
    await expect(login()).resolves.toMatchObject({ principal: { subjectId: org.seller.id } });
    const actions = (await team.listAuditEntries({ page: undefined, targetKind: 'user', targetId: org.seller.id, actorId: '' }, serviceFor(org.tenant))).entries.map((e) => e.action);
    expect(actions.filter((a) => a.startsWith('user.')).slice(0, 2)).toEqual(['user.activated', 'user.deactivated']);
    expect(actions).toContain('sessions.ended');
  });

  it('keeps the last active admin; refuses unknown and cross-tenant ids; a pending invite cannot be activated', async () => {
    const org = await newOrg();
    const other = await newOrg();
    const ctx = userFor(org.tenant, org.admin);
    const before = await snapshot();
    expect(await code(team.setUserActive({ id: org.admin.id, active: false }, ctx))).toBe(status.FAILED_PRECONDITION);
    const demote = { id: org.admin.id, roles: [Role.ROLE_SELLER], updateRoles: true, departmentIds: [], updateDepartmentIds: false, headedDepartmentIds: [], updateHeadedDepartmentIds: false };
    expect(await code(team.updateUser(demote, ctx))).toBe(status.FAILED_PRECONDITION);
    expect(await code(team.setUserActive({ id: other.seller.id, active: false }, ctx))).toBe(status.NOT_FOUND);
    expect(await code(team.setUserActive({ id: 'garbage', active: false }, ctx))).toBe(status.NOT_FOUND);
    expect(await code(team.getTeamUser({ id: other.seller.id }, ctx))).toBe(status.NOT_FOUND);
    expect(await snapshot()).toEqual(before);
    // With a second admin the first may go.
    const second = await newUser(org.tenant, [Role.ROLE_ADMIN], 'Second Admin');
    await expect(team.setUserActive({ id: org.admin.id, active: false }, userFor(org.tenant, second))).resolves.toMatchObject({ user: { active: false } });
    // A deactivated admin can no longer manage anything.
    expect(await code(team.createProject({ name: 'X', code: 'x' }, ctx))).toBe(status.PERMISSION_DENIED);
    const pending = await team.inviteUser(invite({}), serviceFor(org.tenant));
    expect(await code(team.setUserActive({ id: pending.user!.id, active: true }, serviceFor(org.tenant)))).toBe(status.FAILED_PRECONDITION);
  });

  it('updates names, roles and memberships with validation, audit before/after and the principal', async () => {
    const org = await newOrg();
    const other = await newOrg();
    const ctx = serviceFor(org.tenant);
    const base = { id: org.seller.id, roles: [], updateRoles: false, departmentIds: [], updateDepartmentIds: false, headedDepartmentIds: [], updateHeadedDepartmentIds: false };
    const before = await snapshot();
    await invalid(team.updateUser({ ...base, displayName: '' }, ctx), 'display_name');
    await invalid(team.updateUser({ ...base, roles: [], updateRoles: true }, ctx), 'roles');
    await invalid(team.updateUser({ ...base, departmentIds: ['x'], updateDepartmentIds: true }, ctx), 'department_ids[0]');
    await invalid(team.updateUser({ ...base, headedDepartmentIds: [org.sales.id], updateHeadedDepartmentIds: true }, ctx), 'headed_department_ids');
    expect(await code(team.updateUser({ ...base, departmentIds: [other.sales.id], updateDepartmentIds: true }, ctx))).toBe(status.NOT_FOUND);
    expect(await code(team.updateUser({ ...base, id: other.seller.id, displayName: 'X' }, ctx))).toBe(status.NOT_FOUND);
    expect(await snapshot()).toEqual(before);

    const res = await team.updateUser({ ...base, displayName: 'Sergey S.', departmentIds: [org.supportDept.id, org.sales.id], updateDepartmentIds: true }, ctx);
    expect(res.user).toMatchObject({ displayName: 'Sergey S.', departmentIds: [org.supportDept.id, org.sales.id] });
    expect((await sql<{ department_id: string }>('SELECT department_id FROM users WHERE id = ?', [org.seller.id]))[0].department_id).toBe(org.supportDept.id);
    const [entry] = (await team.listAuditEntries({ page: undefined, targetKind: 'user', targetId: org.seller.id, actorId: '' }, ctx)).entries;
    expect(entry.action).toBe('user.updated');
    expect(JSON.parse(entry.detailsJson)).toEqual({
      before: { displayName: 'Sergey Seller', departmentIds: [org.sales.id] },
      after: { displayName: 'Sergey S.', departmentIds: [org.supportDept.id, org.sales.id] },
    });
    const login = await identity.login({ tenantSlug: org.tenant.slug, email: org.head.email, password: PASSWORD, clientAddress: '', userAgent: '' }, platform);
    expect(login.principal).toMatchObject({ departmentIds: [org.sales.id], headedDepartmentIds: [org.sales.id] });
  });

  it('away until a time counts only until then; a past or malformed time is refused', async () => {
    const org = await newOrg();
    const ctx = serviceFor(org.tenant);
    const before = await snapshot();
    await invalid(team.setAway({ userId: org.seller.id, away: true, until: '2020-01-01T00:00:00Z' }, ctx), 'until');
    await invalid(team.setAway({ userId: org.seller.id, away: true, until: 'tomorrow' }, ctx), 'until');
    await invalid(team.setAway({ userId: org.seller.id, away: false, until: '2099-01-01T00:00:00Z' }, ctx), 'until');
    expect(await snapshot()).toEqual(before);
    const until = new Date(Date.now() + 3_600_000);
    const res = await team.setAway({ userId: org.seller.id, away: true, until: until.toISOString() }, ctx);
    expect(res.user).toMatchObject({ away: true, awayUntil: until.toISOString() });
    const roster = (at: Date) => team.getRoster({ at: at.toISOString() }, ctx);
    const seller = async (at: Date) => (await roster(at)).users.find((u) => u.id === org.seller.id)!;
    expect((await seller(new Date(until.getTime() - 60_000))).away).toBe(true);
    expect((await seller(new Date(until.getTime() + 60_000))).away).toBe(false);
    // Past the time the stored flag is still set, but it reads as back.
    await sql("UPDATE users SET away_until = now() - interval '1 minute' WHERE id = ?", [org.seller.id]);
    expect((await team.getTeamUser({ id: org.seller.id }, ctx)).user).toMatchObject({ away: false, awayUntil: '' });
    await team.setAway({ userId: org.seller.id, away: true, until: '' }, ctx);
    expect((await seller(new Date('2100-01-01T00:00:00Z'))).away).toBe(true);
    await team.setAway({ userId: org.seller.id, away: false, until: '' }, ctx);
    const actions = (await team.listAuditEntries({ page: undefined, targetKind: 'user', targetId: org.seller.id, actorId: '' }, ctx)).entries.map((e) => e.action);
    expect(actions.slice(0, 3)).toEqual(['user.away_cleared', 'user.away_set', 'user.away_set']);
  });
});

describe('who may do what', () => {
  it('a head of sales manages only the departments they head and their members', async () => {
    const org = await newOrg();
    const head = userFor(org.tenant, org.head);
    // Allowed in Sales.
    await expect(team.setAway({ userId: org.seller.id, away: true, until: '' }, head)).resolves.toMatchObject({ user: { away: true } });
    const shift = await team.addShift({ userId: org.seller.id, startsAt: '2026-12-02T06:00:00Z', endsAt: '2026-12-02T15:00:00Z' }, head);
    await team.removeShift({ id: shift.shift!.id }, head);
    await expect(team.setSchedule({ departmentId: org.sales.id, schedule: { ...MOSCOW_HOURS, holidays: ['2026-12-31'] } }, head)).resolves.toBeDefined();
    await expect(team.updateTeamDepartment({ id: org.sales.id, name: 'Sales Moscow', kind: 0, slaFirstResponseMinutes: 10 }, head)).resolves.toMatchObject({
      department: { name: 'Sales Moscow', slaFirstResponseMinutes: 10 },
    });
    const invited = await team.inviteUser(invite({ departmentIds: [org.sales.id] }), head);
    expect(invited.user).toMatchObject({ roles: [Role.ROLE_SELLER], departmentIds: [org.sales.id] });
    await expect(team.setAway({ userId: org.head.id, away: true, until: '' }, head)).resolves.toBeDefined(); // themselves

    // Refused elsewhere, and for admin-only changes; nothing written.
    const before = await snapshot();
    const denied = [
      team.setAway({ userId: org.support.id, away: true, until: '' }, head),
      team.addShift({ userId: org.support.id, startsAt: '2026-12-02T06:00:00Z', endsAt: '2026-12-02T15:00:00Z' }, head),
      team.addShift({ userId: org.admin.id, startsAt: '2026-12-02T06:00:00Z', endsAt: '2026-12-02T15:00:00Z' }, head),
      team.setSchedule({ departmentId: org.supportDept.id, schedule: MOSCOW_HOURS }, head),
      team.updateTeamDepartment({ id: org.supportDept.id, name: 'Mine now', kind: 0 }, head),
      team.updateTeamDepartment({ id: org.sales.id, kind: DepartmentKind.DEPARTMENT_KIND_OTHER }, head),
      team.inviteUser(invite({ departmentIds: [org.supportDept.id] }), head),
      team.inviteUser(invite({ departmentIds: [org.sales.id], roles: [Role.ROLE_ADMIN] }), head),
      team.inviteUser(invite({ departmentIds: [org.sales.id], roles: [Role.ROLE_SELLER, Role.ROLE_HEAD_OF_SALES] }), head),
      team.inviteUser(invite({}), head),
      team.createTeamDepartment({ name: 'Rogue', kind: 0, schedule: undefined }, head),
      team.setUserActive({ id: org.seller.id, active: false }, head),
      team.updateUser({ id: org.seller.id, displayName: 'X', roles: [], updateRoles: false, departmentIds: [], updateDepartmentIds: false, headedDepartmentIds: [], updateHeadedDepartmentIds: false }, head),
      team.createProject({ name: 'P', code: 'p' }, head),
    ];
    for (const call of denied) expect(await code(call)).toBe(status.PERMISSION_DENIED);
    expect(await snapshot()).toEqual(before);

    // A role taken away ends the headship at once.
    await team.updateUser({ id: org.head.id, roles: [Role.ROLE_SELLER], updateRoles: true, departmentIds: [], updateDepartmentIds: false, headedDepartmentIds: [], updateHeadedDepartmentIds: true }, serviceFor(org.tenant));
    expect(await code(team.setAway({ userId: org.seller.id, away: false, until: '' }, head))).toBe(status.PERMISSION_DENIED);
  });

  it('sellers, analysts and plain API keys read but never write; other tenants and strangers get nothing', async () => {
    const org = await newOrg();
    const other = await newOrg();
    const seller = userFor(org.tenant, org.seller);
    await expect(team.listTeamUsers({ page: undefined, departmentId: '', includeInactive: false, query: '' }, seller)).resolves.toBeDefined();
    await expect(team.listTeamDepartments({}, seller)).resolves.toMatchObject({ departments: [{ name: 'Sales' }, { name: 'Support' }] });
    await expect(team.getRoster({ at: '' }, seller)).resolves.toBeDefined();
    const { secret, key } = await identity.createApiKey({ name: 'sync', scopes: ['requests:read'] }, serviceFor(org.tenant));
    expect(secret).toBeTruthy();
    const keyCtx: TenantContext = { tenantId: org.tenant.id, callerId: key!.id, callerKind: 'api_key' };
    await expect(team.listProjects({ includeArchived: false }, keyCtx)).resolves.toBeDefined();
    const adminKey = await identity.createApiKey({ name: 'admin', scopes: ['identity:admin'] }, serviceFor(org.tenant));
    await expect(team.createProject({ name: 'Main', code: 'main' }, { ...keyCtx, callerId: adminKey.key!.id })).resolves.toBeDefined();

    const analyst = userFor(org.tenant, await newUser(org.tenant, [Role.ROLE_ANALYST]));
    const before = await snapshot();
    for (const ctx of [seller, keyCtx, analyst]) {
      expect(await code(team.setAway({ userId: org.seller.id, away: true, until: '' }, ctx))).toBe(status.PERMISSION_DENIED);
      expect(await code(team.createProject({ name: 'P', code: 'p2' }, ctx))).toBe(status.PERMISSION_DENIED);
      expect(await code(team.inviteUser(invite({ departmentIds: [org.sales.id] }), ctx))).toBe(status.PERMISSION_DENIED);
    }
    // A user of another tenant calling with this tenant's id is a stranger.
    expect(await code(team.listTeamUsers({ page: undefined, departmentId: '', includeInactive: false, query: '' }, { ...userFor(org.tenant, other.admin) }))).toBe(status.PERMISSION_DENIED);
    expect(await code(team.getRoster({ at: '' }, { tenantId: MISSING, callerId: 'x', callerKind: 'service' }))).toBe(status.NOT_FOUND);
    expect(await snapshot()).toEqual(before);
  });
});

describe('departments and schedules', () => {
  it('creates with kind, SLA and schedule; refuses duplicates and bad values naming the field', async () => {
    const org = await newOrg();
    const ctx = serviceFor(org.tenant);
    expect(org.sales).toMatchObject({ kind: DepartmentKind.DEPARTMENT_KIND_SALES, slaFirstResponseMinutes: 15, schedule: MOSCOW_HOURS, memberCount: 0 });
    const listed = (await team.listTeamDepartments({}, ctx)).departments;
    expect(listed.find((d) => d.id === org.sales.id)).toMatchObject({ headUserIds: [org.head.id], memberCount: 2 });
    expect(listed.find((d) => d.id === org.supportDept.id)).toMatchObject({ kind: DepartmentKind.DEPARTMENT_KIND_SUPPORT, slaFirstResponseMinutes: 30, memberCount: 1, schedule: { hours: [] } });

    const before = await snapshot();
    expect(await code(team.createTeamDepartment({ name: 'sales', kind: 0, schedule: undefined }, ctx))).toBe(status.ALREADY_EXISTS);
    expect(await code(team.updateTeamDepartment({ id: org.supportDept.id, name: 'SALES', kind: 0 }, ctx))).toBe(status.ALREADY_EXISTS);
    await invalid(team.createTeamDepartment({ name: 'x'.repeat(201), kind: 0, schedule: undefined }, ctx), 'name');
    await invalid(team.createTeamDepartment({ name: 'Ops', kind: 42 as DepartmentKind, schedule: undefined }, ctx), 'kind');
    await invalid(team.createTeamDepartment({ name: 'Ops', kind: 0, slaFirstResponseMinutes: 10_081, schedule: undefined }, ctx), 'sla_first_response_minutes');
    await invalid(team.createTeamDepartment({ name: 'Ops', kind: 0, slaFirstResponseMinutes: -1, schedule: undefined }, ctx), 'sla_first_response_minutes');
    await invalid(team.updateTeamDepartment({ id: org.sales.id, kind: 0, slaFirstResponseMinutes: 99_999 }, ctx), 'sla_first_response_minutes');
    await invalid(team.createTeamDepartment({ name: 'Ops', kind: 0, schedule: { ...MOSCOW_HOURS, timeZone: 'Mars/Olympus' } }, ctx), 'schedule.time_zone');
    expect(await code(team.getTeamDepartment({ id: (await newOrg()).sales.id }, ctx))).toBe(status.NOT_FOUND);
    expect(await code(team.updateTeamDepartment({ id: MISSING, name: 'x', kind: 0 }, ctx))).toBe(status.NOT_FOUND);
    expect(await code(team.setSchedule({ departmentId: 'nope', schedule: MOSCOW_HOURS }, ctx))).toBe(status.NOT_FOUND);
    // A new department costs an audit row, the refused ones none: drop the one the other org added.
    const after = await snapshot();
    expect({ ...after, users: 0, departments: 0, audit_log: 0, usersHash: '', departmentsHash: '', sessions: 0 }).toEqual({ ...before, users: 0, departments: 0, audit_log: 0, usersHash: '', departmentsHash: '', sessions: 0 });
    expect((await sql<{ n: number }>('SELECT count(*)::int AS n FROM departments WHERE tenant_id = ?', [org.tenant.id]))[0].n).toBe(2);
  });

  it('refuses overlapping and inverted hours, bad holidays and weekdays naming the entry; nothing changes', async () => {
    const org = await newOrg();
    const ctx = serviceFor(org.tenant);
    const before = await snapshot();
    const put = (schedule: WorkSchedule) => team.setSchedule({ departmentId: org.sales.id, schedule }, ctx);
    await invalid(
      put({ timeZone: 'Europe/Moscow', hours: [{ weekday: 1, from: '09:00', to: '13:00' }, { weekday: 1, from: '12:30', to: '18:00' }], holidays: [] }),
      'schedule.hours[1]',
    );
    await invalid(put({ timeZone: 'Europe/Moscow', hours: [{ weekday: 2, from: '18:00', to: '09:00' }], holidays: [] }), 'schedule.hours[0].to');
    await invalid(put({ timeZone: 'Europe/Moscow', hours: [{ weekday: 2, from: '25:00', to: '26:00' }], holidays: [] }), 'schedule.hours[0].from');
    await invalid(put({ timeZone: 'Europe/Moscow', hours: [{ weekday: 0, from: '09:00', to: '10:00' }], holidays: [] }), 'schedule.hours[0].weekday');
    await invalid(put({ timeZone: 'Europe/Moscow', hours: [], holidays: ['2026-02-30'] }), 'schedule.holidays[0]');
    await invalid(put({ timeZone: 'Europe/Moscow', hours: [], holidays: Array.from({ length: 401 }, (_, i) => new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10)) }), 'schedule.holidays');
    await invalid(put({ timeZone: '+03:00', hours: [], holidays: [] }), 'schedule.time_zone');
    // Non-ASCII input quoted in a message still answers INVALID_ARGUMENT (violations travel as ASCII JSON).
    await invalid(put({ timeZone: 'Москва', hours: [], holidays: ['31 декабря'] }), 'schedule.holidays[0]');
    expect(await snapshot()).toEqual(before);

    // A lunch break is fine; the same schedule again writes nothing.
    const lunch: WorkSchedule = { timeZone: '', hours: [{ weekday: 1, from: '09:00', to: '13:00' }, { weekday: 1, from: '14:00', to: '18:00' }], holidays: ['2026-12-31'] };
    expect((await put(lunch)).department!.schedule).toEqual(lunch);
    const audits = async () => (await sql<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE target = ? AND action = 'department.schedule_set'", [`department:${org.sales.id}`]))[0].n;
    expect(await audits()).toBe(1);
    await put(lunch);
    expect(await audits()).toBe(1);
    const [entry] = (await team.listAuditEntries({ page: undefined, targetKind: 'department', targetId: org.sales.id, actorId: '' }, ctx)).entries;
    expect(JSON.parse(entry.detailsJson)).toEqual({ before: MOSCOW_HOURS, after: lunch });
  });
});

describe('projects', () => {
  it('creates, renames, archives; codes unique per tenant and well-formed', async () => {
    const org = await newOrg();
    const other = await newOrg();
    const ctx = serviceFor(org.tenant);
    const p = (await team.createProject({ name: 'Flats', code: 'flats' }, ctx)).project!;
    await team.createProject({ name: 'Flats', code: 'flats' }, serviceFor(other.tenant)); // another tenant may reuse the code
    const before = await snapshot();
    expect(await code(team.createProject({ name: 'Other', code: 'flats' }, ctx))).toBe(status.ALREADY_EXISTS);
    await invalid(team.createProject({ name: 'Other', code: 'Flats!' }, ctx), 'code');
    await invalid(team.createProject({ name: 'Other', code: 'x'.repeat(33) }, ctx), 'code');
    await invalid(team.createProject({ name: '', code: 'ok' }, ctx), 'name');
    await invalid(team.updateProject({ id: p.id, name: 'y'.repeat(201) }, ctx), 'name');
    expect(await code(team.updateProject({ id: p.id, name: 'Stolen' }, serviceFor(other.tenant)))).toBe(status.NOT_FOUND);
    expect(await snapshot()).toEqual(before);
    await team.updateProject({ id: p.id, name: 'Flats and houses', archived: true }, ctx);
    expect((await team.listProjects({ includeArchived: false }, ctx)).projects).toEqual([]);
    expect((await team.listProjects({ includeArchived: true }, ctx)).projects).toMatchObject([{ id: p.id, name: 'Flats and houses', code: 'flats', archived: true }]);
    const actions = (await team.listAuditEntries({ page: undefined, targetKind: 'project', targetId: '', actorId: '' }, ctx)).entries.map((e) => e.action);
    expect(actions).toEqual(['project.updated', 'project.created']);
  });
});

describe('shifts and the roster', () => {
  it('refuses inverted, too long, malformed and overlapping shifts of the same user', async () => {
    const org = await newOrg();
    const other = await newOrg();
    const ctx = serviceFor(org.tenant);
    await team.addShift({ userId: org.seller.id, startsAt: '2026-12-01T06:00:00Z', endsAt: '2026-12-01T14:00:00Z' }, ctx);
    const before = await snapshot();
    await invalid(team.addShift({ userId: org.seller.id, startsAt: '2026-12-01T14:00:00Z', endsAt: '2026-12-01T06:00:00Z' }, ctx), 'ends_at');
    await invalid(team.addShift({ userId: org.seller.id, startsAt: '2026-12-02T00:00:00Z', endsAt: '2026-12-03T00:00:01Z' }, ctx), 'ends_at');
    await invalid(team.addShift({ userId: org.seller.id, startsAt: 'monday', endsAt: '2026-12-01T06:00:00Z' }, ctx), 'starts_at');
    await invalid(team.addShift({ userId: org.seller.id, startsAt: '2026-12-01T13:59:00Z', endsAt: '2026-12-01T18:00:00Z' }, ctx), 'starts_at');
    await invalid(team.addShift({ userId: org.seller.id, startsAt: '2026-12-01T05:00:00Z', endsAt: '2026-12-01T20:00:00Z' }, ctx), 'starts_at');
    expect(await code(team.addShift({ userId: other.seller.id, startsAt: '2026-12-05T06:00:00Z', endsAt: '2026-12-05T14:00:00Z' }, ctx))).toBe(status.NOT_FOUND);
    expect(await snapshot()).toEqual(before);
    // Back to back is not an overlap, and another user's shift at the same time is fine.
    await team.addShift({ userId: org.seller.id, startsAt: '2026-12-01T14:00:00+00:00', endsAt: '2026-12-01T18:00:00Z' }, ctx);
    await team.addShift({ userId: org.support.id, startsAt: '2026-12-01T06:00:00Z', endsAt: '2026-12-01T14:00:00Z' }, ctx);
    // Concurrent overlapping adds: exactly one wins.
    const racers = await Promise.allSettled([1, 2, 3].map(() => team.addShift({ userId: org.head.id, startsAt: '2026-12-03T06:00:00Z', endsAt: '2026-12-03T14:00:00Z' }, ctx)));
    expect(racers.filter((r) => r.status === 'fulfilled')).toHaveLength(1);

    const list = (from: string, to: string, userId = '', departmentId = '') => team.listShifts({ from, to, userId, departmentId }, ctx);
    expect((await list('2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z')).shifts).toHaveLength(3);
    expect((await list('2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z', org.seller.id)).shifts.map((s) => s.startsAt)).toEqual(['2026-12-01T06:00:00.000Z', '2026-12-01T14:00:00.000Z']);
    expect((await list('2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z', '', org.supportDept.id)).shifts.map((s) => s.userId)).toEqual([org.support.id]);
    await invalid(list('2026-12-01T00:00:00Z', '2027-03-01T00:00:00Z'), 'to');
    await invalid(list('', '2026-12-01T00:00:00Z'), 'from');
    await invalid(list('2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z', 'x'), 'user_id');
    const [first] = (await list('2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z', org.seller.id)).shifts;
    expect(await code(team.removeShift({ id: first.id }, serviceFor(other.tenant)))).toBe(status.NOT_FOUND);
    await team.removeShift({ id: first.id }, ctx);
    expect(await code(team.removeShift({ id: first.id }, ctx))).toBe(status.NOT_FOUND);
    const actions = (await team.listAuditEntries({ page: undefined, targetKind: 'shift', targetId: first.id, actorId: '' }, ctx)).entries.map((e) => e.action);
    expect(actions).toEqual(['shift.removed', 'shift.added']);
  });

  it('answers who is on shift and away at a given instant, and which departments are open', async () => {
    const org = await newOrg();
    const ctx = serviceFor(org.tenant);
    // Support works 15:00–20:00 UTC on Tuesday (a shift); the seller has no shift (Sales' hours apply).
    await team.addShift({ userId: org.support.id, startsAt: '2026-12-01T15:00:00Z', endsAt: '2026-12-01T20:00:00Z' }, ctx);
    await team.setSchedule({ departmentId: org.supportDept.id, schedule: { timeZone: 'UTC', hours: [{ weekday: 2, from: '00:00', to: '24:00' }], holidays: [] } }, ctx);
    await team.setAway({ userId: org.head.id, away: true, until: '2099-01-01T00:00:00Z' }, ctx);
    const roster = async (at: string) => {
      const r = await team.getRoster({ at }, ctx);
      return {
        at: r.at,
        zone: r.tenantTimeZone,
        departments: Object.fromEntries(r.departments.map((d) => [d.name, { open: d.open, heads: d.headUserIds, sla: d.slaFirstResponseMinutes }])),
        users: Object.fromEntries(r.users.map((u) => [u.displayName, { onShift: u.onShift, away: u.away, departments: u.departmentIds }])),
      };
    };
    const noon = await roster(TUE_1300_MSK);
    expect(noon).toEqual({
      at: '2026-12-01T10:00:00.000Z',
      zone: 'Europe/Moscow',
      departments: { Sales: { open: true, heads: [org.head.id], sla: 15 }, Support: { open: true, heads: [], sla: 30 } },
      users: {
        'Anna Admin': { onShift: true, away: false, departments: [] },
        'Boris Head': { onShift: true, away: true, departments: [org.sales.id] },
        'Sergey Seller': { onShift: true, away: false, departments: [org.sales.id] },
        'Olga Support': { onShift: false, away: false, departments: [org.supportDept.id] },
      },
    });
    const evening = await roster('2026-12-01T16:00:00Z'); // 19:00 in Moscow
    expect(evening.departments.Sales.open).toBe(false);
    expect(evening.users['Sergey Seller'].onShift).toBe(false);
    expect(evening.users['Olga Support'].onShift).toBe(true);
    const saturday = await roster('2026-12-05T10:00:00Z');
    expect(saturday.departments).toMatchObject({ Sales: { open: false }, Support: { open: false } });
    expect(saturday.users['Sergey Seller'].onShift).toBe(false);
    expect(saturday.users['Olga Support'].onShift).toBe(false); // no shift that day: Support's hours (closed)
    await invalid(team.getRoster({ at: 'yesterday' }, ctx), 'at');
    // Another tenant's roster is its own.
    const other = await newOrg();
    const theirs = await team.getRoster({ at: TUE_1300_MSK }, serviceFor(other.tenant));
    expect(theirs.users.map((u) => u.id)).not.toContain(org.seller.id);
  });
});

describe('team users list and audit log', () => {
  it('lists by name with filters and cursor pagination; refuses bad cursors', async () => {
    const org = await newOrg();
    const ctx = serviceFor(org.tenant);
    const all: string[] = [];
    let cursor = '';
    do {
      const res = await team.listTeamUsers({ page: { pageSize: 2, cursor }, departmentId: '', includeInactive: false, query: '' }, ctx);
      all.push(...res.users.map((u) => u.displayName));
      cursor = res.page!.nextCursor;
    } while (cursor);
    expect(all).toEqual(['Anna Admin', 'Boris Head', 'Olga Support', 'Sergey Seller']);
    const sales = await team.listTeamUsers({ page: undefined, departmentId: org.sales.id, includeInactive: false, query: '' }, ctx);
    expect(sales.users.map((u) => u.displayName)).toEqual(['Boris Head', 'Sergey Seller']);
    expect((await team.listTeamUsers({ page: undefined, departmentId: '', includeInactive: false, query: 'olg' }, ctx)).users.map((u) => u.id)).toEqual([org.support.id]);
    expect((await team.listTeamUsers({ page: undefined, departmentId: '', includeInactive: false, query: '%' }, ctx)).users).toEqual([]);
    await invalid(team.listTeamUsers({ page: { pageSize: 2, cursor: 'bogus' }, departmentId: '', includeInactive: false, query: '' }, ctx), 'page.cursor');
    await invalid(team.listTeamUsers({ page: undefined, departmentId: 'x', includeInactive: false, query: '' }, ctx), 'department_id');
    await invalid(team.listTeamUsers({ page: undefined, departmentId: '', includeInactive: false, query: 'q'.repeat(201) }, ctx), 'query');
  });

  it('pages newest first, filters by actor and target, and shows one tenant only', async () => {
    const org = await newOrg();
    const other = await newOrg();
    const ctx = serviceFor(org.tenant);
    await team.createProject({ name: 'A', code: 'a' }, userFor(org.tenant, org.admin));
    const seen: string[] = [];
    let cursor = '';
    do {
      const res = await team.listAuditEntries({ page: { pageSize: 3, cursor }, targetKind: '', targetId: '', actorId: '' }, ctx);
      seen.push(...res.entries.map((e) => e.id));
      cursor = res.page!.nextCursor;
    } while (cursor);
    const ids = seen.map(Number);
    const times = (await sql<{ id: string; at: Date }>('SELECT id::text AS id, at FROM audit_log WHERE tenant_id = ?', [org.tenant.id])).reduce(
      (m, r) => m.set(r.id, new Date(r.at).getTime()),
      new Map<string, number>(),
    );
    const order = seen.map((id) => [times.get(id)!, Number(id)] as const);
    expect([...order].sort((a, b) => b[0] - a[0] || b[1] - a[1])).toEqual(order);
    expect(new Set(ids).size).toBe(ids.length);
    const total = (await sql<{ n: number }>('SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = ?', [org.tenant.id]))[0].n;
    expect(ids).toHaveLength(total);
    const otherIds = (await sql<{ id: string }>('SELECT id::text AS id FROM audit_log WHERE tenant_id = ?', [other.tenant.id])).map((r) => r.id);
    expect(seen.some((id) => otherIds.includes(id))).toBe(false);

    const byAdmin = await team.listAuditEntries({ page: undefined, targetKind: '', targetId: '', actorId: org.admin.id }, ctx);
    expect(byAdmin.entries).toMatchObject([{ actorKind: 'user', actorId: org.admin.id, action: 'project.created', targetKind: 'project' }]);
    const depts = await team.listAuditEntries({ page: undefined, targetKind: 'department', targetId: '', actorId: '' }, ctx);
    expect(depts.entries.map((e) => e.action)).toEqual(['department.created', 'department.created']);
    await invalid(team.listAuditEntries({ page: undefined, targetKind: 'User!', targetId: '', actorId: '' }, ctx), 'target_kind');
    await invalid(team.listAuditEntries({ page: undefined, targetKind: '', targetId: org.admin.id, actorId: '' }, ctx), 'target_kind');
    await invalid(team.listAuditEntries({ page: { pageSize: 1, cursor: 'zzz' }, targetKind: '', targetId: '', actorId: '' }, ctx), 'page.cursor');
    // No secret or token ever lands in the log.
    const details = await sql<{ d: string }>('SELECT details::text AS d FROM audit_log');
    expect(details.some((r) => /password|token_hash|scrypt/i.test(r.d))).toBe(false);
  });
});

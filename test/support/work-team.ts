/**
 * People and departments for the tests of working the request (test/e2e/work, visibility): two sales
 * departments in tenant A, a seller of each, a head of each, made with identity's own API (CreateUser,
 * TeamService CreateTeamDepartment / UpdateUser), logged in over HTTP; a small REST client that speaks
 * as any of them (API key, or session cookie with the CSRF header); and an SSE reader.
 */
import { IdentityServiceService, Role } from '@crm/contracts/crm/identity/v1/identity';
import { CreateTeamDepartmentRequest, DepartmentKind, TeamServiceService } from '@crm/contracts/crm/identity/v1/team';
import { createClient } from '@crm/grpc';
import type { Platform } from './platform';

export interface Res {
  status: number;
  type: string;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON under test
  body: any;
}

/** Who calls: an API key, or a user's session cookie. */
export type As = { key: string } | { cookie: string };

export interface Person {
  id: string;
  email: string;
  as: As;
}

export interface WorkTeam {
  depA: string;
  depB: string;
  sellerA: Person;
  sellerB: Person;
  headA: Person;
  headB: Person;
  admin: Person;
  /** An API key of tenant A / B with the work scopes. */
  keyA: As;
  keyB: As;
}

export function client(base: string) {
  async function api(path: string, as: As, init: RequestInit = {}): Promise<Res> {
    const headers = new Headers(init.headers);
    if ('key' in as) headers.set('authorization', `Bearer ${as.key}`);
    else {
      headers.set('cookie', as.cookie);
      headers.set('x-crm-csrf', '1');
    }
    if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
    const res = await fetch(`${base}${path}`, { ...init, headers });
    const text = await res.text();
    const json = (res.headers.get('content-type') ?? '').includes('json');
    return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, body: text && json ? JSON.parse(text) : text };
  }
  const send = (method: string, path: string, as: As, body?: unknown, headers: Record<string, string> = {}) =>
    api(path, as, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  return { api, send };
}

async function login(base: string, slug: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${base}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: slug, email, password }) });
  if (res.status !== 200) throw new Error(`login of ${email} answered ${res.status}: ${await res.text()}`);
  return res.headers.get('set-cookie')!.split(';')[0];
}

export const WORK_SCOPES = ['requests:read', 'requests:write', 'tasks:read', 'tasks:write', 'routing:write', 'team:read'];

/** Departments A and B of tenant A, a seller and a head of each, the admin; keys of both tenants. */
export async function makeWorkTeam(platform: Platform): Promise<WorkTeam> {
  const identity = createClient(IdentityServiceService, { address: platform.identityAddr });
  const team = createClient(TeamServiceService, { address: platform.identityAddr });
  const t = platform.tenants.a;
  const ctx = { tenantId: t.id, callerId: 'e2e', callerKind: 'service' as const };
  try {
    const suffix = Math.random().toString(36).slice(2, 8);
    const dep = async (name: string) =>
      (await team.createTeamDepartment(CreateTeamDepartmentRequest.fromPartial({ name: `${name} ${suffix}`, kind: DepartmentKind.DEPARTMENT_KIND_SALES, slaFirstResponseMinutes: 0 }), ctx)).department!.id;
    const depA = await dep('Продажи A');
    const depB = await dep('Продажи B');
    const password = 'work test password';
    const person = async (name: string, role: Role, departmentId: string, heads: boolean): Promise<Person> => {
      const email = `${name}.${suffix}@a.test`;
      const user = (await identity.createUser({ email, displayName: name, password, roles: [role], departmentId }, ctx)).user!;
      await team.updateUser({ id: user.id, roles: [], updateRoles: false, departmentIds: [departmentId], updateDepartmentIds: true, headedDepartmentIds: heads ? [departmentId] : [], updateHeadedDepartmentIds: heads }, ctx);
      return { id: user.id, email, as: { cookie: await login(platform.base, t.slug, email, password) } };
    };
    const sellerA = await person('seller-a', Role.ROLE_SELLER, depA, false);
    const sellerB = await person('seller-b', Role.ROLE_SELLER, depB, false);
    const headA = await person('head-a', Role.ROLE_HEAD_OF_SALES, depA, true);
    const headB = await person('head-b', Role.ROLE_HEAD_OF_SALES, depB, true);
    const adminUser = (await identity.listUsers({ page: { pageSize: 100, cursor: '' } }, ctx)).users.find((u) => u.email === t.adminEmail)!;
    const admin = { id: adminUser.id, email: t.adminEmail, as: { cookie: await login(platform.base, t.slug, t.adminEmail, t.adminPassword) } };
    const keyA = { key: (await identity.createApiKey({ name: 'work', scopes: WORK_SCOPES }, ctx)).secret };
    const keyB = { key: (await identity.createApiKey({ name: 'work', scopes: WORK_SCOPES }, { ...ctx, tenantId: platform.tenants.b.id })).secret };
    return { depA, depB, sellerA, sellerB, headA, headB, admin, keyA, keyB };
  } finally {
    identity.close();
    team.close();
  }
}

export interface SseEvent {
  event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON under test
  data: any;
}

/** Opens `GET /v1/requests/stream` as someone and collects its events until closed. */
export async function openStream(base: string, as: As): Promise<{ events: SseEvent[]; close: () => void }> {
  const ctrl = new AbortController();
  const headers: Record<string, string> = 'key' in as ? { authorization: `Bearer ${as.key}` } : { cookie: as.cookie };
  const res = await fetch(`${base}/v1/requests/stream`, { headers, signal: ctrl.signal });
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) throw new Error(`the stream answered ${res.status}`);
  const events: SseEvent[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += decoder.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const lines = buf.slice(0, i).split('\n');
          buf = buf.slice(i + 2);
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
          const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted
    }
  })();
  return { events, close: () => ctrl.abort() };
}

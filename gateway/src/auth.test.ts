/**
 * The Authenticator's cache and revocations (issue 16 §2): a revoked session or subject is asked of
 * identity again at once; a revocation that arrives while identity is being asked keeps that answer out
 * of the cache; the other sessions of the user stay cached; listeners hear of every revocation.
 * identity is a counting stand-in here (the real path is test/e2e/sessions.integration.test.ts).
 */
import { SubjectKind, type Principal } from '@crm/contracts/crm/identity/v1/identity';
import type { FastifyRequest } from 'fastify';
import { Authenticator, SESSION_COOKIE, type Revocation } from './auth';
import type { Clients } from './clients';

const USER = '01936f5e-1234-7abc-8def-0123456789ab';
const OTHER = '01936f5e-1234-7abc-8def-0123456789ac';

function principal(sessionId: string, subjectId = USER): Principal {
  return {
    tenantId: '01936f5e-0000-7abc-8def-0123456789ab',
    tenantSlug: 't',
    tenantLocale: 'en',
    subjectKind: SubjectKind.SUBJECT_KIND_USER,
    subjectId,
    displayName: 'U',
    email: 'u@example.com',
    roles: [],
    scopes: [],
    tenantTimeZone: 'UTC',
    departmentIds: [],
    headedDepartmentIds: [],
    sessionId,
  };
}

/** identity answering each token with its session (token `s1` → session `s1…`), counting the calls; `hold` delays the answers. */
function identityStub(opts: { hold?: Promise<void> } = {}) {
  const calls: string[] = [];
  const sessions: Record<string, Principal> = {
    t1: principal('0193a4b2-0000-7000-8000-000000000001'),
    t2: principal('0193a4b2-0000-7000-8000-000000000002'),
    t3: principal('0193a4b2-0000-7000-8000-000000000003', OTHER),
  };
  const clients = {
    identity: {
      authenticate: async (req: { credential?: { $case: string; value: string } }) => {
        const token = req.credential!.value;
        calls.push(token);
        await opts.hold;
        return { principal: sessions[token] };
      },
    },
  } as unknown as Clients;
  return { clients, calls, sessions };
}

const req = (token: string) => ({ headers: { cookie: `${SESSION_COOKIE}=${token}` } }) as unknown as FastifyRequest;

describe('Authenticator', () => {
  it('caches, and forgets a session by id or a subject at once (the user’s other sessions stay cached)', async () => {
    const { clients, calls, sessions } = identityStub();
    const auth = new Authenticator(clients, 60_000);
    for (const t of ['t1', 't2', 't3', 't1', 't2', 't3']) await auth.authenticate(req(t));
    expect(calls).toEqual(['t1', 't2', 't3']);

    auth.revoked({ subjectId: USER, sessionIds: [sessions.t1.sessionId.toUpperCase()] });
    for (const t of ['t1', 't2', 't3']) await auth.authenticate(req(t));
    expect(calls.slice(3)).toEqual(['t1']);

    auth.revoked({ subjectId: USER });
    for (const t of ['t1', 't2', 't3']) await auth.authenticate(req(t));
    expect(calls.slice(4)).toEqual(['t1', 't2']);

    auth.forgetSubject(USER, sessions.t2.sessionId);
    for (const t of ['t1', 't2', 't3']) await auth.authenticate(req(t));
    expect(calls.slice(6)).toEqual(['t1']);
  });

  it('does not cache an answer identity gave while a revocation arrived', async () => {
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const { clients, calls } = identityStub({ hold });
    const auth = new Authenticator(clients, 60_000);
    const pending = auth.authenticate(req('t1'));
    auth.revoked({ subjectId: USER });
    release();
    await pending;
    await auth.authenticate(req('t1'));
    expect(calls).toEqual(['t1', 't1']);
  });

  it('tells listeners, and says which callers a revocation concerns', async () => {
    const { clients, sessions } = identityStub();
    const auth = new Authenticator(clients, 60_000);
    const heard: Revocation[] = [];
    const stop = auth.onRevoked((r) => heard.push(r));
    const one = await auth.authenticate(req('t1'));
    const two = await auth.authenticate(req('t2'));
    const other = await auth.authenticate(req('t3'));

    auth.forgetSessionId(sessions.t1.sessionId);
    expect(heard).toHaveLength(1);
    expect([one, two, other].map((c) => Authenticator.concerns(heard[0], c))).toEqual([true, false, false]);
    const all: Revocation = { subjectId: USER };
    expect([one, two, other].map((c) => Authenticator.concerns(all, c))).toEqual([true, true, false]);
    expect([one, two].map((c) => Authenticator.concerns({ subjectId: USER, exceptSessionId: sessions.t2.sessionId }, c))).toEqual([true, false]);

    stop();
    auth.revoked(all);
    expect(heard).toHaveLength(1);
  });
});

import { Role, SubjectKind, type Principal } from '@crm/contracts/crm/identity/v1/identity';
import { DomainError } from '@crm/errors';
import type { CallerRole, TenantContext } from '@crm/grpc';
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Clients } from './clients';
import { readCookie } from './cookies';

export const SESSION_COOKIE = 'crm_session';
/** Cookie-authenticated unsafe requests must carry this header (a cross-site form cannot set it). */
export const CSRF_HEADER = 'x-crm-csrf';

/** The calls the gateway makes before it knows the tenant (identity ignores the tenant of these). */
export const PLATFORM: TenantContext = { tenantId: 'platform', callerId: 'gateway', callerKind: 'service' };

export type Scope =
  | 'requests:read'
  | 'requests:write'
  | 'reports:read'
  | 'contacts:read'
  | 'contacts:write'
  | 'team:read'
  | 'tasks:read'
  | 'tasks:write'
  | 'routing:write'
  | 'identity:admin'
  | 'deals:read'
  | 'deals:write'
  | 'calls:read'
  | 'calls:write'
  | 'telephony:admin'
  | 'pipelines:write';

const ROLE_SCOPES: Record<number, Scope[]> = {
  [Role.ROLE_ADMIN]: ['requests:read', 'requests:write', 'reports:read', 'contacts:read', 'contacts:write', 'team:read', 'tasks:read', 'tasks:write', 'routing:write', 'identity:admin', 'deals:read', 'deals:write', 'pipelines:write', 'calls:read', 'calls:write', 'telephony:admin'],
  [Role.ROLE_HEAD_OF_SALES]: ['requests:read', 'requests:write', 'reports:read', 'contacts:read', 'contacts:write', 'team:read', 'tasks:read', 'tasks:write', 'routing:write', 'deals:read', 'deals:write', 'pipelines:write', 'calls:read', 'calls:write', 'telephony:admin'],
  [Role.ROLE_SELLER]: ['requests:read', 'requests:write', 'contacts:read', 'contacts:write', 'team:read', 'tasks:read', 'tasks:write', 'deals:read', 'deals:write', 'calls:read', 'calls:write'],
  [Role.ROLE_ANALYST]: ['requests:read', 'reports:read', 'contacts:read', 'team:read', 'deals:read', 'calls:read'],
};

export interface Caller {
  principal: Principal;
  via: 'api_key' | 'session';
  scopes: Set<string>;
  tenant: TenantContext;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

/** Credentials that stopped being valid (SessionsEnded from identity, or an ending on this replica). */
export interface Revocation {
  subjectId: string;
  /** These sessions; absent: every credential of the subject. */
  sessionIds?: string[];
  /** With no sessionIds: all of the subject's but this session. */
  exceptSessionId?: string;
}

export type RevocationListener = (r: Revocation) => void;

/**
 * Authenticates `Authorization: Bearer <api key>` or the session cookie with identity, caching the
 * answer for a short time (AUTH_CACHE_TTL_MS) keyed by a hash of the credential, never the credential.
 */
export class Authenticator {
  private readonly cache = new Map<string, { caller: Caller; until: number }>();
  /** Bumped by every revocation: an answer identity gave while one arrived is not cached. */
  private epoch = 0;
  private readonly listeners = new Set<RevocationListener>();

  constructor(
    private readonly clients: Clients,
    private readonly ttlMs: number,
  ) {}

  async authenticate(req: FastifyRequest): Promise<Caller> {
    const header = req.headers.authorization;
    let credential: { apiKey: string } | { sessionToken: string };
    let via: Caller['via'];
    if (header !== undefined) {
      const m = /^Bearer\s+(\S{8,512})$/i.exec(header);
      if (!m) throw new DomainError('UNAUTHENTICATED', 'use Authorization: Bearer <api key>');
      credential = { apiKey: m[1] };
      via = 'api_key';
    } else {
      const token = readCookie(req.headers.cookie, SESSION_COOKIE);
      if (!token) throw new DomainError('UNAUTHENTICATED', 'authentication required: an API key (Authorization: Bearer) or a session');
      credential = { sessionToken: token };
      via = 'session';
    }
    const key = createHash('sha256').update(JSON.stringify(credential)).digest('base64url');
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.caller;

    const epoch = this.epoch;
    const res = await this.clients.identity.authenticate(
      { credential: 'apiKey' in credential ? { $case: 'apiKey', value: credential.apiKey } : { $case: 'sessionToken', value: credential.sessionToken } },
      PLATFORM,
    );
    const caller = toCaller(res.principal!, via);
    if (this.ttlMs > 0 && epoch === this.epoch) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(key, { caller, until: Date.now() + this.ttlMs });
    }
    return caller;
  }

  /** Forgets a credential at once (logout on this replica). */
  forgetSession(token: string): void {
    this.epoch++;
    this.cache.delete(createHash('sha256').update(JSON.stringify({ sessionToken: token })).digest('base64url'));
  }

  /**
   * Forgets every cached credential of a user or API key at once (deactivated, revoked, roles changed: this
   * replica), but the session `exceptSessionId` when given.
   */
  forgetSubject(subjectId: string, exceptSessionId?: string): void {
    this.epoch++;
    for (const [key, hit] of this.cache) {
      if (hit.caller.principal.subjectId === subjectId && (!exceptSessionId || hit.caller.principal.sessionId !== exceptSessionId)) this.cache.delete(key);
    }
  }

  /** Forgets a session by its id (a session ended elsewhere: the token is not known here). */
  forgetSessionId(sessionId: string): void {
    this.revoked({ subjectId: '', sessionIds: [sessionId] });
  }

  /**
   * Credentials ended (SessionsEnded from identity, revocations.ts): forgets them and tells the listeners
   * (the live streams of those sessions close).
   */
  revoked(r: Revocation): void {
    this.epoch++;
    const ids = r.sessionIds?.length ? new Set(r.sessionIds.map((id) => id.toLowerCase())) : undefined;
    for (const [key, hit] of this.cache) {
      const p = hit.caller.principal;
      const match = ids ? ids.has(p.sessionId.toLowerCase()) : p.subjectId === r.subjectId && (!r.exceptSessionId || p.sessionId !== r.exceptSessionId);
      if (match) this.cache.delete(key);
    }
    for (const listener of this.listeners) listener(ids ? { ...r, sessionIds: [...ids] } : r);
  }

  /** Calls `listener` on every revocation; answers the unsubscribe. */
  onRevoked(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether a revocation concerns the credential of `caller`. */
  static concerns(r: Revocation, caller: Caller): boolean {
    const p = caller.principal;
    if (r.sessionIds?.length) return p.sessionId !== '' && r.sessionIds.includes(p.sessionId.toLowerCase());
    return p.subjectId === r.subjectId && (!r.exceptSessionId || p.sessionId !== r.exceptSessionId);
  }
}

/** What the gateway knows about whoever makes a call, from identity's principal. */
export function toCaller(principal: Principal, via: Caller['via']): Caller {
  const isKey = principal.subjectKind === SubjectKind.SUBJECT_KIND_API_KEY;
  return {
    principal,
    via,
    scopes: new Set<string>(isKey ? principal.scopes : principal.roles.flatMap((r) => ROLE_SCOPES[r] ?? [])),
    tenant: isKey
      ? { tenantId: principal.tenantId, callerId: principal.subjectId, callerKind: 'api_key' }
      : {
          tenantId: principal.tenantId,
          callerId: principal.subjectId,
          callerKind: 'user',
          // Who-sees-what is enforced by the owning services from these (libs/grpc visibilityOf).
          roles: principal.roles.map((r) => ROLE_NAME[r]).filter((r): r is CallerRole => r !== undefined),
          departmentIds: principal.departmentIds,
          headedDepartmentIds: principal.headedDepartmentIds,
        },
  };
}

const ROLE_NAME: Record<number, CallerRole | undefined> = {
  [Role.ROLE_ADMIN]: 'admin',
  [Role.ROLE_HEAD_OF_SALES]: 'head_of_sales',
  [Role.ROLE_SELLER]: 'seller',
  [Role.ROLE_ANALYST]: 'analyst',
};

export function requireScope(caller: Caller, scope: Scope): void {
  if (!caller.scopes.has(scope)) throw new DomainError('PERMISSION_DENIED', `this credential lacks the scope ${scope}`);
}

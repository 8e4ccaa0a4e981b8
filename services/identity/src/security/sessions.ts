/**
 * Sessions people can manage (issue 16 §2): opening (where from), idle and absolute timeouts, listing,
 * ending one / all / all but the current, ending a user's sessions (admin, deactivation, 2FA reset), and
 * SessionsEnded on crm.identity.session.v1 so every gateway replica forgets them at once.
 * OWNER: helper "sessions".
 */
import type { SessionInfo } from '@crm/contracts/crm/identity/v1/security';
import { uuidv7, type EntityManager } from '@crm/db';
import type { Actor } from '../audit';
import { SessionSchema } from '../db/entities/session.entity';
import { generateSessionToken, sha256 } from '../domain/secrets';
import type { SecurityContext } from './context';

export interface OpenSession {
  tenantId: string;
  userId: string;
  address: string;
  userAgent: string;
  secondFactor: boolean;
}

export class Sessions {
  constructor(private readonly ctx: SecurityContext) {}

  /** Adds a new session (a new random token: never one the client chose) to `em`'s unit of work. */
  open(em: EntityManager, s: OpenSession): { token: string; expiresAt: Date; sessionId: string } {
    const token = generateSessionToken();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.ctx.env.SESSION_ABSOLUTE_HOURS * 3_600_000);
    const sessionId = uuidv7();
    em.create(SessionSchema, { id: sessionId, tenantId: s.tenantId, userId: s.userId, tokenHash: sha256(token), createdAt: now, expiresAt });
    return { token, expiresAt, sessionId };
  }

  async listOwn(tenantId: string, userId: string, currentSessionId: string): Promise<SessionInfo[]> {
    void tenantId;
    void userId;
    void currentSessionId;
    throw new Error('ListOwnSessions is not built yet');
  }

  async endOwn(tenantId: string, userId: string, sessionId: string): Promise<number> {
    void tenantId;
    void userId;
    void sessionId;
    throw new Error('EndOwnSession is not built yet');
  }

  async endOwnAll(tenantId: string, userId: string, keepSessionId: string | undefined): Promise<number> {
    void tenantId;
    void userId;
    void keepSessionId;
    throw new Error('EndOwnSessions is not built yet');
  }

  async listUser(tenantId: string, userId: string): Promise<SessionInfo[]> {
    void tenantId;
    void userId;
    throw new Error('ListUserSessions is not built yet');
  }

  /** Ends every session of a user in `em`'s transaction (with the event); answers how many. */
  async endAllOfUser(em: EntityManager, tenantId: string, userId: string, actor: Actor, reason: string): Promise<number> {
    void em;
    void tenantId;
    void userId;
    void actor;
    void reason;
    throw new Error('ending sessions is not built yet');
  }
}

/**
 * Sessions people can manage (issue 16 §2): opening (where from), idle and absolute timeouts, listing,
 * ending one / all / all but the current, ending a user's sessions (admin, deactivation, 2FA reset), and
 * SessionsEnded on crm.identity.session.v1 so every gateway replica forgets them at once.
 */
import { SessionsEnded } from '@crm/contracts/crm/identity/events/v1/session_events';
import type { SessionInfo } from '@crm/contracts/crm/identity/v1/security';
import { isUuid, uuidv7, type EntityManager } from '@crm/db';
import { DomainError, NotFoundError } from '@crm/errors';
import { enqueueEvent } from '@crm/kafka';
import { audit, type Actor } from '../audit';
import { SessionSchema } from '../db/entities/session.entity';
import { generateSessionToken, sha256 } from '../domain/secrets';
import type { SecurityContext } from './context';

/** proto/topics/crm.identity.session.v1.yaml (the relay appends the deployment's TOPIC_SUFFIX). */
export const SESSION_TOPIC = 'crm.identity.session.v1';
export const SESSIONS_ENDED = 'crm.identity.session.ended.v1';
const EVENT_SOURCE = 'crm/identity';

/** The most sessions a list answers (newest first). */
export const SESSIONS_LIST_MAX = 100;

/** Why sessions ended (SessionsEnded.reason, sessions.ended_reason). */
export type EndReason = 'logout' | 'ended_by_user' | 'ended_by_admin' | 'deactivated' | 'second_factor_reset';

export interface OpenSession {
  tenantId: string;
  userId: string;
  address: string;
  userAgent: string;
  secondFactor: boolean;
}

interface SessionRow {
  id: string;
  user_id: string;
  created_at: Date | string;
  last_seen_at: Date | string;
  expires_at: Date | string;
  idle_expires_at: Date | string;
  address: string;
  user_agent: string;
  second_factor: boolean;
}

/** Which of a user's open sessions to end. */
interface Selection {
  tenantId: string;
  userId: string;
  /** Only these (absent: all of the user's). */
  ids?: string[];
  /** All but this one. */
  exceptId?: string;
}

const iso = (v: Date | string) => new Date(v).toISOString();

function badId(field: string): DomainError {
  return new DomainError('INVALID_ARGUMENT', `${field} must be a session id (UUID)`, { violations: [{ field, message: 'must be a UUID' }] });
}

export class Sessions {
  constructor(private readonly ctx: SecurityContext) {}

  private get idleMinutes(): number {
    return this.ctx.env.SESSION_IDLE_MINUTES;
  }

  /** Adds a new session (a new random token: never one the client chose) to `em`'s unit of work. */
  open(em: EntityManager, s: OpenSession): { token: string; expiresAt: Date; sessionId: string } {
    const token = generateSessionToken();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.ctx.env.SESSION_ABSOLUTE_HOURS * 3_600_000);
    const sessionId = uuidv7();
    em.create(SessionSchema, {
      id: sessionId,
      tenantId: s.tenantId,
      userId: s.userId,
      tokenHash: sha256(token),
      createdAt: now,
      expiresAt,
      lastSeenAt: now,
      address: s.address.slice(0, 64),
      userAgent: s.userAgent.slice(0, 512),
      secondFactor: s.secondFactor,
    });
    return { token, expiresAt, sessionId };
  }

  /**
   * The one way a session ends: marks the selected open sessions ended (revoked_at, ended_reason), audits
   * it and enqueues SessionsEnded, all in `em`'s transaction. Answers the ids it ended. With `allOfUser`
   * the event is sent even when nothing was open (the gateways then drop whatever they hold of the user).
   */
  async ended(em: EntityManager, sel: Selection, actor: Actor, reason: EndReason, allOfUser = false): Promise<string[]> {
    const where = ['tenant_id = ?', 'user_id = ?', 'revoked_at IS NULL', 'expires_at > now()'];
    const params: unknown[] = [reason, sel.tenantId, sel.userId];
    if (sel.ids) {
      if (!sel.ids.length) return [];
      where.push(`id IN (${sel.ids.map(() => '?').join(', ')})`);
      params.push(...sel.ids);
    }
    if (sel.exceptId) {
      where.push('id <> ?');
      params.push(sel.exceptId);
    }
    const rows = await em.execute<{ id: string }[]>(`UPDATE sessions SET revoked_at = now(), ended_reason = ? WHERE ${where.join(' AND ')} RETURNING id`, params);
    const ids = rows.map((r) => r.id).sort();
    if (!ids.length && !allOfUser) return ids;
    if (ids.length) audit(em, sel.tenantId, actor, 'sessions.ended', `user:${sel.userId}`, { reason, sessionIds: ids, count: ids.length });
    enqueueEvent(em, {
      topic: SESSION_TOPIC,
      type: SESSIONS_ENDED,
      codec: SessionsEnded,
      payload: { tenantId: sel.tenantId, userId: sel.userId, sessionIds: allOfUser ? [] : ids, allOfUser, reason, at: new Date().toISOString() },
      subject: sel.userId,
      tenantId: sel.tenantId,
      source: EVENT_SOURCE,
    });
    return ids;
  }

  /** Open sessions only (not ended, not past the absolute or the idle end), newest first. */
  private async list(tenantId: string, userId: string, currentSessionId: string): Promise<SessionInfo[]> {
    const rows = await this.ctx.orm.em.getConnection().execute<SessionRow[]>(
      `SELECT id, user_id, created_at, last_seen_at, expires_at, address, user_agent, second_factor,
              LEAST(expires_at, last_seen_at + make_interval(mins => ?)) AS idle_expires_at
         FROM sessions
        WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > now()
          AND last_seen_at > now() - make_interval(mins => ?)
        ORDER BY created_at DESC, id DESC
        LIMIT ${SESSIONS_LIST_MAX}`,
      [this.idleMinutes, tenantId, userId, this.idleMinutes],
    );
    return rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      createdAt: iso(r.created_at),
      lastSeenAt: iso(r.last_seen_at),
      expiresAt: iso(r.expires_at),
      idleExpiresAt: iso(r.idle_expires_at),
      address: r.address,
      userAgent: r.user_agent,
      secondFactor: r.second_factor,
      current: r.id === currentSessionId,
    }));
  }

  async listOwn(tenantId: string, userId: string, currentSessionId: string): Promise<SessionInfo[]> {
    return this.list(tenantId, userId, isUuid(currentSessionId) ? currentSessionId : '');
  }

  /** Ends one of the caller's sessions; another user's (or tenant's) id is NOT_FOUND; an ended one answers 0. */
  async endOwn(tenantId: string, userId: string, sessionId: string): Promise<number> {
    if (!isUuid(sessionId)) throw badId('id');
    const actor: Actor = { kind: 'user', id: userId };
    return this.ctx.orm.em.fork().transactional(async (em) => {
      const ids = await this.ended(em, { tenantId, userId, ids: [sessionId] }, actor, 'ended_by_user');
      if (ids.length) return ids.length;
      const mine = await em.execute<{ id: string }[]>('SELECT id FROM sessions WHERE tenant_id = ? AND user_id = ? AND id = ?', [tenantId, userId, sessionId]);
      if (!mine.length) throw new NotFoundError('session', sessionId);
      return 0;
    });
  }

  /** Ends all of the caller's sessions, or (keepSessionId) all but that one. */
  async endOwnAll(tenantId: string, userId: string, keepSessionId: string | undefined): Promise<number> {
    if (keepSessionId !== undefined && !isUuid(keepSessionId)) throw badId('current_session_id');
    const actor: Actor = { kind: 'user', id: userId };
    return this.ctx.orm.em.fork().transactional(async (em) => {
      const sel: Selection = keepSessionId === undefined ? { tenantId, userId } : { tenantId, userId, exceptId: keepSessionId };
      return (await this.ended(em, sel, actor, 'ended_by_user', keepSessionId === undefined)).length;
    });
  }

  async listUser(tenantId: string, userId: string): Promise<SessionInfo[]> {
    await this.requireUser(this.ctx.orm.em.fork(), tenantId, userId);
    return this.list(tenantId, userId, '');
  }

  /** Ends every session of a user in `em`'s transaction (with the event); answers how many. NOT_FOUND for a user not of the tenant. */
  async endAllOfUser(em: EntityManager, tenantId: string, userId: string, actor: Actor, reason: EndReason): Promise<number> {
    await this.requireUser(em, tenantId, userId);
    return (await this.ended(em, { tenantId, userId }, actor, reason, true)).length;
  }

  /** Logout: ends the session of this token (idempotent: an unknown or ended one is nothing to do). */
  async endByToken(token: string): Promise<void> {
    await this.ctx.orm.em.fork().transactional(async (em) => {
      const rows = await em.execute<{ id: string; tenant_id: string; user_id: string }[]>(
        'SELECT id, tenant_id, user_id FROM sessions WHERE token_hash = ? AND revoked_at IS NULL',
        [sha256(token)],
      );
      const s = rows[0];
      if (s) await this.ended(em, { tenantId: s.tenant_id, userId: s.user_id, ids: [s.id] }, { kind: 'user', id: s.user_id }, 'logout');
    });
  }

  private async requireUser(em: EntityManager, tenantId: string, userId: string): Promise<void> {
    if (!isUuid(userId)) throw new DomainError('INVALID_ARGUMENT', 'user_id must be a UUID', { violations: [{ field: 'user_id', message: 'must be a UUID' }] });
    if (!isUuid(tenantId)) throw new NotFoundError('user', userId);
    const rows = await em.execute<{ id: string }[]>('SELECT id FROM users WHERE tenant_id = ? AND id = ?', [tenantId, userId]);
    if (!rows.length) throw new NotFoundError('user', userId);
  }
}

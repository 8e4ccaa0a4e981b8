/**
 * Dynamic number insertion: a site's visitor session borrows one advertising number of a pool while its
 * page is open (heartbeats), so a call to that number says which visit (UTM tags, landing page) it came
 * from. Every use case takes `now` explicitly: the gRPC server passes the clock, the DNI test a simulated
 * time line.
 *
 * Lending, in one transaction per call:
 * 1. the session is serialised (a transaction advisory lock on pool + session), so one session never
 *    takes two numbers;
 * 2. the session's visit whose lease still holds the number keeps it (extended); one whose lease lapsed
 *    while nobody else took the number gets it back (the same visit, extended);
 * 3. otherwise the free pool number (no live lease) whose lease ended longest ago (never-lent first) is
 *    taken with `FOR UPDATE SKIP LOCKED`: concurrent lends lock different lease rows, so no number is
 *    ever held by two live sessions;
 * 4. none free: the fallback number (a fallback visit is recorded once per session while it lasts,
 *    counted as a fallback show).
 * A lease lasts the pool's quiet period after the last lend or heartbeat.
 */
import type { HeartbeatRequest, LendNumberRequest, LendNumberResponse } from '@crm/contracts/crm/telephony/v1/telephony';
import { uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError, ValidationError } from '@crm/errors';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { LANDING_MAX, SESSION_RE, textArg, UTM_MAX, Violations } from '../numbers/args';

interface PoolRow {
  id: string;
  tenant_id: string;
  quiet_seconds: number;
  fallback_phone: string;
  allowed_origins: string[];
}

interface VisitRow {
  id: string;
  number_id: string | null;
  fallback: boolean;
  lease_until: Date;
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  utm_content: string;
  utm_term: string;
  landing_page: string;
  referrer: string;
}

export interface VisitInput {
  utmSource: string;
  utmMedium: string;
  utmCampaign: string;
  utmContent: string;
  utmTerm: string;
  landingPage: string;
  referrer: string;
}

/** How often the script heartbeats: a third of the quiet period (two can be lost), at least 10 s. */
export const heartbeatSeconds = (quietSeconds: number): number => Math.max(10, Math.floor(quietSeconds / 3));

/** The national display form of an E.164 phone (`8 (999) 123-45-67`), the E.164 itself when unknown. */
export function displayOf(phone: string): string {
  return parsePhoneNumberFromString(phone)?.formatNational() ?? phone;
}

const PUBLIC_ID_RE = /^[A-Za-z0-9_-]{8,64}$/;

function sessionArg(raw: string): string {
  if (!SESSION_RE.test(raw)) throw new ValidationError('session_id must be 8..128 of [A-Za-z0-9_-]', [{ field: 'session_id', message: 'must be 8..128 of [A-Za-z0-9_-]' }]);
  return raw;
}

function visitArg(req: LendNumberRequest): VisitInput {
  const v = new Violations();
  const out: VisitInput = {
    utmSource: textArg(v, 'utm_source', req.utmSource, UTM_MAX),
    utmMedium: textArg(v, 'utm_medium', req.utmMedium, UTM_MAX),
    utmCampaign: textArg(v, 'utm_campaign', req.utmCampaign, UTM_MAX),
    utmContent: textArg(v, 'utm_content', req.utmContent, UTM_MAX),
    utmTerm: textArg(v, 'utm_term', req.utmTerm, UTM_MAX),
    landingPage: textArg(v, 'landing_page', req.landingPage, LANDING_MAX),
    referrer: textArg(v, 'referrer', req.referrer, LANDING_MAX),
  };
  v.throwIfAny('the visit is invalid');
  return out;
}

const EMPTY_VISIT: VisitInput = { utmSource: '', utmMedium: '', utmCampaign: '', utmContent: '', utmTerm: '', landingPage: '', referrer: '' };

export class DniService {
  constructor(private readonly orm: MikroORM) {}

  /** The pool a public id names (not archived), else NOT_FOUND. */
  /** The pool a public id names (not archived), else NOT_FOUND; with `session`, that session is locked for the transaction. */
  async poolOf(em: EntityManager, publicId: string, session?: string): Promise<PoolRow> {
    const lock = session === undefined ? '' : ", pg_advisory_xact_lock(hashtextextended('dni:' || id::text || ':' || ?, 0)) AS locked";
    const [p] = PUBLIC_ID_RE.test(publicId)
      ? await em.execute<PoolRow[]>(`SELECT id, tenant_id, quiet_seconds, fallback_phone, allowed_origins${lock} FROM pools WHERE public_id = ? AND NOT archived`, session === undefined ? [publicId] : [session, publicId])
      : [];
    if (!p) throw new NotFoundError('pool', publicId);
    return p;
  }

  lend(req: LendNumberRequest, now: Date = new Date()): Promise<LendNumberResponse> {
    const session = sessionArg(req.sessionId);
    const visit = visitArg(req);
    return this.orm.em.fork().transactional((em) => this.lendIn(em, req.poolPublicId, req.origin, session, visit, now));
  }

  /** Keeps the session's number; a lapsed lease lends again (the session's last visit's tags kept). */
  heartbeat(req: HeartbeatRequest, now: Date = new Date()): Promise<LendNumberResponse> {
    const session = sessionArg(req.sessionId);
    return this.orm.em.fork().transactional((em) => this.lendIn(em, req.poolPublicId, req.origin, session, undefined, now));
  }

  private async lendIn(em: EntityManager, publicId: string, origin: string, session: string, input: VisitInput | undefined, now: Date): Promise<LendNumberResponse> {
    const pool = await this.poolOf(em, publicId, session);
    checkOrigin(pool, origin);
    const until = new Date(now.getTime() + pool.quiet_seconds * 1000);
    const answer = (phone: string, fallback: boolean): LendNumberResponse => ({
      phone,
      display: phone ? displayOf(phone) : '',
      fallback,
      leaseExpiresAt: until.toISOString(),
      heartbeatSeconds: heartbeatSeconds(pool.quiet_seconds),
    });

    // The session's latest visit: still holding its number (or holding it again, nobody took it since).
    const [last] = await em.execute<VisitRow[]>('SELECT * FROM dni_visits WHERE pool_id = ? AND session_id = ? ORDER BY lent_at DESC, id DESC LIMIT 1', [pool.id, session]);
    if (last?.number_id) {
      // The UPDATE waits for a concurrent lend that locked the row and then re-checks visit_id: a number
      // another session took in the meantime is not extended.
      const [held] = await em.execute<{ phone: string }[]>(
        `UPDATE dni_leases l SET lease_until = ? FROM numbers n
         WHERE l.number_id = ? AND l.visit_id = ? AND l.pool_id = ? AND n.id = l.number_id AND n.pool_id = l.pool_id AND NOT n.archived RETURNING n.phone`,
        [until, last.number_id, last.id, pool.id],
      );
      if (held) {
        await em.execute('UPDATE dni_visits SET last_seen_at = ?, lease_until = ? WHERE id = ?', [now, until, last.id]);
        return answer(held.phone, false);
      }
    }
    const visit = input ?? (last ? visitOfRow(last) : EMPTY_VISIT);

    const [free] = await em.execute<{ number_id: string; visit_id: string | null; lease_until: Date | null; phone: string }[]>(
      `SELECT l.number_id, l.visit_id, l.lease_until, n.phone FROM dni_leases l JOIN numbers n ON n.id = l.number_id
       WHERE l.pool_id = ? AND n.pool_id = l.pool_id AND NOT n.archived AND (l.lease_until IS NULL OR l.lease_until <= ?)
       ORDER BY l.lease_until ASC NULLS FIRST, l.number_id LIMIT 1
       FOR UPDATE OF l SKIP LOCKED`,
      [pool.id, now],
    );
    if (free) {
      const id = uuidv7();
      await insertVisit(em, id, pool, session, free.number_id, visit, now, until);
      await em.execute(
        `WITH released AS (UPDATE dni_visits SET released_at = ? WHERE id = ? AND released_at IS NULL)
         UPDATE dni_leases SET visit_id = ?, lease_until = ? WHERE number_id = ?`,
        [free.lease_until, free.visit_id, id, until, free.number_id],
      );
      return answer(free.phone, false);
    }

    // Exhausted: the fallback, shown once per session while it keeps coming back within the quiet period.
    if (last?.fallback && new Date(last.lease_until).getTime() >= now.getTime()) {
      await em.execute('UPDATE dni_visits SET last_seen_at = ?, lease_until = ? WHERE id = ?', [now, until, last.id]);
    } else {
      await insertVisit(em, uuidv7(), pool, session, null, visit, now, until);
    }
    return answer(pool.fallback_phone, true);
  }
}

/** A pool with allowed origins answers only the browsers of those sites (the Origin header). */
export function checkOrigin(pool: { allowed_origins: string[] }, origin: string): void {
  const allowed = pool.allowed_origins ?? [];
  if (!allowed.length) return;
  if (!allowed.includes((origin ?? '').trim().toLowerCase())) {
    throw new DomainError('PERMISSION_DENIED', 'this site is not among the pool\'s allowed origins', { details: { reason: 'origin_not_allowed' } });
  }
}

function visitOfRow(r: VisitRow): VisitInput {
  return {
    utmSource: r.utm_source,
    utmMedium: r.utm_medium,
    utmCampaign: r.utm_campaign,
    utmContent: r.utm_content,
    utmTerm: r.utm_term,
    landingPage: r.landing_page,
    referrer: r.referrer,
  };
}

async function insertVisit(em: EntityManager, id: string, pool: PoolRow, session: string, numberId: string | null, v: VisitInput, now: Date, until: Date): Promise<void> {
  await em.execute(
    `INSERT INTO dni_visits (id, tenant_id, pool_id, session_id, number_id, fallback, utm_source, utm_medium, utm_campaign, utm_content, utm_term, landing_page, referrer, lent_at, last_seen_at, lease_until)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [id, pool.tenant_id, pool.id, session, numberId, numberId === null, v.utmSource, v.utmMedium, v.utmCampaign, v.utmContent, v.utmTerm, v.landingPage, v.referrer, now, now, until],
  );
}

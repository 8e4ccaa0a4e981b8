import { normalisePhone } from '@crm/contact-points';
import type { RosterUser } from '@crm/contracts/crm/identity/v1/team';
import { TeamServiceService } from '@crm/contracts/crm/identity/v1/team';
import { Channel } from '@crm/contracts/crm/intake/v1/request';
import type { RouteDecision } from '@crm/contracts/crm/intake/v1/routing';
import type { DecideRequest, DecideResponse } from '@crm/contracts/crm/telephony/v1/telephony';
import type { EntityManager } from '@crm/db';
import { DomainError, NotFoundError } from '@crm/errors';
import { createClient, type PromiseClient, type TenantContext } from '@crm/grpc';
import type { ConnectionRow } from '../calls/model';
import { extensionsOfUsers, loadConnection } from '../connections/store';
import type { TelephonyContext } from '../context';
import { findActiveNumber, type NumberRow } from '../numbers/store';

/** How long a tenant's roster (who is on shift) is reused: a shift change reaches decisions within this. */
export const ROSTER_TTL_MS = 5000;
const PROVIDER_CALL_ID_MAX = 200;

export type RosterUsers = Pick<RosterUser, 'id' | 'departmentIds' | 'away' | 'onShift'>[];

/** intake's `assigned_by` words the proto's `decided_by` takes over as they are. */
const ASSIGNED_BY = new Set(['owner', 'round_robin', 'least_loaded']);

/** The department's members who can take a call now (on shift, not away), in the roster's order. */
export function onShiftMembers(users: RosterUsers, departmentId: string): string[] {
  return users.filter((u) => u.onShift && !u.away && u.departmentIds.includes(departmentId)).map((u) => u.id);
}

/** E.164 of any common spelling (a national number is read as Russian), '' when it is not a phone. */
export function e164(raw: string): string {
  const s = raw.trim();
  if (!s) return '';
  const n = normalisePhone(s, 'RU');
  return n.ok ? n.value : '';
}

/**
 * From intake's decision and the extensions known on this connection to what the PBX rings: the
 * assignee's extension (the client's owner, round robin, least loaded); else the department's on-shift
 * members who have one (a queue named after the department); else the fallback.
 */
export function pickTargets(
  connection: Pick<ConnectionRow, 'fallbackTarget'>,
  decision: Pick<RouteDecision, 'assigneeId' | 'assignedBy' | 'departmentId'> | undefined,
  extensions: ReadonlyMap<string, string>,
  members: readonly string[],
): DecideResponse {
  const base: DecideResponse = { extensions: [], userIds: [], queue: '', departmentId: decision?.departmentId ?? '', decidedBy: 'fallback', fallback: false, fallbackTarget: '', requestId: '' };
  if (decision) {
    const ext = decision.assigneeId ? extensions.get(decision.assigneeId) : undefined;
    if (ext) return { ...base, extensions: [ext], userIds: [decision.assigneeId], decidedBy: ASSIGNED_BY.has(decision.assignedBy) ? decision.assignedBy : 'round_robin' };
    const users = members.filter((u) => extensions.has(u));
    if (users.length && decision.departmentId) return { ...base, extensions: users.map((u) => extensions.get(u)!), userIds: users, queue: decision.departmentId, decidedBy: 'department' };
  }
  return { ...base, decidedBy: 'fallback', fallback: true, fallbackTarget: connection.fallbackTarget };
}

class Timeout extends Error {}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout('decide timeout')), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * "Whom do I connect this caller to" (WebhookService.Decide, and the adapters that answer routing
 * synchronously). The connection (any tenant: its id says whose) → the dialed number (another tenant's
 * or none: no attribution) → intake's DecideRoute within TELEPHONY_DECIDE_TIMEOUT_MS → extensions on this
 * connection. Intake slow, down, without published rules, or nobody with an extension: the fallback.
 * Remembered per (connection, provider call id): a repeated question gets the first answer.
 */
export class CallDecider {
  private readonly team: PromiseClient<typeof TeamServiceService>;
  private readonly rosters = new Map<string, { users: Promise<RosterUsers>; until: number }>();

  constructor(private readonly ctx: TelephonyContext) {
    this.team = createClient(TeamServiceService, { address: ctx.env.IDENTITY_GRPC_ADDR, defaultDeadlineMs: 2000, idempotent: ['getRoster'] });
  }

  close(): void {
    this.team.close();
  }

  /** A department's members on shift now (not away), in the roster's order: whom a transfer to it rings. */
  async departmentMembersOnShift(tenantId: string, departmentId: string): Promise<string[]> {
    return onShiftMembers(await this.roster(tenantId), departmentId);
  }

  /** The tenant's active users with shift and departments, cached ROSTER_TTL_MS (a failure is not cached). */
  private roster(tenantId: string): Promise<RosterUsers> {
    const now = Date.now();
    const hit = this.rosters.get(tenantId);
    if (hit && hit.until > now) return hit.users;
    const users = this.team.getRoster({ at: '' }, service(tenantId)).then((r) => r.users.map((u) => ({ id: u.id, departmentIds: u.departmentIds, away: u.away, onShift: u.onShift })));
    if (this.rosters.size > 10_000) this.rosters.clear();
    this.rosters.set(tenantId, { users, until: now + ROSTER_TTL_MS });
    users.catch(() => {
      if (this.rosters.get(tenantId)?.users === users) this.rosters.delete(tenantId);
    });
    return users;
  }

  decide = async (req: DecideRequest): Promise<DecideResponse> => {
    const em = this.ctx.orm.em.fork() as EntityManager;
    const connection = await loadConnection(em, req.connectionId);
    if (!connection) throw new NotFoundError('connection', req.connectionId.slice(0, 64));
    if (connection.disabled) throw new DomainError('FAILED_PRECONDITION', 'the connection is disabled', { details: { reason: 'disabled' } });
    const providerCallId = req.providerCallId.trim().slice(0, PROVIDER_CALL_ID_MAX);
    if (providerCallId) {
      const [known] = await em.execute<{ decision: DecideResponse }[]>('SELECT decision FROM call_decisions WHERE connection_id = ? AND provider_call_id = ?', [connection.id, providerCallId]);
      if (known) return { ...emptyResponse(), ...known.decision };
    }
    const caller = e164(req.caller);
    const dialed = e164(req.dialed);
    let number: NumberRow | undefined = dialed ? await findActiveNumber(em, dialed) : undefined;
    if (number && number.tenantId !== connection.tenantId) number = undefined;
    const answer = await this.route(em, connection, number, caller);
    if (providerCallId) {
      await em.execute(
        `INSERT INTO call_decisions (connection_id, provider_call_id, tenant_id, decision, created_at) VALUES (?, ?, ?, ?::jsonb, ?)
         ON CONFLICT (connection_id, provider_call_id) DO UPDATE SET decision = EXCLUDED.decision`,
        [connection.id, providerCallId, connection.tenantId, JSON.stringify(answer), new Date()],
      );
    }
    return answer;
  };

  private async route(em: EntityManager, connection: ConnectionRow, number: NumberRow | undefined, caller: string): Promise<DecideResponse> {
    const tenantId = connection.tenantId;
    const roster = this.roster(tenantId);
    roster.catch(() => undefined);
    let decision: RouteDecision | undefined;
    try {
      const res = await within(
        this.ctx.clients.routing.decideRoute(
          {
            input: {
              channel: Channel.CHANNEL_PHONE,
              dialedNumberKind: number?.kind ?? 'none',
              projectId: number?.projectId ?? '',
              utmSource: number?.utmSource ?? '',
              clientState: '',
              ownerId: '',
              phone: caller,
              email: '',
              at: '',
            },
          },
          service(tenantId),
          { deadlineMs: this.ctx.env.TELEPHONY_DECIDE_TIMEOUT_MS },
        ),
        this.ctx.env.TELEPHONY_DECIDE_TIMEOUT_MS,
      );
      decision = res.decision;
    } catch (err) {
      this.ctx.logger.warn({ err: err instanceof Timeout ? 'timeout' : (err as Error).message, tenantId, connectionId: connection.id }, 'telephony decide: intake did not decide, answering the fallback');
      return pickTargets(connection, undefined, new Map(), []);
    }
    if (!decision) return pickTargets(connection, undefined, new Map(), []);
    let members: string[] = [];
    const wanted: string[] = decision.assigneeId ? [decision.assigneeId] : [];
    if (decision.departmentId) {
      try {
        members = onShiftMembers(await within(roster, this.ctx.env.TELEPHONY_DECIDE_TIMEOUT_MS), decision.departmentId);
      } catch {
        members = [];
      }
      wanted.push(...members);
    }
    const extensions = await extensionsOfUsers(em, connection.id, [...new Set(wanted)]);
    return pickTargets(connection, decision, extensions, members);
  }
}

const emptyResponse = (): DecideResponse => ({ extensions: [], userIds: [], queue: '', departmentId: '', decidedBy: '', fallback: false, fallbackTarget: '', requestId: '' });
const service = (tenantId: string): TenantContext => ({ tenantId, callerId: 'telephony', callerKind: 'service' });

/**
 * What intake knows of the team: identity's roster (departments with schedule and SLA, active users
 * with departments, away and on-shift), asked over gRPC (GetRoster) and cached per tenant for
 * INTAKE_TEAM_CACHE_MS, so routing and the assignment guards cost no call on most requests. A change in
 * identity (away, a shift, a deactivation) reaches routing within that time; 0 asks on every use.
 */
import type { GetRosterResponse, RosterDepartment, RosterUser } from '@crm/contracts/crm/identity/v1/team';
import { TeamServiceService } from '@crm/contracts/crm/identity/v1/team';
import { createClient, type PromiseClient } from '@crm/grpc';
import type { Schedule } from '@crm/schedule';

export interface Roster {
  at: Date;
  tenantTimeZone: string;
  departments: Map<string, RosterDepartment>;
  users: Map<string, RosterUser>;
}

export interface TeamDirectory {
  /** The roster of a tenant (cached); `fresh` bypasses the cache (guards on a person's explicit action). */
  roster(tenantId: string, opts?: { fresh?: boolean }): Promise<Roster>;
  close(): void;
}

/** A department's schedule for @crm/schedule (the tenant's zone when the department names none). */
export function scheduleOf(d: RosterDepartment | undefined, tenantTimeZone: string): Schedule {
  const s = d?.schedule;
  return { timeZone: s?.timeZone || tenantTimeZone || 'UTC', hours: s?.hours ?? [], holidays: s?.holidays ?? [] };
}

export function toRoster(res: GetRosterResponse): Roster {
  return {
    at: new Date(res.at || Date.now()),
    tenantTimeZone: res.tenantTimeZone || 'UTC',
    departments: new Map(res.departments.map((d) => [d.id, d])),
    users: new Map(res.users.map((u) => [u.id, u])),
  };
}

export class GrpcTeamDirectory implements TeamDirectory {
  private readonly client: PromiseClient<typeof TeamServiceService>;
  private readonly cache = new Map<string, { roster: Promise<Roster>; until: number }>();

  constructor(
    address: string,
    private readonly ttlMs: number,
    private readonly timeoutMs = 2000,
  ) {
    this.client = createClient(TeamServiceService, { address, defaultDeadlineMs: timeoutMs, idempotent: ['getRoster'] });
    this.client.waitForReady(10_000).catch(() => undefined);
  }

  roster(tenantId: string, opts: { fresh?: boolean } = {}): Promise<Roster> {
    const now = Date.now();
    const hit = this.cache.get(tenantId);
    if (!opts.fresh && hit && hit.until > now) return hit.roster;
    const roster = this.client.getRoster({ at: '' }, { tenantId, callerId: 'intake', callerKind: 'service' }).then(toRoster);
    if (this.ttlMs > 0) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(tenantId, { roster, until: now + this.ttlMs });
      // A failed call is not cached.
      roster.catch(() => {
        if (this.cache.get(tenantId)?.roster === roster) this.cache.delete(tenantId);
      });
    }
    return roster;
  }

  close(): void {
    this.client.close();
  }
}

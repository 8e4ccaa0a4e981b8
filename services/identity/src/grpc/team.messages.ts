import type * as pb from '@crm/contracts/crm/identity/v1/team';
import { rolesToWire } from '../domain/access';
import { isAwayAt, kindToWire, type StoredSchedule } from '../domain/team';
import { scheduleOfRow, toDate, type AuditRow, type ProjectRow, type ShiftRow, type TeamDepartmentRow, type TeamUserRow } from '../team.service';

/** Team rows → wire messages. Invite token hashes and password hashes are never selected. */

const iso = (v: string | Date) => toDate(v).toISOString();
const isoOrEmpty = (v: string | Date | null) => (v === null ? '' : iso(v));

export function teamUserMessage(u: TeamUserRow, at = new Date()): pb.TeamUser {
  const awayUntil = u.away_until === null ? null : toDate(u.away_until);
  const away = isAwayAt(u.away, awayUntil, at);
  return {
    id: u.id,
    email: u.email,
    displayName: u.display_name,
    roles: rolesToWire(u.roles),
    departmentIds: u.department_ids,
    headedDepartmentIds: u.headed_department_ids,
    active: u.active,
    invited: u.invited,
    away,
    awayUntil: away && awayUntil ? awayUntil.toISOString() : '',
    createdAt: iso(u.created_at),
    updatedAt: iso(u.updated_at),
    deactivatedAt: isoOrEmpty(u.deactivated_at),
  };
}

export function scheduleMessage(s: StoredSchedule): pb.WorkSchedule {
  return { timeZone: s.timeZone, hours: s.hours.map((h) => ({ weekday: h.weekday, from: h.from, to: h.to })), holidays: s.holidays };
}

export function teamDepartmentMessage(d: TeamDepartmentRow): pb.TeamDepartment {
  return {
    id: d.id,
    name: d.name,
    kind: kindToWire(d.kind),
    headUserIds: d.head_user_ids,
    slaFirstResponseMinutes: d.sla_first_response_minutes,
    schedule: scheduleMessage(scheduleOfRow(d)),
    createdAt: iso(d.created_at),
    updatedAt: iso(d.updated_at),
    memberCount: d.member_count,
  };
}

export function projectMessage(p: ProjectRow): pb.Project {
  return { id: p.id, name: p.name, code: p.code, archived: p.archived, createdAt: iso(p.created_at), updatedAt: iso(p.updated_at) };
}

export function shiftMessage(s: ShiftRow): pb.Shift {
  return { id: s.id, userId: s.user_id, startsAt: iso(s.starts_at), endsAt: iso(s.ends_at), createdAt: iso(s.created_at) };
}

export function auditEntryMessage(a: AuditRow): pb.AuditEntry {
  const colon = a.target.indexOf(':');
  return {
    id: a.id,
    at: iso(a.at),
    actorKind: a.actor_kind,
    actorId: a.actor_id,
    action: a.action,
    targetKind: colon < 0 ? a.target : a.target.slice(0, colon),
    targetId: colon < 0 ? '' : a.target.slice(colon + 1),
    detailsJson: typeof a.details === 'string' ? a.details : JSON.stringify(a.details ?? {}),
  };
}

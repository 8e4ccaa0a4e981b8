/**
 * The request's lifecycle as declared data (DOMAIN.md "Request lifecycle"): which moves exist, what
 * each one needs (its guards), and what it does to the row. `plan()` is the only way a state changes:
 * it answers the change to apply or a typed refusal — an illegal move (FAILED_PRECONDITION with
 * `details.public = {state, allowed}`) or a guard failing (INVALID_ARGUMENT naming the field).
 *
 *   new         → assigned (an assignee) | in_progress (answered: the caller takes it) | deferred | trash | closed | converted | attached
 *   assigned    → in_progress | new (unassigned) | deferred | trash | closed | converted | attached
 *   in_progress → deferred | trash | closed | converted | attached
 *   deferred    → new (the revisit date came, or by hand)
 *   trash       → new (restored)
 *   closed, converted, attached: terminal.
 */
import { DomainError, type FieldViolation } from '@crm/errors';
import type { TrashReasonName } from '../db/entities/request.entity';
import { REQUEST_STATES, charLength, type RequestStateName } from '../domain/types';

const FINISH = ['deferred', 'trash', 'closed', 'converted', 'attached'] as const;

/** The allowed moves, from → to. */
export const TRANSITIONS: Readonly<Record<RequestStateName, readonly RequestStateName[]>> = {
  new: ['assigned', 'in_progress', ...FINISH],
  assigned: ['in_progress', 'new', ...FINISH],
  in_progress: [...FINISH],
  deferred: ['new'],
  trash: ['new'],
  closed: [],
  converted: [],
  attached: [],
};

/** States a person works in (the SLA runs, an assignee may change, the department may change). */
export const OPEN_STATES: readonly RequestStateName[] = ['new', 'assigned', 'in_progress'];
export const TERMINAL_STATES: readonly RequestStateName[] = ['closed', 'converted', 'attached'];

export const TRASH_REASONS: readonly TrashReasonName[] = ['spam', 'wrong_number', 'not_targeted', 'duplicate', 'other'];
export const REASON_MAX = 500;
export const TRASH_NOTE_MAX = 500;
/** A revisit date at most this far ahead. */
export const REVISIT_MAX_MS = 2 * 366 * 24 * 3600 * 1000;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

export function allowedFrom(state: RequestStateName): readonly RequestStateName[] {
  return TRANSITIONS[state];
}

export function canMove(from: RequestStateName, to: RequestStateName): boolean {
  return TRANSITIONS[from].includes(to);
}

/** What a transition call brings (strings as sent; '' for absent). */
export interface PlanInput {
  /** Free text kept in the history (≤ 500). */
  reason?: string;
  /** A TrashReason name, '' when unspecified. */
  trashReason?: string;
  trashNote?: string;
  revisitAt?: string;
  dealId?: string;
  clientCardId?: string;
  assigneeId?: string;
  /** The caller (assigned when a `new` request goes to `in_progress`). */
  callerId?: string;
  /** Now, for the revisit bounds (tests pass a fixed one). */
  now?: Date;
}

/** The change a move makes to the row; `undefined` fields stay as they are, `null` clears. */
export interface PlannedChange {
  from: RequestStateName;
  to: RequestStateName;
  reason: string | null;
  assigneeId?: string | null;
  trashReason?: TrashReasonName | null;
  trashNote?: string | null;
  revisitAt?: Date | null;
  dealId?: string | null;
  clientCardId?: string | null;
  /** The assignee must be checked against the roster (active, not away, in the department). */
  checkAssignee: boolean;
  /** Timers: leaving new/assigned stops the SLA; entering deferred schedules the revisit; leaving it cancels. */
  cancelSla: boolean;
  scheduleRevisit: boolean;
  cancelRevisit: boolean;
  /** Entering in_progress is the first response when none was recorded. */
  firstResponse: boolean;
}

export type Refusal =
  | { kind: 'illegal'; state: RequestStateName; to: string; allowed: readonly RequestStateName[] }
  | { kind: 'invalid'; violations: FieldViolation[] };

export type PlanResult = { ok: true; change: PlannedChange } | { ok: false; refusal: Refusal };

/** The refusal as the error a call answers with. */
export function refusalError(r: Refusal): DomainError {
  if (r.kind === 'illegal') return illegalMove(r.state, r.to, r.allowed);
  return new DomainError('INVALID_ARGUMENT', `the transition is invalid: ${r.violations.map((v) => `${v.field} ${v.message}`).join('; ')}`, { violations: r.violations });
}

/** FAILED_PRECONDITION with `details.public = {state, allowed}` (`allowed`: a JSON array of state names). */
export function illegalMove(state: RequestStateName, to: string, allowed: readonly RequestStateName[] = TRANSITIONS[state]): DomainError {
  const what = to ? `cannot move a ${state} request to ${to}` : `a ${state} request cannot be changed this way`;
  return new DomainError('FAILED_PRECONDITION', `${what}; allowed: ${allowed.length ? allowed.join(', ') : 'none (terminal)'}`, {
    details: { reason: 'illegal_transition', public: { state, allowed: JSON.stringify(allowed) } },
  });
}

function isTrashReason(v: string): v is TrashReasonName {
  return (TRASH_REASONS as readonly string[]).includes(v);
}

function uuid(field: string, value: string | undefined, violations: FieldViolation[], required: boolean): string | null {
  const v = (value ?? '').trim();
  if (v === '') {
    if (required) violations.push({ field, message: 'is required' });
    return null;
  }
  if (!UUID_RE.test(v)) {
    violations.push({ field, message: 'must be a UUID' });
    return null;
  }
  return v.toLowerCase();
}

/** Validates the free-text reason (≤ 500 characters, no NUL); '' is null. */
export function reasonOf(raw: string | undefined, violations: FieldViolation[], field = 'reason'): string | null {
  const v = (raw ?? '').trim();
  if (v === '') return null;
  if (v.includes('\u0000')) violations.push({ field, message: 'must not contain NUL characters' });
  else if (charLength(v) > REASON_MAX) violations.push({ field, message: `must be at most ${REASON_MAX} characters` });
  return v;
}

/** A revisit date: RFC 3339, in the future, at most 2 years ahead. */
export function revisitOf(raw: string | undefined, now: Date, violations: FieldViolation[]): Date | null {
  const v = (raw ?? '').trim();
  if (v === '') {
    violations.push({ field: 'revisit_at', message: 'is required to defer a request' });
    return null;
  }
  const ms = Date.parse(v);
  if (!RFC3339_RE.test(v) || Number.isNaN(ms)) {
    violations.push({ field: 'revisit_at', message: 'must be an RFC 3339 timestamp' });
    return null;
  }
  if (ms <= now.getTime()) {
    violations.push({ field: 'revisit_at', message: 'must be in the future' });
    return null;
  }
  if (ms - now.getTime() > REVISIT_MAX_MS) {
    violations.push({ field: 'revisit_at', message: 'must be at most 2 years ahead' });
    return null;
  }
  return new Date(ms);
}

/** Plans a move of a request in `current` to `to` (a state name; anything else is illegal). */
export function plan(current: RequestStateName, to: string, input: PlanInput = {}): PlanResult {
  const allowed = TRANSITIONS[current];
  if (!(REQUEST_STATES as readonly string[]).includes(to) || !allowed.includes(to as RequestStateName)) {
    return { ok: false, refusal: { kind: 'illegal', state: current, to, allowed } };
  }
  const target = to as RequestStateName;
  const violations: FieldViolation[] = [];
  const now = input.now ?? new Date();
  const change: PlannedChange = {
    from: current,
    to: target,
    reason: reasonOf(input.reason, violations),
    checkAssignee: false,
    cancelSla: (current === 'new' || current === 'assigned') && target !== 'assigned' && target !== 'new',
    scheduleRevisit: false,
    cancelRevisit: current === 'deferred',
    firstResponse: false,
  };
  switch (target) {
    case 'assigned': {
      const a = uuid('assignee_id', input.assigneeId, violations, true);
      if (a !== null) change.assigneeId = a;
      change.checkAssignee = true;
      break;
    }
    case 'in_progress': {
      change.firstResponse = true;
      if (current === 'new') {
        const a = uuid('assignee_id', input.callerId, violations, true);
        if (a !== null) change.assigneeId = a;
      }
      break;
    }
    case 'new': {
      // Unassigned (from assigned), restored (from trash) or back from deferred: nobody holds it.
      change.assigneeId = null;
      if (current === 'trash') {
        change.trashReason = null;
        change.trashNote = null;
      }
      if (current === 'deferred') change.revisitAt = null;
      break;
    }
    case 'deferred': {
      const at = revisitOf(input.revisitAt, now, violations);
      if (at !== null) change.revisitAt = at;
      change.scheduleRevisit = true;
      break;
    }
    case 'trash': {
      const r = (input.trashReason ?? '').trim();
      if (r === '') violations.push({ field: 'trash_reason', message: 'is required to move a request to trash' });
      else if (!isTrashReason(r)) violations.push({ field: 'trash_reason', message: `must be one of ${TRASH_REASONS.join(', ')}` });
      else change.trashReason = r;
      const note = (input.trashNote ?? '').trim();
      if (note.includes('\u0000')) violations.push({ field: 'trash_note', message: 'must not contain NUL characters' });
      else if (charLength(note) > TRASH_NOTE_MAX) violations.push({ field: 'trash_note', message: `must be at most ${TRASH_NOTE_MAX} characters` });
      else if (r === 'other' && note === '') violations.push({ field: 'trash_note', message: 'is required when trash_reason is other' });
      else change.trashNote = note === '' ? null : note;
      break;
    }
    case 'converted': {
      const d = uuid('deal_id', input.dealId, violations, true);
      if (d !== null) change.dealId = d;
      break;
    }
    case 'attached': {
      const d = uuid('deal_id', input.dealId, violations, false);
      const c = uuid('client_card_id', input.clientCardId, violations, false);
      const given = (input.dealId ?? '').trim() !== '' || (input.clientCardId ?? '').trim() !== '';
      if (!given) violations.push({ field: 'deal_id', message: 'or client_card_id is required to attach a request' });
      if (d !== null) change.dealId = d;
      if (c !== null) change.clientCardId = c;
      break;
    }
    case 'closed':
      break;
  }
  if (violations.length) return { ok: false, refusal: { kind: 'invalid', violations } };
  return { ok: true, change };
}

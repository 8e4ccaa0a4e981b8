import { DomainError } from '@crm/errors';
import { REQUEST_STATES, type RequestStateName } from '../domain/types';
import { plan, refusalError, TRANSITIONS, type PlanInput } from './machine';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const U = '0190a0a0-0000-7000-8000-000000000001';
const D = '0190a0a0-0000-7000-8000-0000000000d1';
const C = '0190a0a0-0000-7000-8000-0000000000c1';

/** Input that satisfies every guard, so only the legality of the move is in question. */
const FULL: PlanInput = {
  now: NOW,
  assigneeId: U,
  callerId: U,
  trashReason: 'spam',
  revisitAt: '2026-12-05T09:00:00Z',
  dealId: D,
  clientCardId: C,
};

const EXPECTED: Record<RequestStateName, RequestStateName[]> = {
  new: ['assigned', 'in_progress', 'deferred', 'trash', 'closed', 'converted', 'attached'],
  assigned: ['in_progress', 'new', 'deferred', 'trash', 'closed', 'converted', 'attached'],
  in_progress: ['deferred', 'trash', 'closed', 'converted', 'attached'],
  deferred: ['new'],
  trash: ['new'],
  closed: [],
  converted: [],
  attached: [],
};

describe('lifecycle machine', () => {
  it('declares exactly the moves of DOMAIN.md', () => {
    for (const s of REQUEST_STATES) expect([...TRANSITIONS[s]].sort()).toEqual([...EXPECTED[s]].sort());
  });

  describe.each(REQUEST_STATES.flatMap((from) => REQUEST_STATES.map((to) => [from, to] as const)))('%s → %s', (from, to) => {
    const legal = EXPECTED[from].includes(to);
    it(legal ? 'is allowed with its guards met' : 'is refused as illegal (FAILED_PRECONDITION with state and allowed)', () => {
      const r = plan(from, to, FULL);
      if (legal) {
        expect(r.ok).toBe(true);
        if (r.ok) {
          expect(r.change.from).toBe(from);
          expect(r.change.to).toBe(to);
        }
      } else {
        expect(r.ok).toBe(false);
        if (!r.ok) {
          expect(r.refusal.kind).toBe('illegal');
          const err = refusalError(r.refusal);
          expect(err).toBeInstanceOf(DomainError);
          expect(err.code).toBe('FAILED_PRECONDITION');
          expect(err.details.public).toEqual({ state: from, allowed: JSON.stringify(EXPECTED[from]) });
        }
      }
    });
  });

  it('refuses an unknown target state as illegal', () => {
    const r = plan('new', 'bogus', FULL);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.refusal.kind).toBe('illegal');
  });

  const invalid = (from: RequestStateName, to: RequestStateName, input: PlanInput) => {
    const r = plan(from, to, { now: NOW, ...input });
    if (r.ok) throw new Error('expected a refusal');
    expect(r.refusal.kind).toBe('invalid');
    const err = refusalError(r.refusal);
    expect(err.code).toBe('INVALID_ARGUMENT');
    return err.violations.map((v) => v.field);
  };

  it('trash needs a known reason, and a note for other', () => {
    expect(invalid('new', 'trash', {})).toEqual(['trash_reason']);
    expect(invalid('new', 'trash', { trashReason: 'boring' })).toEqual(['trash_reason']);
    expect(invalid('assigned', 'trash', { trashReason: 'other' })).toEqual(['trash_note']);
    expect(invalid('assigned', 'trash', { trashReason: 'spam', trashNote: 'x'.repeat(501) })).toEqual(['trash_note']);
    const ok = plan('in_progress', 'trash', { trashReason: 'other', trashNote: ' robot ' });
    expect(ok.ok && ok.change).toMatchObject({ trashReason: 'other', trashNote: 'robot', cancelSla: false });
  });

  it('deferred needs a revisit date in the future, at most 2 years ahead, RFC 3339', () => {
    expect(invalid('new', 'deferred', {})).toEqual(['revisit_at']);
    expect(invalid('new', 'deferred', { revisitAt: 'tomorrow' })).toEqual(['revisit_at']);
    expect(invalid('new', 'deferred', { revisitAt: '2026-12-01' })).toEqual(['revisit_at']);
    expect(invalid('new', 'deferred', { revisitAt: '2026-11-30T12:00:00Z' })).toEqual(['revisit_at']);
    expect(invalid('new', 'deferred', { revisitAt: '2029-01-01T00:00:00Z' })).toEqual(['revisit_at']);
    const ok = plan('new', 'deferred', { now: NOW, revisitAt: '2027-06-01T10:00:00+03:00' });
    expect(ok.ok && ok.change).toMatchObject({ revisitAt: new Date('2027-06-01T07:00:00Z'), scheduleRevisit: true, cancelSla: true });
  });

  it('converted needs a deal, attached a deal or a client card', () => {
    expect(invalid('in_progress', 'converted', {})).toEqual(['deal_id']);
    expect(invalid('in_progress', 'converted', { dealId: 'deal-1' })).toEqual(['deal_id']);
    expect(invalid('in_progress', 'attached', {})).toEqual(['deal_id']);
    expect(invalid('in_progress', 'attached', { clientCardId: 'x' })).toEqual(['client_card_id']);
    const ok = plan('in_progress', 'attached', { clientCardId: C.toUpperCase() });
    expect(ok.ok && ok.change.clientCardId).toBe(C);
  });

  it('assigned needs an assignee id; in_progress from new takes the caller', () => {
    expect(invalid('new', 'assigned', {})).toEqual(['assignee_id']);
    expect(invalid('new', 'assigned', { assigneeId: 'bob' })).toEqual(['assignee_id']);
    const ok = plan('new', 'assigned', { assigneeId: U });
    expect(ok.ok && ok.change).toMatchObject({ assigneeId: U, checkAssignee: true, cancelSla: false });
    expect(invalid('new', 'in_progress', { callerId: 'api-key-1' })).toEqual(['assignee_id']);
    const ip = plan('new', 'in_progress', { callerId: U });
    expect(ip.ok && ip.change).toMatchObject({ assigneeId: U, firstResponse: true, cancelSla: true });
    const fromAssigned = plan('assigned', 'in_progress', {});
    expect(fromAssigned.ok && fromAssigned.change.assigneeId).toBeUndefined();
  });

  it('the reason is at most 500 characters', () => {
    expect(invalid('new', 'closed', { reason: 'x'.repeat(501) })).toEqual(['reason']);
    const ok = plan('new', 'closed', { reason: ' done ' });
    expect(ok.ok && ok.change.reason).toBe('done');
  });

  it('coming back to new clears what the old state held and cancels the revisit', () => {
    const fromTrash = plan('trash', 'new');
    expect(fromTrash.ok && fromTrash.change).toMatchObject({ assigneeId: null, trashReason: null, trashNote: null, cancelRevisit: false });
    const fromDeferred = plan('deferred', 'new');
    expect(fromDeferred.ok && fromDeferred.change).toMatchObject({ assigneeId: null, revisitAt: null, cancelRevisit: true });
    const unassign = plan('assigned', 'new');
    expect(unassign.ok && unassign.change).toMatchObject({ assigneeId: null, cancelSla: false });
  });
});

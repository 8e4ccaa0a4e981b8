import { DomainError } from '@crm/errors';
import { allowedTargets, assertTransition, canTransition, CARD_STATES, CARD_TRANSITIONS, eventTarget } from './card-state';

describe('client card lifecycle', () => {
  it('declares each move once and never a move to the same state', () => {
    const keys = CARD_TRANSITIONS.map((t) => `${t.from}>${t.to}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const t of CARD_TRANSITIONS) expect(t.from).not.toBe(t.to);
  });

  it('allows by hand exactly the moves of the table', () => {
    const byHand = CARD_STATES.flatMap((from) => allowedTargets(from, 'user').map((to) => `${from}>${to}`)).sort();
    expect(byHand).toEqual(['active>former', 'former>active', 'not_client>potential', 'potential>active', 'potential>not_client']);
  });

  it('lets events only move forward: lead → potential from not_client, won → active from not_client, potential, former', () => {
    expect(eventTarget('not_client', 'lead')).toBe('potential');
    expect(eventTarget('potential', 'lead')).toBeNull();
    expect(eventTarget('active', 'lead')).toBeNull();
    expect(eventTarget('former', 'lead')).toBeNull();
    expect(eventTarget('not_client', 'won')).toBe('active');
    expect(eventTarget('potential', 'won')).toBe('active');
    expect(eventTarget('former', 'won')).toBe('active');
    expect(eventTarget('active', 'won')).toBeNull();
  });

  it('keeps rules to active → former and never lets an event disconnect a client', () => {
    expect(allowedTargets('active', 'rule')).toEqual(['former']);
    expect(canTransition('active', 'former', 'event')).toBe(false);
    expect(canTransition('potential', 'not_client', 'event')).toBe(false);
  });

  it('refuses a move off the table with FAILED_PRECONDITION naming what is allowed', () => {
    expect(() => assertTransition('not_client', 'potential', 'user')).not.toThrow();
    for (const [from, to] of [
      ['active', 'potential'],
      ['active', 'not_client'],
      ['not_client', 'active'],
      ['not_client', 'former'],
      ['former', 'potential'],
      ['active', 'active'],
    ] as const) {
      try {
        assertTransition(from, to, 'user');
        throw new Error(`${from} → ${to} should be refused`);
      } catch (err) {
        expect(err).toBeInstanceOf(DomainError);
        expect((err as DomainError).code).toBe('FAILED_PRECONDITION');
        expect((err as DomainError).details).toMatchObject({ reason: 'transition_not_allowed', from, to, allowed: allowedTargets(from, 'user') });
      }
    }
  });
});

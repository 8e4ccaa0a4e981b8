import { DomainError } from '@crm/errors';

/**
 * The client card lifecycle (DOMAIN.md "Client card lifecycle and the bases") as a declared table:
 * which state may follow which, and who may make the move.
 *
 *   from        to          by                 why
 *   not_client  potential   event, user        a request qualified as a lead, a deal opened; or by hand
 *   potential   not_client  user               by hand only: a lead qualified by mistake is taken back
 *   potential   active      event, user        the first deal won; by hand for a deal closed outside the funnel
 *   not_client  active      event              a deal won on a card that never was potential (e.g. a deal made directly)
 *   active      former      rule, user         disconnected / churned, by a rule or by hand
 *   former      active      event, user        a new deal won; or by hand (came back)
 *
 * Everything else is refused (FAILED_PRECONDITION `transition_not_allowed`), including staying in the
 * same state and active → potential / not_client (a client who bought stays at least `former`).
 * Events only ever move a card forward: a late or repeated event that does not match a row is ignored.
 */
export type CardState = 'not_client' | 'potential' | 'active' | 'former';
export type ActorKind = 'user' | 'event' | 'rule';

export const CARD_STATES: readonly CardState[] = ['not_client', 'potential', 'active', 'former'];

export const CARD_TRANSITIONS: readonly { from: CardState; to: CardState; by: readonly ActorKind[] }[] = [
  { from: 'not_client', to: 'potential', by: ['event', 'user'] },
  { from: 'potential', to: 'not_client', by: ['user'] },
  { from: 'potential', to: 'active', by: ['event', 'user'] },
  { from: 'not_client', to: 'active', by: ['event'] },
  { from: 'active', to: 'former', by: ['rule', 'user'] },
  { from: 'former', to: 'active', by: ['event', 'user'] },
];

export function canTransition(from: CardState, to: CardState, by: ActorKind): boolean {
  return CARD_TRANSITIONS.some((t) => t.from === from && t.to === to && t.by.includes(by));
}

/** The states `by` may move a card to from `from` (for error messages and the UI). */
export function allowedTargets(from: CardState, by: ActorKind): CardState[] {
  return CARD_TRANSITIONS.filter((t) => t.from === from && t.by.includes(by)).map((t) => t.to);
}

/** Throws FAILED_PRECONDITION naming the allowed targets unless `by` may move the card from `from` to `to`. */
export function assertTransition(from: CardState, to: CardState, by: ActorKind): void {
  if (canTransition(from, to, by)) return;
  const allowed = allowedTargets(from, by);
  throw new DomainError(
    'FAILED_PRECONDITION',
    `a client card cannot go from ${from} to ${to}${by === 'user' ? ' by hand' : ''}; allowed: ${allowed.length ? allowed.join(', ') : 'none'}`,
    { details: { reason: 'transition_not_allowed', from, to, allowed, public: { from, to, allowed: allowed.join(',') } } },
  );
}

/** What an event asks for: the state it moves the card to, when the card is in one of the `from` states. */
export const EVENT_MOVES = {
  /** A request qualified as a lead, a deal opened. */
  lead: 'potential',
  /** A deal won. */
  won: 'active',
} as const satisfies Record<string, CardState>;

/** The state an event moves a card in `from` to, or null when the event leaves it where it is. */
export function eventTarget(from: CardState, move: keyof typeof EVENT_MOVES): CardState | null {
  const to = EVENT_MOVES[move];
  return canTransition(from, to, 'event') ? to : null;
}

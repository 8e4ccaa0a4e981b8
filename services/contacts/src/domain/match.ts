/**
 * The match rule of MatchOrCreate when a request's points belong to several contacts (documented in
 * services/contacts/README.md). The contact chosen is, in order of preference:
 *   1. one that owns a matched point which is verified,
 *   2. else one that owns the matched phone,
 *   3. else the oldest (created_at, then id).
 * Each step only narrows the candidates of the previous one, so among several owners of verified points
 * the one with the phone wins, and among those the oldest. The others are recorded as probable
 * duplicates of the chosen one (reason `shared_point`).
 */
export interface OwnerCandidate {
  contactId: string;
  createdAt: Date;
  /** Some matched point of this contact is verified. */
  verifiedMatch: boolean;
  /** Some matched point of this contact is a phone. */
  phoneMatch: boolean;
}

export function pickOwner<T extends OwnerCandidate>(candidates: T[]): T {
  if (!candidates.length) throw new Error('pickOwner: no candidates');
  return [...candidates].sort(
    (a, b) =>
      Number(b.verifiedMatch) - Number(a.verifiedMatch) ||
      Number(b.phoneMatch) - Number(a.phoneMatch) ||
      a.createdAt.getTime() - b.createdAt.getTime() ||
      (a.contactId < b.contactId ? -1 : a.contactId > b.contactId ? 1 : 0),
  )[0];
}

/** A duplicate pair is stored once, smaller id first (duplicates.first_id < second_id). */
export function orderedPair(a: string, b: string): [string, string] {
  return a < b ? [a, b] : [b, a];
}

import type { Axes, ChannelName } from './types';

export interface ClassifyInput {
  channel: ChannelName;
  phone: string | null;
  email: string | null;
  /**
   * Whether the person wrote before: an earlier request of the same tenant linked to the same contact,
   * or (without a contact, and for requests not linked yet) with the same normalised phone or e-mail.
   */
  seenContactBefore: boolean;
  /** contacts' MatchOrCreate said one of the request's points is verified on its contact. */
  verified?: boolean;
  /** Phone requests: the kind of number dialed (telephony fills it). */
  dialedNumberKind?: 'advertising' | 'support' | 'sales' | null;
}

/**
 * The five axes on arrival (DOMAIN.md "Request classification"). Meaning and qualification start
 * undecided — except by the rule that a call to a support number is not a sales request (meaning
 * `non_targeted`); operators set them later. Contact points captured from a form are unverified
 * unless the contact they matched has one of them verified.
 */
export function classifyOnArrival(input: ClassifyInput): Axes {
  const hasContact = input.phone !== null || input.email !== null;
  return {
    number: hasContact && input.seenContactBefore ? 'repeat' : 'primary',
    meaning: input.dialedNumberKind === 'support' ? 'non_targeted' : 'unknown',
    contact: hasContact ? (input.verified ? 'verified' : 'unverified') : 'none',
    qualification: 'pending',
    channel: input.channel,
  };
}

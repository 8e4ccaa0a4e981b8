import type { Axes, ChannelName } from './types';

export interface ClassifyInput {
  channel: ChannelName;
  phone: string | null;
  email: string | null;
  /** Whether an earlier request of the same tenant has the same normalised phone or the same e-mail. */
  seenContactBefore: boolean;
}

/**
 * The five axes on arrival (DOMAIN.md "Request classification"). Meaning and qualification start
 * undecided; rules and operators set them later. Contact points captured from a form are unverified.
 */
export function classifyOnArrival(input: ClassifyInput): Axes {
  const hasContact = input.phone !== null || input.email !== null;
  return {
    number: hasContact && input.seenContactBefore ? 'repeat' : 'primary',
    meaning: 'unknown',
    contact: hasContact ? 'unverified' : 'none',
    qualification: 'pending',
    channel: input.channel,
  };
}

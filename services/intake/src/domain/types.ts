/**
 * The request's vocabulary as plain strings (DOMAIN.md "Request classification" and "Request lifecycle").
 * The database stores these strings; the gRPC layer maps them to and from the proto enums.
 */
export const CHANNELS = ['phone', 'chat', 'email', 'signup', 'web_form'] as const;
export type ChannelName = (typeof CHANNELS)[number];

export const REQUEST_STATES = ['new', 'assigned', 'in_progress', 'converted', 'attached', 'deferred', 'trash', 'closed'] as const;
export type RequestStateName = (typeof REQUEST_STATES)[number];

export type NumberAxisValue = 'primary' | 'repeat';
export type MeaningAxisValue = 'unknown' | 'targeted' | 'non_targeted';
export type ContactAxisValue = 'none' | 'unverified' | 'verified';
export type QualificationAxisValue = 'pending' | 'lead' | 'not_lead';

export interface Axes {
  number: NumberAxisValue;
  meaning: MeaningAxisValue;
  contact: ContactAxisValue;
  qualification: QualificationAxisValue;
  channel: ChannelName;
}

export interface AttributionFields {
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  utmContent: string | null;
  utmTerm: string | null;
  landingPage: string | null;
  referrer: string | null;
}

export function isChannel(value: string): value is ChannelName {
  return (CHANNELS as readonly string[]).includes(value);
}

export function isRequestState(value: string): value is RequestStateName {
  return (REQUEST_STATES as readonly string[]).includes(value);
}

/** Length in Unicode code points, so a limit of 200 means 200 characters whatever the script. */
export function charLength(value: string): number {
  let n = 0;
  for (const _ of value) n += 1;
  return n;
}

import type { EntityManager } from '@crm/db';

/** What a DNI pool says about a call to one of its numbers at a time. */
export interface VisitAttribution {
  /** The one visit that explains the call; empty when none or several do. */
  visitId: string;
  /** Two or more visits held the number then. */
  collision: boolean;
  utmSource: string;
  utmMedium: string;
  utmCampaign: string;
  utmContent: string;
  utmTerm: string;
  landingPage: string;
  referrer: string;
}

/**
 * The visit a call to a pool number at `at` belongs to: the visits whose lease on that number covered
 * `at`; exactly one is attributed, several are a collision (counted for the pool's stats), none leaves
 * the number's own attribution. Records the call against the pool (stats). Being written by the DNI area.
 */
export async function attributeCall(em: EntityManager, tenantId: string, numberId: string, at: Date, callId: string): Promise<VisitAttribution | undefined> {
  void em;
  void tenantId;
  void numberId;
  void at;
  void callId;
  return undefined;
}

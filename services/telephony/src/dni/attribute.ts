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

interface Candidate {
  id: string;
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  utm_content: string;
  utm_term: string;
  landing_page: string;
  referrer: string;
}

/**
 * The visit a call to a pool number at `at` belongs to: the visits whose lease on that number covered
 * `at` ([lent_at, lease_until], lease_until being the last heartbeat + the pool's quiet period; both ends
 * included); exactly one is attributed, several are a collision, none is unexplained (the number's own
 * attribution stays). Recorded against the pool for GetPoolStats, once per call (a repeated call id
 * recomputes its row). `undefined` when the number is not (or no longer) the tenant's pool number.
 */
export async function attributeCall(em: EntityManager, tenantId: string, numberId: string, at: Date, callId: string): Promise<VisitAttribution | undefined> {
  const [num] = await em.execute<{ pool_id: string | null }[]>('SELECT pool_id FROM numbers WHERE tenant_id = ? AND id = ?', [tenantId, numberId]);
  // A number taken out of its pool keeps the pool its visits were lent from.
  const [recent] = num?.pool_id ? [] : await em.execute<{ pool_id: string }[]>('SELECT pool_id FROM dni_visits WHERE tenant_id = ? AND number_id = ? ORDER BY lent_at DESC LIMIT 1', [tenantId, numberId]);
  const poolId = num?.pool_id ?? recent?.pool_id;
  if (!num || !poolId) return undefined;
  const found = await em.execute<Candidate[]>(
    `SELECT id, utm_source, utm_medium, utm_campaign, utm_content, utm_term, landing_page, referrer FROM dni_visits
     WHERE tenant_id = ? AND number_id = ? AND lent_at <= ? AND lease_until >= ? ORDER BY lent_at LIMIT 10`,
    [tenantId, numberId, at, at],
  );
  const one = found.length === 1 ? found[0]! : undefined;
  const outcome = one ? 'attributed' : found.length ? 'collision' : 'unexplained';
  await em.execute(
    `INSERT INTO dni_calls (tenant_id, call_id, pool_id, number_id, called_at, outcome, visit_id, candidates) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (tenant_id, call_id) DO UPDATE SET pool_id = EXCLUDED.pool_id, number_id = EXCLUDED.number_id, called_at = EXCLUDED.called_at,
       outcome = EXCLUDED.outcome, visit_id = EXCLUDED.visit_id, candidates = EXCLUDED.candidates`,
    [tenantId, callId, poolId, numberId, at, outcome, one?.id ?? null, found.length],
  );
  return {
    visitId: one?.id ?? '',
    collision: found.length > 1,
    utmSource: one?.utm_source ?? '',
    utmMedium: one?.utm_medium ?? '',
    utmCampaign: one?.utm_campaign ?? '',
    utmContent: one?.utm_content ?? '',
    utmTerm: one?.utm_term ?? '',
    landingPage: one?.landing_page ?? '',
    referrer: one?.referrer ?? '',
  };
}

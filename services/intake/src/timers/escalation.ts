/**
 * The SLA breach's escalation: the request goes to the department's next eligible employee (on shift, not
 * away; routing's `eligibleUsers`) after the department's round-robin pointer (routing's `nextAfter`),
 * never back to the current assignee, and the pointer moves — so escalations and arrivals take turns.
 * Nobody else eligible, no department or no roster (identity unreachable): null — the breach only notifies.
 */
import { eligibleUsers, nextAfter } from '../routing/assign';
import type { Escalator } from './jobs';

export const roundRobinEscalation: Escalator = async (em, request, roster) => {
  if (roster === null || request.departmentId === null) return null;
  const candidates = eligibleUsers(roster, request.departmentId).filter((u) => u !== request.assigneeId);
  if (!candidates.length) return null;
  // The pointer row is locked until the breach commits (as routing's own picks lock it).
  const [pointer] = await em.execute<{ last_user_id: string | null }[]>(
    `INSERT INTO routing_pointers AS p (tenant_id, department_id, last_user_id, turns, updated_at) VALUES (?, ?, NULL, 0, now())
     ON CONFLICT (tenant_id, department_id) DO UPDATE SET turns = p.turns RETURNING last_user_id::text`,
    [request.tenantId, request.departmentId],
  );
  const picked = nextAfter(candidates, pointer?.last_user_id ?? null);
  await em.execute('UPDATE routing_pointers SET last_user_id = ?::uuid, turns = turns + 1, updated_at = now() WHERE tenant_id = ? AND department_id = ?', [
    picked,
    request.tenantId,
    request.departmentId,
  ]);
  return picked;
};

/** The speed-to-lead badge: breached, or due at a time (in the tenant's zone), or answered. */
import { useI18n } from '../../i18n';
import type { WorkRequest } from './api';

export function SlaBadge({ request: r }: { request: WorkRequest }) {
  const { t, formatDateTime } = useI18n();
  if (r.sla_breached_at) {
    return (
      <span className="badge sla-breached" data-testid="sla-badge" data-sla="breached" title={formatDateTime(r.sla_breached_at)}>
        {t('work.slaBreached')}
      </span>
    );
  }
  if (r.first_response_at) return null;
  if (r.sla_due_at && (r.state === 'new' || r.state === 'assigned')) {
    return (
      <span className="badge sla-due" data-testid="sla-badge" data-sla="due">
        {t('work.slaDue', { at: formatDateTime(r.sla_due_at, 'short') })}
      </span>
    );
  }
  return null;
}

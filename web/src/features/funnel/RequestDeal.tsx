/**
 * The request page's way into the funnel: "Convert into a deal" and "Attach to a deal" for a
 * `deals:write` user while the request is new, assigned or in progress; once converted or attached, the
 * link to its deal (`deal_id`, or the deals `GET /v1/requests/{id}/deals` lists) or its client card.
 */
import { useEffect, useState } from 'react';
import type { CrmRequest, Me } from '../../api';
import { useI18n } from '../../i18n';
import { Link } from '../../router';
import { AttachDialog } from './AttachDialog';
import { ConvertDialog } from './ConvertDialog';
import { editorApi, type DealSummary } from './editor-api';

const OPEN_STATES: readonly string[] = ['new', 'assigned', 'in_progress'];

export function RequestDeal({ request: r, me, onChanged }: { request: CrmRequest; me: Me; onChanged: (r: CrmRequest) => void }) {
  const { t } = useI18n();
  const [dialog, setDialog] = useState<'convert' | 'attach' | null>(null);
  const [deals, setDeals] = useState<DealSummary[]>([]);
  const linked = r.state === 'converted' || r.state === 'attached';
  const canWrite = me.scopes.includes('deals:write') && me.scopes.includes('requests:write');
  const canRead = me.scopes.includes('deals:read');

  // A linked request whose answer names no deal (or one linked before this page) reads its deals.
  useEffect(() => {
    if (!linked || r.deal_id || !canRead) return;
    const ctl = new AbortController();
    editorApi.dealsOfRequest(r.id, ctl.signal).then(setDeals, () => setDeals([]));
    return () => ctl.abort();
  }, [r.id, r.deal_id, linked, canRead]);

  const dealIds = r.deal_id ? [r.deal_id] : deals.map((d) => d.id);
  const cardId = r.client_card_id;
  if (!canWrite && !dealIds.length && !(linked && cardId)) return null;

  return (
    <section className="panel request-deal" aria-labelledby="request-deal-title" data-testid="request-deal">
      <h2 id="request-deal-title">{t('funnel.convert.panel')}</h2>
      {dealIds.length > 0 && (
        <p>
          {dealIds.map((id) => (
            <Link key={id} to={`/deals/${id}`} data-testid="request-deal-link" data-deal-id={id}>
              {r.state === 'attached' ? t('funnel.attach.openDeal') : t('funnel.convert.openDeal')}
            </Link>
          ))}
        </p>
      )}
      {linked && !dealIds.length && cardId && (
        <p>
          <Link to={`/client-cards/${cardId}`} data-testid="request-card-link">
            {t('funnel.attach.openCard')}
          </Link>
        </p>
      )}
      {canWrite && OPEN_STATES.includes(r.state) && (
        <div className="actions-row">
          <button type="button" className="button-primary" data-testid="request-convert" onClick={() => setDialog('convert')}>
            {t('funnel.convert.open')}
          </button>
          <button type="button" className="button-secondary" data-testid="request-attach" onClick={() => setDialog('attach')}>
            {t('funnel.attach.open')}
          </button>
        </div>
      )}
      {dialog === 'convert' && <ConvertDialog request={r} onClose={() => setDialog(null)} />}
      {dialog === 'attach' && (
        <AttachDialog
          request={r}
          onClose={() => setDialog(null)}
          onAttached={(answer) => {
            setDialog(null);
            if (answer.deal) setDeals([answer.deal]);
            onChanged(answer.request);
          }}
        />
      )}
    </section>
  );
}

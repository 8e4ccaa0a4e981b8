/**
 * The communication timeline ("журнал общения") of a contact or a client card: newest first, paged,
 * each entry linking to what it refers to (a request opens the request page).
 */
import { Link } from '../../router';
import type { Paged, TimelineEntry } from './api';
import { ListFoot, usePaged, useContactsI18n } from './common';

function refLink(e: TimelineEntry): string | null {
  if (e.ref_type === 'request' && e.ref_id) return `/requests/${e.ref_id}`;
  if (e.ref_type === 'contact' && e.ref_id) return `/contacts/${e.ref_id}`;
  if (e.ref_type === 'client_card' && e.ref_id) return `/client-cards/${e.ref_id}`;
  return null;
}

export function Timeline({ fetchPage, keyId }: { fetchPage: (cursor: string | null, signal?: AbortSignal) => Promise<Paged<TimelineEntry>>; keyId: string }) {
  const { t, tEnumContacts, formatDateTime } = useContactsI18n();
  const list = usePaged(fetchPage, keyId);
  return (
    <section className="panel" aria-labelledby="timeline-title" data-testid="timeline">
      <div className="panel-head">
        <h2 id="timeline-title">{t('contacts.timeline.title')}</h2>
        {/* The timeline is a read model fed by the services' events: what just happened may take a moment. */}
        <button type="button" className="button-secondary" onClick={list.reload} disabled={list.status === 'loading'} data-testid="timeline-refresh">
          {t('contacts.timeline.refresh')}
        </button>
      </div>
      {list.items.length > 0 && (
        <ol className="timeline">
          {list.items.map((e) => {
            const to = refLink(e);
            const what = tEnumContacts('timeline', e.kind);
            return (
              <li key={e.id} className={`timeline-entry timeline-${e.kind}`} data-testid="timeline-entry" data-kind={e.kind}>
                <time dateTime={e.occurred_at} className="muted nowrap">
                  {formatDateTime(e.occurred_at, 'short')}
                </time>
                <span className="badge">{to ? <Link to={to}>{what}</Link> : what}</span>
                <span className="break timeline-summary">{e.summary}</span>
              </li>
            );
          })}
        </ol>
      )}
      <ListFoot list={list} empty={t('contacts.timeline.empty')} testId="timeline" />
    </section>
  );
}

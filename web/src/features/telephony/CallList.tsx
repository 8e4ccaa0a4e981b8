/**
 * A table of calls (`GET /v1/calls` with filters, newest first, "More" for the next page): when, direction,
 * caller and callee, status (a missed call says whether and when it was called back), duration, the
 * request, the recording (`<audio>` of `/v1/calls/{id}/recording`, fetched only when played). Used by the
 * calls page and the contact page (a contact's call history).
 */
import { useEffect, useState } from 'react';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useI18n, type MessageKey } from '../../i18n';
import { Link } from '../../router';
import { callsApi, clock, recordingUrl, type Call, type CallFilters } from './api';

export function CallList({ filters, limit = 50, testId = 'call-list' }: { filters: CallFilters; limit?: number; testId?: string }) {
  const { t, formatDateTime } = useI18n();
  const [items, setItems] = useState<Call[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  const key = JSON.stringify(filters);

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    setItems(null);
    callsApi.list(JSON.parse(key) as CallFilters, null, limit, ctl.signal).then(
      (p) => {
        setItems(p.items);
        setCursor(p.next_cursor);
      },
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [key, limit, reload]);

  const more = async () => {
    if (!cursor) return;
    try {
      const p = await callsApi.list(filters, cursor, limit);
      setItems((xs) => [...(xs ?? []), ...p.items]);
      setCursor(p.next_cursor);
    } catch (err) {
      setError(err);
    }
  };

  if (error !== null) return <ErrorMessage error={error} onRetry={() => setReload((n) => n + 1)} />;
  if (items === null) return <p className="muted">{t('telephony.calls.loading')}</p>;
  if (!items.length)
    return (
      <p className="muted" data-testid={`${testId}-empty`}>
        {t('telephony.calls.empty')}
      </p>
    );
  return (
    <>
      <table className="table call-table" data-testid={testId}>
        <thead>
          <tr>
            <th>{t('telephony.calls.col.when')}</th>
            <th>{t('telephony.calls.col.direction')}</th>
            <th>{t('telephony.calls.col.from')}</th>
            <th>{t('telephony.calls.col.to')}</th>
            <th>{t('telephony.calls.col.status')}</th>
            <th>{t('telephony.calls.col.duration')}</th>
            <th>{t('telephony.calls.col.request')}</th>
            <th>{t('telephony.calls.col.recording')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((c) => (
            <tr key={c.id} data-testid="call-row" data-call-id={c.id} data-status={c.status}>
              <td>{formatDateTime(c.started_at ?? c.created_at, 'short')}</td>
              <td>{t(`telephony.calls.direction.${c.direction}` as MessageKey)}</td>
              <td>{c.caller}</td>
              <td>
                {c.callee}
                {c.number_kind && <span className="muted"> · {t(`telephony.calls.kind.${c.number_kind}` as MessageKey)}</span>}
              </td>
              <td>
                <span className={`badge call-status-${c.status}`}>{t(`telephony.calls.status.${c.status}` as MessageKey)}</span>
                {c.missed && (
                  <span className="muted" data-testid="call-recovered">
                    {' '}
                    {c.recovered_at ? t('telephony.calls.recovered', { when: formatDateTime(c.recovered_at, 'short') }) : t('telephony.calls.notRecovered')}
                  </span>
                )}
              </td>
              <td>{clock(c.talk_seconds || c.duration_seconds)}</td>
              <td>{c.request_id ? <Link to={`/requests/${c.request_id}`}>{t('telephony.calls.openRequest')}</Link> : '—'}</td>
              <td>{c.has_recording ? <audio controls preload="none" src={recordingUrl(c.id)} data-testid="call-recording" /> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {cursor && (
        <button type="button" className="button-secondary" onClick={() => void more()}>
          {t('telephony.calls.more')}
        </button>
      )}
    </>
  );
}

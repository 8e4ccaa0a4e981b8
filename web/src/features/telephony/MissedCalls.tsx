/**
 * Missed inbound calls (`GET /v1/calls/missed-stats`) over the last days, split by the kind of number
 * dialed (advertising numbers — paid leads — first, then sales and support): per number and hour of the
 * tenant's zone, how many were missed, how many were called back and the median time to the callback;
 * below, the missed calls themselves (whether each was called back).
 */
import { useEffect, useState } from 'react';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useI18n, type MessageKey } from '../../i18n';
import { callsApi, clock, type MissedCallStats, type NumberKind } from './api';
import { CallList } from './CallList';

const KINDS: NumberKind[] = ['advertising', 'sales', 'support'];
const DAYS = 7;

export function MissedCalls() {
  const { t, formatDateTime } = useI18n();
  const [stats, setStats] = useState<MissedCallStats | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  const [since] = useState(() => new Date(Date.now() - DAYS * 86_400_000).toISOString());

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    callsApi.missedStats({ since }, ctl.signal).then(setStats, (err: unknown) => !ctl.signal.aborted && setError(err));
    return () => ctl.abort();
  }, [since, reload]);

  return (
    <div className="missed-calls" data-testid="missed-calls">
      <p className="muted">{t('telephony.missed.days', { days: DAYS })}</p>
      {error !== null && <ErrorMessage error={error} onRetry={() => setReload((n) => n + 1)} />}
      {stats && (
        <>
          <p data-testid="missed-total">{t('telephony.missed.total', { missed: stats.total_missed, recovered: stats.total_recovered })}</p>
          {KINDS.map((kind) => {
            const rows = stats.items.filter((r) => r.kind === kind);
            if (!rows.length) return null;
            return (
              <section key={kind} data-testid={`missed-${kind}`}>
                <h2>{t(`telephony.missed.${kind}` as MessageKey)}</h2>
                <table className="table">
                  <thead>
                    <tr>
                      <th>{t('telephony.missed.col.number')}</th>
                      <th>{t('telephony.missed.col.hour')}</th>
                      <th>{t('telephony.missed.col.missed')}</th>
                      <th>{t('telephony.missed.col.recovered')}</th>
                      <th>{t('telephony.missed.col.median')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((r) => (
                      <tr key={`${r.number_id ?? r.phone}-${r.hour}`}>
                        <td>{r.phone}</td>
                        <td>{formatDateTime(r.hour, 'short')}</td>
                        <td>{r.missed}</td>
                        <td>{r.recovered}</td>
                        <td>{r.recovered ? clock(r.median_callback_seconds) : '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
            );
          })}
          {!stats.items.length && <p className="muted">{t('telephony.missed.none')}</p>}
        </>
      )}
      <CallList filters={{ missed: true, since }} testId="missed-list" />
    </div>
  );
}

/**
 * DNI pools on the numbers page: each pool with its numbers, fallback number, quiet period, allowed sites,
 * the snippet to embed and its stats over the last 7 days (lends, fallback shows, calls, attributed,
 * collisions and the collision rate); create, edit and archive.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useI18n } from '../../i18n';
import { embedSnippet, fieldErrors, numbersApi, type NumberPool, type PhoneNumber, type PoolStats } from './NumbersApi';

/** The refusal of a number that is already in another pool (409, reason `number_in_pool`). */
const inOtherPool = (err: unknown): boolean => err instanceof ApiError && (err.problem as { reason?: string }).reason === 'number_in_pool';

interface PoolDraft {
  name: string;
  number_ids: string[];
  fallback_phone: string;
  quiet_seconds: string;
  allowed_origins: string;
}

const draftOf = (p?: NumberPool): PoolDraft => ({
  name: p?.name ?? '',
  number_ids: p?.number_ids ?? [],
  fallback_phone: p?.fallback_phone ?? '',
  quiet_seconds: String(p?.quiet_seconds ?? 300),
  allowed_origins: (p?.allowed_origins ?? []).join('\n'),
});

function PoolForm({ pool, numbers, onSaved, onStale, onCancel }: { pool?: NumberPool; numbers: PhoneNumber[]; onSaved: () => void; onStale: () => void; onCancel?: () => void }) {
  const { t } = useI18n();
  const [d, setD] = useState<PoolDraft>(draftOf(pool));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errors = fieldErrors(error);
  // Advertising numbers that are free or already this pool's.
  const choices = numbers.filter((n) => n.kind === 'advertising' && (!n.pool_id || n.pool_id === pool?.id));
  const id = pool ? `pool-${pool.id}` : 'pool-new';
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = {
        name: d.name.trim(),
        // Only what is offered: a number that left the choices (archived, taken by another pool) is not sent again.
        number_ids: d.number_ids.filter((x) => choices.some((n) => n.id === x)),
        fallback_phone: d.fallback_phone.trim() || null,
        // Empty: the default; anything else goes as typed, so 0 or 5 is refused on the field instead of silently becoming 300.
        quiet_seconds: d.quiet_seconds.trim() === '' ? 300 : Number(d.quiet_seconds),
        allowed_origins: d.allowed_origins
          .split(/[\s,]+/)
          .map((s) => s.trim())
          .filter(Boolean),
      };
      if (pool) await numbersApi.updatePool(pool.id, body);
      else await numbersApi.createPool(body);
      if (!pool) setD(draftOf());
      onSaved();
    } catch (err) {
      setError(err);
      // Another admin put a chosen number in a pool meanwhile: show the lists as they are now.
      if (inOtherPool(err)) {
        setD((x) => ({ ...x, number_ids: [] }));
        onStale();
      }
    } finally {
      setBusy(false);
    }
  };
  const err = (f: string) => (errors[f] ? <p className="field-error" role="alert">{errors[f]}</p> : null);
  const originErrors = Object.entries(errors).filter(([f]) => f.startsWith('allowed_origins'));
  const numberErrors = Object.entries(errors).filter(([f]) => f.startsWith('number_ids'));
  return (
    <form className="panel form-grid" onSubmit={submit} noValidate data-testid={pool ? 'pool-edit-form' : 'pool-form'}>
      <h2>{pool ? t('telephony.numbers.pools.editTitle', { name: pool.name }) : t('telephony.numbers.pools.addTitle')}</h2>
      <div className="field">
        <label htmlFor={`${id}-name`}>{t('telephony.numbers.pools.name')}</label>
        <input id={`${id}-name`} value={d.name} maxLength={200} data-testid="pool-name" onChange={(e) => setD({ ...d, name: e.target.value })} />
        {err('name')}
      </div>
      <fieldset className="field">
        <legend>{t('telephony.numbers.pools.numbers')}</legend>
        {choices.length === 0 && <p className="muted">{t('telephony.numbers.pools.noFree')}</p>}
        {choices.map((n) => (
          <label key={n.id} className="check">
            <input
              type="checkbox"
              checked={d.number_ids.includes(n.id)}
              data-testid="pool-number"
              onChange={(e) => setD({ ...d, number_ids: e.target.checked ? [...d.number_ids, n.id] : d.number_ids.filter((x) => x !== n.id) })}
            />
            {n.phone} {n.label && <span className="muted">{n.label}</span>}
          </label>
        ))}
        {numberErrors.map(([f, m]) => (
          <p key={f} className="field-error" role="alert">
            {m}
          </p>
        ))}
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-fallback`}>{t('telephony.numbers.pools.fallback')}</label>
        <input id={`${id}-fallback`} type="tel" value={d.fallback_phone} data-testid="pool-fallback" onChange={(e) => setD({ ...d, fallback_phone: e.target.value })} />
        <p className="hint">{t('telephony.numbers.pools.fallbackHint')}</p>
        {errors.fallback_phone && (
          <p className="field-error" role="alert" title={errors.fallback_phone}>
            {t('telephony.numbers.badPhone')}
          </p>
        )}
      </div>
      <div className="field">
        <label htmlFor={`${id}-quiet`}>{t('telephony.numbers.pools.quiet')}</label>
        <input id={`${id}-quiet`} type="number" min={30} max={3600} value={d.quiet_seconds} data-testid="pool-quiet" onChange={(e) => setD({ ...d, quiet_seconds: e.target.value })} />
        <p className="hint">{t('telephony.numbers.pools.quietHint')}</p>
        {err('quiet_seconds')}
      </div>
      <div className="field">
        <label htmlFor={`${id}-origins`}>{t('telephony.numbers.pools.origins')}</label>
        <textarea id={`${id}-origins`} rows={2} value={d.allowed_origins} data-testid="pool-origins" placeholder="https://shop.example" onChange={(e) => setD({ ...d, allowed_origins: e.target.value })} />
        <p className="hint">{t('telephony.numbers.pools.originsHint')}</p>
        {originErrors.map(([f, m]) => (
          <p key={f} className="field-error" role="alert">
            {m}
          </p>
        ))}
      </div>
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={busy} data-testid="pool-submit">
          {pool ? t('telephony.numbers.save') : t('telephony.numbers.pools.add')}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            {t('telephony.numbers.cancel')}
          </button>
        )}
      </div>
      {error !== null && !Object.keys(errors).length &&
        (inOtherPool(error) ? (
          <div className="alert" role="alert" data-testid="pool-number-in-pool" title={(error as ApiError).problem.detail}>
            {t('telephony.numbers.pools.numberInPool')}
          </div>
        ) : (
          <ErrorMessage error={error} />
        ))}
    </form>
  );
}

function PoolStatsLine({ pool }: { pool: NumberPool }) {
  const { t } = useI18n();
  const [stats, setStats] = useState<PoolStats | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const ctl = new AbortController();
    numbersApi.stats(pool.id, ctl.signal).then(setStats, (err: unknown) => !ctl.signal.aborted && setError(err));
    return () => ctl.abort();
  }, [pool.id, pool.updated_at]);
  if (error !== null) return <ErrorMessage error={error} />;
  if (!stats) return null;
  return (
    <p data-testid="pool-stats">
      {t('telephony.numbers.pools.stats', {
        lends: stats.lends,
        fallback: stats.fallback_shows,
        calls: stats.calls,
        attributed: stats.attributed,
        collisions: stats.collisions,
        unexplained: stats.unexplained,
        rate: (stats.collision_rate * 100).toFixed(1),
      })}
    </p>
  );
}

export function PoolPanel({ pools, numbers, onChanged }: { pools: NumberPool[]; numbers: PhoneNumber[]; onChanged: () => void }) {
  const { t } = useI18n();
  const [editing, setEditing] = useState('');
  const [error, setError] = useState<unknown>(null);
  const phoneOf = (id: string) => numbers.find((n) => n.id === id)?.phone ?? id;
  const archive = async (p: NumberPool) => {
    if (!window.confirm(t('telephony.numbers.pools.archiveConfirm', { name: p.name }))) return;
    setError(null);
    try {
      await numbersApi.updatePool(p.id, { archived: true });
      onChanged();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section className="pools" data-testid="pools">
      <h2>{t('telephony.numbers.pools.title')}</h2>
      <p className="hint">{t('telephony.numbers.pools.intro')}</p>
      {error !== null && <ErrorMessage error={error} />}
      {pools.length === 0 && <p className="muted">{t('telephony.numbers.pools.empty')}</p>}
      {pools.map((p) => (
        <article key={p.id} className="panel" data-testid="pool" data-id={p.id}>
          <h3>{p.name}</h3>
          <p>
            {t('telephony.numbers.pools.numbers')}: {p.number_ids.map(phoneOf).join(', ') || '—'}
          </p>
          <p>
            {t('telephony.numbers.pools.fallback')}: {p.fallback_phone ?? '—'} · {t('telephony.numbers.pools.quiet')}: {p.quiet_seconds}
          </p>
          <p>
            {t('telephony.numbers.pools.origins')}: {p.allowed_origins.join(', ') || t('telephony.numbers.pools.anySite')}
          </p>
          <label htmlFor={`snippet-${p.id}`}>{t('telephony.numbers.pools.snippet')}</label>
          <textarea id={`snippet-${p.id}`} readOnly rows={2} value={embedSnippet(p)} data-testid="pool-snippet" onFocus={(e) => e.target.select()} />
          <p className="hint">{t('telephony.numbers.pools.snippetHint')}</p>
          <PoolStatsLine pool={p} />
          <div className="form-actions">
            <button type="button" className="button-small" data-testid="pool-edit" onClick={() => setEditing(editing === p.id ? '' : p.id)}>
              {t('telephony.numbers.edit')}
            </button>
            <button type="button" className="button-small" data-testid="pool-archive" onClick={() => void archive(p)}>
              {t('telephony.numbers.archive')}
            </button>
          </div>
          {editing === p.id && (
            <PoolForm
              pool={p}
              numbers={numbers}
              onSaved={() => {
                setEditing('');
                onChanged();
              }}
              onStale={onChanged}
              onCancel={() => setEditing('')}
            />
          )}
        </article>
      ))}
      <PoolForm numbers={numbers} onSaved={onChanged} onStale={onChanged} />
    </section>
  );
}

/**
 * Numbers and DNI pools (`/telephony/numbers`): the tenant's numbers (kind, label, attribution, pool) with
 * add / edit / archive, and the pools below (PoolPanel.tsx): their numbers, fallback, quiet period, allowed
 * sites, the embed snippet and the collision rate. Reading needs `calls:read`; changes and the pools
 * `telephony:admin`.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { Me } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useI18n, type MessageKey } from '../../i18n';
import { fieldErrors, NUMBER_KINDS, numbersApi, type NumberKindWord, type NumberPool, type PhoneNumber } from './NumbersApi';
import { PoolPanel } from './PoolPanel';

export const kindKey = (k: NumberKindWord): MessageKey => `telephony.numbers.kind.${k}` as MessageKey;

interface Draft {
  phone: string;
  kind: NumberKindWord;
  label: string;
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
}

const EMPTY: Draft = { phone: '', kind: 'advertising', label: '', utm_source: '', utm_medium: '', utm_campaign: '' };

function NumberForm({ initial, editing, onSaved, onCancel }: { initial: Draft; editing?: PhoneNumber; onSaved: (n: PhoneNumber) => void; onCancel?: () => void }) {
  const { t } = useI18n();
  const [d, setD] = useState<Draft>(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const errors = fieldErrors(error);
  const set = (k: keyof Draft) => (e: { target: { value: string } }) => setD((x) => ({ ...x, [k]: e.target.value }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const fields = { kind: d.kind, label: d.label, utm_source: d.utm_source, utm_medium: d.utm_medium, utm_campaign: d.utm_campaign };
      const n = editing ? await numbersApi.update(editing.id, fields) : await numbersApi.create({ phone: d.phone, ...fields });
      onSaved(n);
      if (!editing) setD(EMPTY);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const id = editing ? `num-${editing.id}` : 'num-new';
  const text = (k: 'label' | 'utm_source' | 'utm_medium' | 'utm_campaign', label: MessageKey) => (
    <div className="field">
      <label htmlFor={`${id}-${k}`}>{t(label)}</label>
      <input id={`${id}-${k}`} value={d[k]} maxLength={200} aria-invalid={errors[k] ? true : undefined} data-testid={`number-${k}`} onChange={set(k)} />
      {errors[k] && <p className="field-error" role="alert">{errors[k]}</p>}
    </div>
  );
  return (
    <form className="panel form-grid" onSubmit={submit} noValidate data-testid={editing ? 'number-edit-form' : 'number-form'}>
      <h2>{editing ? t('telephony.numbers.editTitle', { phone: editing.phone }) : t('telephony.numbers.addTitle')}</h2>
      {!editing && (
        <div className="field">
          <label htmlFor={`${id}-phone`}>{t('telephony.numbers.phone')}</label>
          <input id={`${id}-phone`} type="tel" value={d.phone} aria-invalid={errors.phone ? true : undefined} data-testid="number-phone" onChange={set('phone')} />
          {errors.phone && (
            <p className="field-error" role="alert" data-testid="number-phone-error" title={errors.phone}>
              {t('telephony.numbers.badPhone')}
            </p>
          )}
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-kind`}>{t('telephony.numbers.kind')}</label>
        <select id={`${id}-kind`} value={d.kind} data-testid="number-kind" onChange={(e) => setD((x) => ({ ...x, kind: e.target.value as NumberKindWord }))}>
          {NUMBER_KINDS.map((k) => (
            <option key={k} value={k}>
              {t(kindKey(k))}
            </option>
          ))}
        </select>
      </div>
      {text('label', 'telephony.numbers.label')}
      {text('utm_source', 'telephony.numbers.utmSource')}
      {text('utm_medium', 'telephony.numbers.utmMedium')}
      {text('utm_campaign', 'telephony.numbers.utmCampaign')}
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={busy} data-testid="number-submit">
          {editing ? t('telephony.numbers.save') : t('telephony.numbers.add')}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            {t('telephony.numbers.cancel')}
          </button>
        )}
      </div>
      {error !== null && !Object.keys(errors).length && <ErrorMessage error={error} />}
    </form>
  );
}

export function NumbersPage({ me }: { me: Me }) {
  const { t } = useI18n();
  const canAdmin = me.scopes.includes('telephony:admin');
  const [archived, setArchived] = useState(false);
  const [numbers, setNumbers] = useState<PhoneNumber[] | null>(null);
  const [pools, setPools] = useState<NumberPool[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [editing, setEditing] = useState<string>('');
  const [reload, setReload] = useState(0);

  const refresh = useCallback(() => setReload((n) => n + 1), []);

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    numbersApi.list({ include_archived: archived }, ctl.signal).then((p) => setNumbers(p.items), (err: unknown) => !ctl.signal.aborted && setError(err));
    if (canAdmin) numbersApi.pools(false, ctl.signal).then((p) => setPools(p.items), (err: unknown) => !ctl.signal.aborted && setError(err));
    return () => ctl.abort();
  }, [archived, reload, canAdmin]);

  const poolName = (id: string | null) => (id ? (pools.find((p) => p.id === id)?.name ?? t('telephony.numbers.pool')) : '');

  const archive = async (n: PhoneNumber) => {
    if (!window.confirm(t('telephony.numbers.archiveConfirm', { phone: n.phone }))) return;
    setActionError(null);
    try {
      await numbersApi.archive(n.id);
      refresh();
    } catch (err) {
      setActionError(err);
    }
  };

  return (
    <section className="numbers" data-testid="numbers-page">
      <div className="page-head">
        <h1>{t('telephony.numbers.title')}</h1>
      </div>
      {!canAdmin && (
        <p className="muted" data-testid="numbers-readonly">
          {t('telephony.numbers.readOnly')}
        </p>
      )}
      <label className="check">
        <input type="checkbox" checked={archived} data-testid="numbers-archived" onChange={(e) => setArchived(e.target.checked)} />
        {t('telephony.numbers.showArchived')}
      </label>
      {error !== null && <ErrorMessage error={error} onRetry={refresh} />}
      {actionError !== null && <ErrorMessage error={actionError} />}
      {numbers === null && error === null && (
        <p className="page-status" role="status">
          {t('app.loading')}
        </p>
      )}
      {numbers && numbers.length === 0 && <p className="muted">{t('telephony.numbers.empty')}</p>}
      {numbers && numbers.length > 0 && (
        <div className="table-wrap">
          <table className="table" data-testid="numbers-table">
            <thead>
              <tr>
                <th scope="col">{t('telephony.numbers.phone')}</th>
                <th scope="col">{t('telephony.numbers.kind')}</th>
                <th scope="col">{t('telephony.numbers.label')}</th>
                <th scope="col">{t('telephony.numbers.attribution')}</th>
                <th scope="col">{t('telephony.numbers.pool')}</th>
                {canAdmin && <th scope="col">{t('telephony.numbers.actions')}</th>}
              </tr>
            </thead>
            <tbody>
              {numbers.map((n) => (
                <tr key={n.id} data-testid="number-row" data-id={n.id} data-archived={n.archived || undefined}>
                  <td data-label={t('telephony.numbers.phone')} className="nowrap">
                    {n.phone} {n.archived && <span className="badge">{t('telephony.numbers.archived')}</span>}
                  </td>
                  <td data-label={t('telephony.numbers.kind')}>{t(kindKey(n.kind))}</td>
                  <td data-label={t('telephony.numbers.label')}>{n.label}</td>
                  <td data-label={t('telephony.numbers.attribution')}>{[n.utm_source, n.utm_medium, n.utm_campaign].filter(Boolean).join(' / ') || <span className="muted">—</span>}</td>
                  <td data-label={t('telephony.numbers.pool')}>{poolName(n.pool_id) || <span className="muted">—</span>}</td>
                  {canAdmin && (
                    <td data-label={t('telephony.numbers.actions')}>
                      {!n.archived && (
                        <>
                          <button type="button" className="button-small" data-testid="number-edit" onClick={() => setEditing(editing === n.id ? '' : n.id)}>
                            {t('telephony.numbers.edit')}
                          </button>{' '}
                          <button type="button" className="button-small" data-testid="number-archive" onClick={() => void archive(n)}>
                            {t('telephony.numbers.archive')}
                          </button>
                        </>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canAdmin && editing && numbers?.find((n) => n.id === editing) && (
        <NumberForm
          key={editing}
          editing={numbers.find((n) => n.id === editing)}
          initial={{ ...EMPTY, ...numbers.find((n) => n.id === editing)! }}
          onSaved={() => {
            setEditing('');
            refresh();
          }}
          onCancel={() => setEditing('')}
        />
      )}
      {canAdmin && <NumberForm initial={EMPTY} onSaved={refresh} />}
      {canAdmin && <PoolPanel pools={pools} numbers={(numbers ?? []).filter((n) => !n.archived)} onChanged={refresh} />}
    </section>
  );
}

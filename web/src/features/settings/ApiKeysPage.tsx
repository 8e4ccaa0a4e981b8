/** API keys (admins): the list (prefix, scopes, created, last used, revoked), a new key with scopes (its secret shown once), revoke. */
import { useEffect, useState, type FormEvent } from 'react';
import type { Me } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { KEY_SCOPES, teamApi, type ApiKey, type KeyScope } from './api';
import { Checkboxes, ConfirmButton, CopyButton, hasStoredDraft, NotAllowed, SettingsFrame, useAccess, useStoredDraft, useTeamI18n, violationOf, violations } from './common';

export function ApiKeysPage({ me }: { me: Me }) {
  const { t, formatDateTime } = useTeamI18n();
  const { admin } = useAccess(me);
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  const [creating, setCreating] = useState(() => hasStoredDraft('apikey.new'));
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [rowError, setRowError] = useState<unknown>(null);
  useEffect(() => {
    if (!admin) return;
    const ctl = new AbortController();
    teamApi.listKeys(ctl.signal).then(
      (k) => {
        setKeys(k);
        setError(null);
      },
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [admin, n]);

  if (!admin)
    return (
      <SettingsFrame me={me} title={t('team.keys.title')} testId="api-keys-page">
        <NotAllowed />
      </SettingsFrame>
    );

  const revoke = async (k: ApiKey) => {
    setRowError(null);
    try {
      const updated = await teamApi.revokeKey(k.id);
      setKeys((list) => (list ?? []).map((x) => (x.id === k.id ? { ...x, ...updated, revoked_at: updated.revoked_at || new Date().toISOString() } : x)));
    } catch (err) {
      setRowError(err);
    }
  };

  return (
    <SettingsFrame
      me={me}
      title={t('team.keys.title')}
      testId="api-keys-page"
      actions={
        <button type="button" className="button-primary" aria-expanded={creating} onClick={() => setCreating((v) => !v)} data-testid="api-key-new">
          {t('team.keys.new')}
        </button>
      }
    >
      {secret && (
        <div className="panel secret-box" role="status" data-testid="api-key-secret-box">
          <p>{t('team.keys.secretOnce', { name: secret.name })}</p>
          <div className="inline-fields">
            <input readOnly value={secret.secret} aria-label={t('team.keys.secret')} data-testid="api-key-secret" onFocus={(e) => e.target.select()} />
            <CopyButton text={secret.secret} testId="api-key-copy" />
            <button type="button" className="button-secondary" onClick={() => setSecret(null)} data-testid="api-key-secret-hide">
              {t('team.keys.hide')}
            </button>
          </div>
        </div>
      )}
      {creating && (
        <NewKeyForm
          onCreated={(res) => {
            setSecret({ name: res.key.name, secret: res.secret });
            setCreating(false);
            setN((x) => x + 1);
          }}
        />
      )}
      {error !== null && <ErrorMessage error={error} onRetry={() => setN((x) => x + 1)} testId="api-keys-error" />}
      {rowError !== null && <ErrorMessage error={rowError} testId="api-key-row-error" />}
      <div className="table-wrap">
        <table className="table" data-testid="api-keys-table">
          <caption className="visually-hidden">{t('team.keys.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('team.keys.name')}</th>
              <th scope="col">{t('team.keys.prefix')}</th>
              <th scope="col">{t('team.keys.scopes')}</th>
              <th scope="col">{t('team.keys.created')}</th>
              <th scope="col">{t('team.keys.lastUsed')}</th>
              <th scope="col">{t('team.users.status')}</th>
            </tr>
          </thead>
          <tbody>
            {(keys ?? []).map((k) => (
              <tr key={k.id} data-testid="api-key-row" data-id={k.id} data-name={k.name} data-revoked={k.revoked_at ? 'true' : 'false'}>
                <td data-label={t('team.keys.name')}>{k.name}</td>
                <td data-label={t('team.keys.prefix')}>
                  <code>crm_{k.prefix}_…</code>
                </td>
                <td data-label={t('team.keys.scopes')}>
                  <ul className="inline-list">
                    {k.scopes.map((s) => (
                      <li key={s}>
                        <code>{s}</code>
                      </li>
                    ))}
                  </ul>
                </td>
                <td data-label={t('team.keys.created')} className="nowrap">
                  {formatDateTime(k.created_at, 'short')}
                </td>
                <td data-label={t('team.keys.lastUsed')} className="nowrap">
                  {k.last_used_at ? formatDateTime(k.last_used_at, 'short') : t('team.keys.never')}
                </td>
                <td data-label={t('team.users.status')}>
                  {k.revoked_at ? (
                    <span className="badge user-inactive" data-testid="api-key-revoked">
                      {t('team.keys.revokedAt', { at: formatDateTime(k.revoked_at, 'short') })}
                    </span>
                  ) : (
                    <ConfirmButton label={t('team.keys.revoke')} confirmLabel={t('team.keys.revokeConfirm', { name: k.name })} onConfirm={() => revoke(k)} testId="api-key-revoke" />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {keys?.length === 0 && <p className="muted">{t('team.keys.empty')}</p>}
    </SettingsFrame>
  );
}

function NewKeyForm({ onCreated }: { onCreated: (res: { key: ApiKey; secret: string }) => void }) {
  const { t, tTeam } = useTeamI18n();
  const [draft, setDraft, clear] = useStoredDraft('apikey.new', { name: '', scopes: ['requests:read', 'requests:write'] as string[] });
  const [error, setError] = useState<unknown>(null);
  const [local, setLocal] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const v = { ...violations(error), ...local };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const errs: Record<string, string> = {};
    if (!draft.name.trim()) errs.name = t('team.required');
    if (draft.scopes.length === 0) errs.scopes = t('team.keys.needScope');
    setLocal(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      const res = await teamApi.createKey({ name: draft.name.trim(), scopes: draft.scopes.filter((s): s is KeyScope => (KEY_SCOPES as readonly string[]).includes(s)) });
      clear();
      onCreated(res);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="panel form-grid" onSubmit={submit} noValidate data-testid="api-key-form" aria-labelledby="api-key-new-title">
      <h2 id="api-key-new-title">{t('team.keys.new')}</h2>
      <div className="field">
        <label htmlFor="api-key-name">{t('team.keys.name')}</label>
        <input id="api-key-name" value={draft.name} maxLength={100} onChange={(e) => setDraft((d) => ({ ...d, name: e.target.value }))} data-testid="api-key-name" />
        <p className="field-error" role={violationOf(v, 'name') ? 'alert' : undefined}>
          {violationOf(v, 'name') ?? ''}
        </p>
      </div>
      <div>
        <Checkboxes legend={t('team.keys.scopes')} options={KEY_SCOPES.map((s) => ({ value: s, label: `${s} — ${tTeam('scope', s)}` }))} selected={draft.scopes} onChange={(scopes) => setDraft((d) => ({ ...d, scopes }))} testId="api-key-scopes" />
        <p className="field-error" role={violationOf(v, 'scopes') ? 'alert' : undefined}>
          {violationOf(v, 'scopes') ?? ''}
        </p>
      </div>
      {error !== null && <ErrorMessage error={error} testId="api-key-form-error" />}
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={busy} data-testid="api-key-create">
          {t('team.create')}
        </button>
      </div>
    </form>
  );
}

/**
 * Telephony connections (`/telephony/connections`): the tenant's PBXs and providers — add, edit (the
 * provider's secret write-only), make default, rotate the signing secret (shown once), the webhook URL to
 * copy — and per connection the employees' extensions (pick a user of the team) and "where would this
 * caller go". Needs `telephony:admin` (heads of sales and admins).
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { Me } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useI18n, type Translate } from '../../i18n';
import { teamApi, type TeamUser } from '../settings/api';
import { connectionApi, PROVIDERS, signedByUs, type Connection, type Decision, type Extension, type ProviderName } from './ConnectionApi';

type MessageKey = Parameters<Translate>[0];
const providerKey = (p: ProviderName) => `telephony.connections.provider.${p}` as MessageKey;

interface Draft {
  provider: ProviderName;
  name: string;
  api_base_url: string;
  account: string;
  secret: string;
  fallback_target: string;
  is_default: boolean;
  disabled: boolean;
}

const emptyDraft = (): Draft => ({ provider: 'kamailio', name: '', api_base_url: '', account: '', secret: '', fallback_target: '', is_default: false, disabled: false });

export function ConnectionsPage({ me }: { me: Me }) {
  const { t } = useI18n();
  const canAdmin = me.scopes.includes('telephony:admin');
  const [items, setItems] = useState<Connection[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  const [editing, setEditing] = useState<Connection | 'new' | null>(null);
  const [secret, setSecret] = useState<{ id: string; value: string } | null>(null);
  const [selected, setSelected] = useState<string>('');
  const [actionError, setActionError] = useState<unknown>(null);

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    connectionApi.list(ctl.signal).then(
      (list) => {
        setItems(list);
        setSelected((s) => s || list[0]?.id || '');
      },
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [reload]);

  const rotate = async (c: Connection) => {
    if (!window.confirm(t('telephony.connections.rotateConfirm'))) return;
    setActionError(null);
    try {
      const r = await connectionApi.rotate(c.id);
      if (r.signing_secret) setSecret({ id: c.id, value: r.signing_secret });
    } catch (err) {
      setActionError(err);
    }
  };

  if (!canAdmin)
    return (
      <p className="muted" data-testid="connections-forbidden">
        {t('telephony.connections.forbidden')}
      </p>
    );

  return (
    <section className="connections" data-testid="connections-page">
      <div className="page-head">
        <h1>{t('telephony.connections.title')}</h1>
        <button type="button" className="button-primary" data-testid="connection-new" onClick={() => setEditing('new')}>
          {t('telephony.connections.new')}
        </button>
      </div>
      <p className="muted">{t('telephony.connections.intro')}</p>
      {error !== null && <ErrorMessage error={error} onRetry={() => setReload((n) => n + 1)} />}
      {actionError !== null && <ErrorMessage error={actionError} />}
      {secret && <ConnectionSecret value={secret.value} onDone={() => setSecret(null)} />}
      {editing && (
        <ConnectionForm
          connection={editing === 'new' ? null : editing}
          onCancel={() => setEditing(null)}
          onSaved={(c, signingSecret) => {
            setEditing(null);
            if (signingSecret) setSecret({ id: c.id, value: signingSecret });
            setSelected(c.id);
            setReload((n) => n + 1);
          }}
        />
      )}
      {items === null && error === null && (
        <p className="page-status" role="status">
          {t('app.loading')}
        </p>
      )}
      {items && items.length === 0 && (
        <p className="muted" data-testid="connections-empty">
          {t('telephony.connections.empty')}
        </p>
      )}
      {items && items.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t('telephony.connections.name')}</th>
                <th scope="col">{t('telephony.connections.provider')}</th>
                <th scope="col">{t('telephony.connections.webhookUrl')}</th>
                <th scope="col">{t('telephony.connections.fallback')}</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id} data-testid="connection-row" data-id={c.id} aria-selected={c.id === selected}>
                  <td data-label={t('telephony.connections.name')}>
                    <button type="button" className="link" onClick={() => setSelected(c.id)}>
                      {c.name}
                    </button>{' '}
                    {c.is_default && <span className="badge">{t('telephony.connections.default')}</span>} {c.disabled && <span className="badge">{t('telephony.connections.disabled')}</span>}
                  </td>
                  <td data-label={t('telephony.connections.provider')}>{t(providerKey(c.provider))}</td>
                  <td data-label={t('telephony.connections.webhookUrl')}>
                    <ConnectionCopy text={c.webhook_url} />
                  </td>
                  <td data-label={t('telephony.connections.fallback')}>{c.fallback_target || <span className="muted">—</span>}</td>
                  <td>
                    <button type="button" className="button-small" data-testid="connection-edit" onClick={() => setEditing(c)}>
                      {t('telephony.connections.edit')}
                    </button>{' '}
                    {signedByUs(c.provider) && (
                      <button type="button" className="button-small" data-testid="connection-rotate" onClick={() => void rotate(c)}>
                        {t('telephony.connections.rotate')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {selected && items?.some((c) => c.id === selected) && (
        <>
          <ExtensionPanel connectionId={selected} />
          <ConnectionDecide connectionId={selected} />
        </>
      )}
    </section>
  );
}

/** The signing secret of a create or rotation: shown once. */
function ConnectionSecret({ value, onDone }: { value: string; onDone: () => void }) {
  const { t } = useI18n();
  return (
    <div className="alert" role="status" data-testid="connection-secret">
      <p>{t('telephony.connections.secretOnce')}</p>
      <ConnectionCopy text={value} />
      <button type="button" className="button-small" onClick={onDone}>
        {t('telephony.connections.secretDone')}
      </button>
    </div>
  );
}

function ConnectionCopy({ text }: { text: string }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  return (
    <span className="nowrap">
      <code>{text}</code>{' '}
      <button
        type="button"
        className="button-small"
        onClick={() => {
          void navigator.clipboard?.writeText(text).then(() => setCopied(true));
        }}
      >
        {copied ? t('telephony.connections.copied') : t('telephony.connections.copy')}
      </button>
    </span>
  );
}

function ConnectionForm({ connection, onCancel, onSaved }: { connection: Connection | null; onCancel: () => void; onSaved: (c: Connection, signingSecret: string | null) => void }) {
  const { t } = useI18n();
  const [d, setD] = useState<Draft>(() =>
    connection
      ? { provider: connection.provider, name: connection.name, api_base_url: connection.api_base_url, account: connection.account, secret: '', fallback_target: connection.fallback_target, is_default: connection.is_default, disabled: connection.disabled }
      : emptyDraft(),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD((x) => ({ ...x, [k]: v }));
  const providerSecret = !signedByUs(d.provider);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (connection) {
        const body: Record<string, unknown> = { name: d.name, api_base_url: d.api_base_url, account: d.account, fallback_target: d.fallback_target, disabled: d.disabled };
        if (d.is_default && !connection.is_default) body.is_default = true;
        if (providerSecret && d.secret) body.secret = d.secret;
        onSaved(await connectionApi.update(connection.id, body), null);
      } else {
        const r = await connectionApi.create({ provider: d.provider, name: d.name, api_base_url: d.api_base_url, account: d.account, fallback_target: d.fallback_target, is_default: d.is_default, disabled: d.disabled, ...(providerSecret ? { secret: d.secret } : {}) });
        onSaved(r.connection, r.signing_secret);
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card form" onSubmit={(e) => void submit(e)} data-testid="connection-form">
      {error !== null && <ErrorMessage error={error} />}
      <label>
        {t('telephony.connections.provider')}
        <select value={d.provider} disabled={connection !== null} onChange={(e) => set('provider', e.target.value as ProviderName)} data-testid="connection-provider">
          {PROVIDERS.map((p) => (
            <option key={p} value={p}>
              {t(providerKey(p))}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('telephony.connections.name')}
        <input required maxLength={200} value={d.name} onChange={(e) => set('name', e.target.value)} data-testid="connection-name" />
      </label>
      {providerSecret && (
        <>
          <label>
            {t('telephony.connections.apiBaseUrl')}
            <input type="url" maxLength={500} value={d.api_base_url} onChange={(e) => set('api_base_url', e.target.value)} />
          </label>
          <label>
            {t('telephony.connections.account')}
            <input maxLength={200} value={d.account} onChange={(e) => set('account', e.target.value)} />
          </label>
          <label>
            {t('telephony.connections.secret')}
            <input type="password" autoComplete="new-password" maxLength={500} required={connection === null} value={d.secret} onChange={(e) => set('secret', e.target.value)} data-testid="connection-secret-input" />
            {connection && <small className="muted">{t('telephony.connections.secretHint')}</small>}
          </label>
        </>
      )}
      <label>
        {t('telephony.connections.fallback')}
        <input maxLength={200} value={d.fallback_target} onChange={(e) => set('fallback_target', e.target.value)} data-testid="connection-fallback" />
        <small className="muted">{t('telephony.connections.fallbackHint')}</small>
      </label>
      <label className="check">
        <input type="checkbox" checked={d.is_default} disabled={connection?.is_default === true} onChange={(e) => set('is_default', e.target.checked)} />
        {t('telephony.connections.default')}
      </label>
      <label className="check">
        <input type="checkbox" checked={d.disabled} onChange={(e) => set('disabled', e.target.checked)} />
        {t('telephony.connections.disabled')}
      </label>
      <div className="actions">
        <button type="submit" className="button-primary" disabled={busy} data-testid="connection-save">
          {t('telephony.connections.save')}
        </button>
        <button type="button" onClick={onCancel}>
          {t('telephony.connections.cancel')}
        </button>
      </div>
    </form>
  );
}

/** The employees' extensions on one connection: list, assign (a user of the team), remove. */
function ExtensionPanel({ connectionId }: { connectionId: string }) {
  const { t } = useI18n();
  const [items, setItems] = useState<Extension[] | null>(null);
  const [users, setUsers] = useState<TeamUser[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [userId, setUserId] = useState('');
  const [extension, setExtension] = useState('');
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    connectionApi.extensions(connectionId, ctl.signal).then(setItems, (err: unknown) => !ctl.signal.aborted && setError(err));
    return () => ctl.abort();
  }, [connectionId, reload]);
  useEffect(() => {
    const ctl = new AbortController();
    teamApi.listUsers({ limit: 200 }, ctl.signal).then((p) => setUsers(p.items), () => undefined);
    return () => ctl.abort();
  }, []);
  const nameOf = (id: string) => users.find((u) => u.id === id)?.display_name ?? id;

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await connectionApi.setExtension(connectionId, userId, extension.trim());
      setExtension('');
      setReload((n) => n + 1);
    } catch (err) {
      setError(err);
    }
  };
  const remove = async (id: string) => {
    setError(null);
    try {
      await connectionApi.deleteExtension(id);
      setReload((n) => n + 1);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section className="card" data-testid="extensions">
      <h2>{t('telephony.connections.extensions')}</h2>
      {error !== null && <ErrorMessage error={error} />}
      {items && items.length === 0 && <p className="muted">{t('telephony.connections.noExtensions')}</p>}
      {items && items.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t('telephony.connections.user')}</th>
              <th scope="col">{t('telephony.connections.extension')}</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {items.map((x) => (
              <tr key={x.id} data-testid="extension-row">
                <td data-label={t('telephony.connections.user')}>{nameOf(x.user_id)}</td>
                <td data-label={t('telephony.connections.extension')}>
                  <code>{x.extension}</code>
                </td>
                <td>
                  <button type="button" className="button-small" onClick={() => void remove(x.id)}>
                    {t('telephony.connections.remove')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="inline-form" onSubmit={(e) => void add(e)}>
        <select required value={userId} onChange={(e) => setUserId(e.target.value)} aria-label={t('telephony.connections.user')} data-testid="extension-user">
          <option value="">{t('telephony.connections.pickUser')}</option>
          {users.map((u) => (
            <option key={u.id} value={u.id}>
              {u.display_name}
            </option>
          ))}
        </select>
        <input required pattern="[0-9A-Za-z_.+\-]{1,32}" maxLength={32} value={extension} onChange={(e) => setExtension(e.target.value)} aria-label={t('telephony.connections.extension')} placeholder="101" data-testid="extension-value" />
        <button type="submit" className="button-primary" data-testid="extension-set">
          {t('telephony.connections.setExtension')}
        </button>
      </form>
    </section>
  );
}

/** "Where would this caller go": the live decision for a caller and a dialed number. */
function ConnectionDecide({ connectionId }: { connectionId: string }) {
  const { t } = useI18n();
  const [caller, setCaller] = useState('');
  const [dialed, setDialed] = useState('');
  const [decision, setDecision] = useState<Decision | null>(null);
  const [error, setError] = useState<unknown>(null);
  const ask = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      setDecision(await connectionApi.decide(connectionId, caller, dialed));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section className="card" data-testid="connection-decide">
      <h2>{t('telephony.connections.decide')}</h2>
      <form className="inline-form" onSubmit={(e) => void ask(e)}>
        <input required maxLength={64} value={caller} onChange={(e) => setCaller(e.target.value)} aria-label={t('telephony.connections.caller')} placeholder={t('telephony.connections.caller')} />
        <input maxLength={64} value={dialed} onChange={(e) => setDialed(e.target.value)} aria-label={t('telephony.connections.dialed')} placeholder={t('telephony.connections.dialed')} />
        <button type="submit">{t('telephony.connections.ask')}</button>
      </form>
      {error !== null && <ErrorMessage error={error} />}
      {decision && (
        <p role="status" data-testid="connection-decision">
          {decision.fallback
            ? t('telephony.connections.decisionFallback', { target: decision.fallback_target ?? '—' })
            : t('telephony.connections.decision', { targets: decision.extensions.join(', '), by: decision.decided_by })}
        </p>
      )}
    </section>
  );
}

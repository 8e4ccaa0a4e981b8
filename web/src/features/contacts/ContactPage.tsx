/**
 * One contact: the name (editable), its points with verification badges and provenance (add, remove,
 * mark verified), the company, the client cards, the communication timeline (newest first, paged), the
 * contact's requests and its merges (with "Undo").
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError, type CrmRequest } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Link } from '../../router';
import { contactsApi, ownerOf, SOCIAL_NETWORKS, type ClientCard, type Company, type Contact, type ContactPoint, type Merge, type PointType, type SocialNetwork } from './api';
import { PointLabel, useContactsI18n, VerificationBadge } from './common';
import { Timeline } from './Timeline';
import { CallButton } from '../telephony/CallButton';
import { CallHistory } from '../telephony/CallHistory';

type Loaded = { status: 'loading' } | { status: 'missing' } | { status: 'error'; error: unknown } | { status: 'ready'; contact: Contact };

export function ContactPage({ id }: { id: string }) {
  const { t, formatDateTime } = useContactsI18n();
  const [data, setData] = useState<Loaded>({ status: 'loading' });
  const [reload, setReload] = useState(0);
  // Bumped after a change that others sections show (merges undone, points moved).
  const [changes, setChanges] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    contactsApi.getContact(id, ctl.signal).then(
      (contact) => setData({ status: 'ready', contact }),
      (error: unknown) => {
        if (ctl.signal.aborted) return;
        if (error instanceof ApiError && (error.status === 404 || error.status === 400)) setData({ status: 'missing' });
        else setData({ status: 'error', error });
      },
    );
    return () => ctl.abort();
  }, [id, reload, changes]);

  useEffect(() => {
    if (data.status === 'ready') document.title = `${data.contact.name || t('contacts.contact.title')} · ${t('app.name')}`;
  }, [data, t]);

  const back = (
    <p className="back">
      <Link to="/contacts">{t('contacts.contact.back')}</Link>
    </p>
  );
  if (data.status === 'loading')
    return (
      <>
        {back}
        <p className="page-status" role="status">
          {t('app.loading')}
        </p>
      </>
    );
  if (data.status === 'missing')
    return (
      <>
        {back}
        <section className="panel" data-testid="contact-missing">
          <h1>{t('contacts.contact.notFound')}</h1>
        </section>
      </>
    );
  if (data.status === 'error')
    return (
      <>
        {back}
        <ErrorMessage error={data.error} onRetry={() => setReload((n) => n + 1)} />
      </>
    );

  const c = data.contact;
  const setContact = (contact: Contact) => setData({ status: 'ready', contact });
  return (
    <article className="request" data-testid="contact-page" data-id={c.id}>
      {back}
      <NameHead contact={c} onSaved={setContact} />
      {c.merged_into_id && (
        <p className="alert alert-info" data-testid="merged-into">
          {t('contacts.contact.mergedInto')} <Link to={`/contacts/${c.merged_into_id}`}>{t('contacts.contact.openSurvivor')}</Link>
        </p>
      )}
      <p className="muted">
        {t('contacts.col.created')}: <time dateTime={c.created_at}>{formatDateTime(c.created_at)}</time> · {t('contacts.col.requests')}:{' '}
        <span data-testid="contact-request-count">{c.request_count}</span>
      </p>
      <div className="grid grid-2">
        <Points contact={c} onChanged={setContact} />
        <div>
          <CompanyPanel companyId={c.company_id ?? ''} />
          <Cards contactId={c.id} key={`cards-${changes}`} />
        </div>
      </div>
      <Timeline key={`timeline-${changes}`} keyId={c.id} fetchPage={(cursor, signal) => contactsApi.timeline(c.id, cursor, signal)} />
      <CallHistory contactId={c.id} />
      <Requests contactId={c.id} key={`requests-${changes}`} />
      <Merges contactId={c.id} key={`merges-${changes}`} onUndone={() => setChanges((n) => n + 1)} />
    </article>
  );
}

function NameHead({ contact, onSaved }: { contact: Contact; onSaved: (c: Contact) => void }) {
  const { t } = useContactsI18n();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(contact.name);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSaved(await contactsApi.updateContact(contact.id, { name: name.trim() }, contact.version));
      setEditing(false);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (!editing)
    return (
      <div className="page-head">
        <h1 data-testid="contact-name">{contact.name || <span className="muted">{t('journal.noName')}</span>}</h1>
        <button
          type="button"
          className="button-secondary"
          data-testid="contact-rename"
          onClick={() => {
            setName(contact.name);
            setEditing(true);
          }}
        >
          {t('contacts.contact.rename')}
        </button>
      </div>
    );
  return (
    <form className="page-head" onSubmit={save} data-testid="rename-form">
      <label className="visually-hidden" htmlFor="contact-name-input">
        {t('contacts.col.name')}
      </label>
      <input id="contact-name-input" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} data-testid="contact-name-input" autoFocus />
      <button type="submit" className="button-primary" disabled={busy} data-testid="contact-name-save">
        {t('settings.save')}
      </button>
      <button type="button" className="button-secondary" onClick={() => setEditing(false)}>
        {t('contacts.cancel')}
      </button>
      {error !== null && <ErrorMessage error={error} />}
    </form>
  );
}

function Provenance({ point }: { point: ContactPoint }) {
  const { tEnumContacts } = useContactsI18n();
  const p = point.provenance;
  if (!p?.kind || p.kind === 'unspecified') return <span className="muted">—</span>;
  const label = tEnumContacts('provenance', p.kind);
  if (p.kind === 'request' && p.ref_id) return <Link to={`/requests/${p.ref_id}`}>{label}</Link>;
  if (p.kind === 'import' && p.ref_id) return <Link to={`/imports/${p.ref_id}`}>{label}</Link>;
  return <span>{label}</span>;
}

function Points({ contact, onChanged }: { contact: Contact; onChanged: (c: Contact) => void }) {
  const { t, tEnumContacts } = useContactsI18n();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState('');

  const act = async (pointId: string, call: () => Promise<unknown>) => {
    setBusy(pointId);
    setError(null);
    try {
      await call();
      onChanged(await contactsApi.getContact(contact.id));
    } catch (err) {
      setError(err);
    } finally {
      setBusy('');
    }
  };

  return (
    <section className="panel" aria-labelledby="points-title">
      <h2 id="points-title">{t('contacts.points.title')}</h2>
      {contact.points.length === 0 ? (
        <p className="muted">{t('contacts.points.empty')}</p>
      ) : (
        <ul className="points" data-testid="points">
          {contact.points.map((p) => (
            <li key={p.id} className="point" data-testid="point" data-type={p.type} data-value={p.value}>
              <div className="point-main">
                <span className="muted point-type">{tEnumContacts('pointType', p.type)}</span>
                <PointLabel point={p} />
                <VerificationBadge verification={p.verification} />
                {p.type === 'phone' && <CallButton phone={p.value} contactId={contact.id} />}
              </div>
              <div className="point-meta muted">
                {t('contacts.points.source')}: <Provenance point={p} />
              </div>
              <div className="point-actions">
                <button
                  type="button"
                  className="button-secondary"
                  disabled={busy === p.id}
                  data-testid="point-verify"
                  onClick={() => act(p.id, () => contactsApi.setVerification(contact.id, p.id, p.verification === 'verified' ? 'unverified' : 'verified'))}
                >
                  {p.verification === 'verified' ? t('contacts.points.unverify') : t('contacts.points.verify')}
                </button>
                <button
                  type="button"
                  className="button-secondary"
                  disabled={busy === p.id}
                  data-testid="point-remove"
                  onClick={() => window.confirm(t('contacts.points.confirmRemove', { value: p.value })) && act(p.id, () => contactsApi.removePoint(contact.id, p.id))}
                >
                  {t('contacts.points.remove')}
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {error !== null && <ErrorMessage error={error} />}
      <AddPoint contact={contact} onAdded={onChanged} />
    </section>
  );
}

function AddPoint({ contact, onAdded }: { contact: Contact; onAdded: (c: Contact) => void }) {
  const { t, tEnumContacts } = useContactsI18n();
  const [type, setType] = useState<PointType>('phone');
  const [network, setNetwork] = useState<SocialNetwork>('telegram');
  const [value, setValue] = useState('');
  const [invalid, setInvalid] = useState('');
  const [owner, setOwner] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setInvalid('');
    setOwner('');
    setError(null);
    if (!value.trim()) return setInvalid(t('contacts.points.required'));
    setBusy(true);
    try {
      onAdded(await contactsApi.addPoint(contact.id, { type, value: value.trim(), ...(type === 'social' ? { network } : {}) }));
      setValue('');
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && ownerOf(err.problem)) setOwner(ownerOf(err.problem));
      else if (err instanceof ApiError && err.status === 400 && err.problem.errors?.length) setInvalid(err.problem.errors.map((v) => v.message).join('; '));
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="add-point" onSubmit={submit} noValidate data-testid="add-point">
      <h3>{t('contacts.points.add')}</h3>
      <div className="inline-fields">
        <select aria-label={t('contacts.points.type')} value={type} onChange={(e) => setType(e.target.value as PointType)} data-testid="add-point-type">
          {(['phone', 'email', 'social'] as const).map((p) => (
            <option key={p} value={p}>
              {tEnumContacts('pointType', p)}
            </option>
          ))}
        </select>
        {type === 'social' && (
          <select aria-label={t('contacts.points.network')} value={network} onChange={(e) => setNetwork(e.target.value as SocialNetwork)} data-testid="add-point-network">
            {SOCIAL_NETWORKS.map((n) => (
              <option key={n} value={n}>
                {tEnumContacts('network', n)}
              </option>
            ))}
          </select>
        )}
        <input aria-label={t('contacts.points.value')} value={value} aria-invalid={invalid || owner ? true : undefined} onChange={(e) => setValue(e.target.value)} data-testid="add-point-value" />
        <button type="submit" className="button-primary" disabled={busy} data-testid="add-point-submit">
          {t('contacts.points.addButton')}
        </button>
      </div>
      {owner ? (
        <p className="field-error" role="alert" data-testid="add-point-owned">
          {t(`contacts.new.owned.${type}`)} <Link to={`/contacts/${owner}`}>{t('contacts.new.ownerLink')}</Link>
        </p>
      ) : (
        <p className="field-error" role={invalid ? 'alert' : undefined} data-testid="add-point-error">
          {invalid}
        </p>
      )}
      {error !== null && <ErrorMessage error={error} />}
    </form>
  );
}

function CompanyPanel({ companyId }: { companyId: string }) {
  const { t } = useContactsI18n();
  const [company, setCompany] = useState<Company | null>(null);
  useEffect(() => {
    if (!companyId) return;
    const ctl = new AbortController();
    contactsApi.getCompany(companyId, ctl.signal).then(setCompany, () => undefined);
    return () => ctl.abort();
  }, [companyId]);
  return (
    <section className="panel" aria-labelledby="company-title">
      <h2 id="company-title">{t('contacts.company.title')}</h2>
      {companyId ? (
        <Link to={`/companies/${companyId}`} data-testid="contact-company">
          {company?.name || companyId}
        </Link>
      ) : (
        <p className="muted">{t('contacts.company.none')}</p>
      )}
    </section>
  );
}

export function CardsTable({ cards }: { cards: ClientCard[] }) {
  const { t, tEnumContacts } = useContactsI18n();
  return (
    <table className="table compact" data-testid="cards-table">
      <thead>
        <tr>
          <th scope="col">{t('contacts.card.state')}</th>
          <th scope="col">{t('contacts.card.kind')}</th>
          <th scope="col">{t('contacts.card.owner')}</th>
          <th scope="col">{t('contacts.card.name')}</th>
        </tr>
      </thead>
      <tbody>
        {cards.map((card) => (
          <tr key={card.id} data-testid="card-row" data-id={card.id}>
            <td data-label={t('contacts.card.state')}>
              <Link to={`/client-cards/${card.id}`}>
                <span className={`badge card-${card.state}`}>{tEnumContacts('cardState', card.state)}</span>
              </Link>
            </td>
            <td data-label={t('contacts.card.kind')}>{tEnumContacts('cardKind', card.kind)}</td>
            <td data-label={t('contacts.card.owner')}>{card.owner_id ? <code>{card.owner_id.slice(-8)}</code> : <span className="muted">{t('contacts.card.noOwner')}</span>}</td>
            <td data-label={t('contacts.card.name')}>
              <Link to={`/client-cards/${card.id}`}>{card.display_name || t('journal.noName')}</Link>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Cards({ contactId }: { contactId: string }) {
  const { t } = useContactsI18n();
  const [cards, setCards] = useState<ClientCard[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const ctl = new AbortController();
    contactsApi.listCards({ contact_id: contactId }, null, ctl.signal).then(
      (p) => setCards(p.items),
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [contactId]);
  return (
    <section className="panel" aria-labelledby="cards-title" data-testid="contact-cards">
      <h2 id="cards-title">{t('contacts.cards.title')}</h2>
      {error !== null && <ErrorMessage error={error} />}
      {cards && cards.length === 0 && <p className="muted">{t('contacts.cards.empty')}</p>}
      {cards && cards.length > 0 && <CardsTable cards={cards} />}
    </section>
  );
}

function Requests({ contactId }: { contactId: string }) {
  const { t, tEnum, formatDateTime } = useContactsI18n();
  const [requests, setRequests] = useState<CrmRequest[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const ctl = new AbortController();
    contactsApi.contactRequests(contactId, ctl.signal).then(
      (p) => setRequests(p.items),
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [contactId]);
  return (
    <section className="panel" aria-labelledby="requests-title" data-testid="contact-requests">
      <h2 id="requests-title">{t('contacts.requests.title')}</h2>
      {error !== null && <ErrorMessage error={error} />}
      {requests && requests.length === 0 && <p className="muted">{t('journal.empty')}</p>}
      {requests && requests.length > 0 && (
        <ul className="plain-list">
          {requests.map((r) => (
            <li key={r.id} data-testid="contact-request">
              <time dateTime={r.created_at} className="muted">
                {formatDateTime(r.created_at, 'short')}
              </time>{' '}
              <Link to={`/requests/${r.id}`}>
                {tEnum('channel', r.channel)}
                {r.message ? `: ${r.message.slice(0, 80)}` : ''}
              </Link>{' '}
              <span className={`badge state state-${r.state}`}>{tEnum('state', r.state)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Merges({ contactId, onUndone }: { contactId: string; onUndone: () => void }) {
  const { t, formatDateTime } = useContactsI18n();
  const [merges, setMerges] = useState<Merge[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const load = useCallback(
    (signal?: AbortSignal) =>
      contactsApi.merges(contactId, signal).then(
        (m) => setMerges(m),
        (err: unknown) => !signal?.aborted && setError(err),
      ),
    [contactId],
  );
  useEffect(() => {
    const ctl = new AbortController();
    void load(ctl.signal);
    return () => ctl.abort();
  }, [load]);

  const undo = async (m: Merge) => {
    setBusy(true);
    setError(null);
    try {
      await contactsApi.undoMerge(m.id);
      onUndone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (!merges?.length && error === null) return null;
  return (
    <section className="panel" aria-labelledby="merges-title" data-testid="contact-merges">
      <h2 id="merges-title">{t('contacts.merges.title')}</h2>
      {error !== null && <ErrorMessage error={error} />}
      <ul className="plain-list">
        {merges?.map((m) => {
          const other = m.survivor_id === contactId ? m.loser_id : m.survivor_id;
          return (
            <li key={m.id} data-testid="merge">
              <time dateTime={m.created_at} className="muted">
                {formatDateTime(m.created_at, 'short')}
              </time>{' '}
              {m.survivor_id === contactId ? t('contacts.merges.absorbed') : t('contacts.merges.mergedInto')} <Link to={`/contacts/${other}`}>{t('contacts.merges.other')}</Link>{' '}
              {m.undone_at ? (
                <span className="badge">{t('contacts.merges.undone')}</span>
              ) : (
                <button type="button" className="button-secondary" disabled={busy} onClick={() => undo(m)} data-testid="merge-undo">
                  {t('contacts.merges.undo')}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/**
 * The contact list: search by name or any point (a phone typed any way: the server matches its digits),
 * cursor pages, a "new contact" form with field errors (a point owned by someone else links to the
 * owner) and the CSV export of what is listed. The search is kept in the URL (`?q=`).
 */
import { useCallback, useState, type FormEvent } from 'react';
import { ApiError } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Link, navigate, useLocation } from '../../router';
import { contactsApi, exportUrl, ownerOf, SOCIAL_NETWORKS, type Contact, type PointInput, type SocialNetwork } from './api';
import { ListFoot, newKey, pointText, SearchBox, SectionTabs, useDraft, usePaged, useContactsI18n, VerificationBadge } from './common';

export function ContactsPage() {
  const { t, formatDateTime } = useContactsI18n();
  const location = useLocation();
  const q = (location.search.get('q') ?? '').slice(0, 200);
  const fetchPage = useCallback((cursor: string | null, signal?: AbortSignal) => contactsApi.listContacts(q, cursor, signal), [q]);
  const list = usePaged(fetchPage, q);
  // A half-typed new contact (a draft) reopens its form after a reload.
  const [creating, setCreating] = useState(() => hasDraft('contact.new.'));
  const onSearch = useCallback((v: string) => navigate(v ? `/contacts?q=${encodeURIComponent(v)}` : '/contacts', { replace: true }), []);

  return (
    <section data-testid="contacts-page">
      <SectionTabs />
      <div className="page-head">
        <h1>{t('contacts.list.title')}</h1>
        <button type="button" className="button-primary" onClick={() => setCreating((v) => !v)} aria-expanded={creating} data-testid="contact-new">
          {t('contacts.new.open')}
        </button>
        <a className="button-secondary button-link" href={exportUrl('contacts', q)} download data-testid="contacts-export">
          {t('contacts.export')}
        </a>
      </div>
      {creating && <NewContactForm onCreated={(c) => navigate(`/contacts/${c.id}`)} />}
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <SearchBox value={q} onSearch={onSearch} label={t('journal.search')} placeholder={t('contacts.list.searchPlaceholder')} testId="contacts-search" />
      </form>
      <div className="table-wrap" aria-busy={list.status === 'loading'}>
        <table className="table" data-testid="contacts-table">
          <caption className="visually-hidden">{t('contacts.list.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('contacts.col.name')}</th>
              <th scope="col">{t('contacts.col.points')}</th>
              <th scope="col" className="num">
                {t('contacts.col.requests')}
              </th>
              <th scope="col">{t('contacts.col.created')}</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((c) => (
              <tr key={c.id} data-testid="contact-row" data-id={c.id}>
                <td data-label={t('contacts.col.name')} className="cell-name">
                  <Link to={`/contacts/${c.id}`} className={c.name ? undefined : 'muted'}>
                    {c.name || t('journal.noName')}
                  </Link>
                </td>
                <td data-label={t('contacts.col.points')}>
                  <ul className="inline-list">
                    {c.points.map((p) => (
                      <li key={p.id}>
                        {pointText(p)} {p.verification === 'verified' && <VerificationBadge verification={p.verification} />}
                      </li>
                    ))}
                  </ul>
                </td>
                <td data-label={t('contacts.col.requests')} className="num">
                  {c.request_count}
                </td>
                <td data-label={t('contacts.col.created')} className="nowrap">
                  <time dateTime={c.created_at}>{formatDateTime(c.created_at, 'short')}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ListFoot list={list} empty={q ? t('contacts.list.emptyFiltered') : t('contacts.list.empty')} testId="contacts" />
    </section>
  );
}

function hasDraft(prefix: string): boolean {
  try {
    return Object.keys(window.sessionStorage).some((k) => k.startsWith(`crm.draft.${prefix}`));
  } catch {
    return false;
  }
}

type FieldName = 'name' | 'phone' | 'email' | 'social';

/** The form's field a problem's `errors[].field` (`name`, `points.1.value`, `points[0]`) is about. */
function fieldOf(field: string, order: FieldName[]): FieldName | null {
  if (/^name\b/.test(field)) return 'name';
  const m = /^points[.[](\d+)/.exec(field);
  if (m) return order[Number(m[1])] ?? null;
  return null;
}

export function NewContactForm({ onCreated }: { onCreated: (c: Contact) => void }) {
  const { t, tEnumContacts } = useContactsI18n();
  const [name, setName, clearName] = useDraft('contact.new.name');
  const [phone, setPhone, clearPhone] = useDraft('contact.new.phone');
  const [email, setEmail, clearEmail] = useDraft('contact.new.email');
  const [network, setNetwork] = useState<SocialNetwork>('telegram');
  const [handle, setHandle, clearHandle] = useDraft('contact.new.handle');
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [owner, setOwner] = useState<{ field: FieldName; id: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState(newKey);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setOwner(null);
    const points: PointInput[] = [];
    const order: FieldName[] = [];
    if (phone.trim()) {
      points.push({ type: 'phone', value: phone.trim() });
      order.push('phone');
    }
    if (email.trim()) {
      points.push({ type: 'email', value: email.trim() });
      order.push('email');
    }
    if (handle.trim()) {
      points.push({ type: 'social', value: handle.trim(), network });
      order.push('social');
    }
    const local: Partial<Record<FieldName, string>> = {};
    if (!name.trim() && points.length === 0) local.name = t('contacts.new.nameOrPoint');
    if (name.trim().length > 200) local.name = t('contacts.new.tooLong', { max: 200 });
    if (email.trim() && !/^[^\s@]+@[^\s@]+$/.test(email.trim())) local.email = t('contacts.new.badEmail');
    setErrors(local);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      const c = await contactsApi.createContact({ name: name.trim(), points }, key);
      setKey(newKey());
      for (const clear of [clearName, clearPhone, clearEmail, clearHandle]) clear();
      onCreated(c);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && ownerOf(err.problem)) {
        // The problem names the point (`errors[].field`); without it, the first point given.
        const field = err.problem.errors?.map((v) => fieldOf(v.field, order)).find((f) => f !== null) ?? order[0] ?? 'phone';
        setOwner({ field, id: ownerOf(err.problem) });
        setKey(newKey());
      } else if (err instanceof ApiError && err.status === 400 && err.problem.errors?.length) {
        const next: Partial<Record<FieldName, string>> = {};
        const rest = err.problem.errors.filter((v) => {
          const f = fieldOf(v.field, order);
          if (f) next[f] = v.message;
          return !f;
        });
        setErrors(next);
        if (rest.length) setError(err);
        setKey(newKey());
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (f: FieldName) =>
    owner?.field === f ? (
      <p className="field-error" role="alert" data-testid={`new-${f}-owned`}>
        {t(`contacts.new.owned.${f}`)} <Link to={`/contacts/${owner.id}`}>{t('contacts.new.ownerLink')}</Link>
      </p>
    ) : (
      <p className="field-error" role={errors[f] ? 'alert' : undefined} data-testid={`new-${f}-error`}>
        {errors[f] ?? ''}
      </p>
    );

  return (
    <form className="panel form-grid" onSubmit={submit} noValidate data-testid="contact-form" aria-labelledby="new-contact-title">
      <h2 id="new-contact-title">{t('contacts.new.title')}</h2>
      <div className="field">
        <label htmlFor="new-name">{t('contacts.col.name')}</label>
        <input id="new-name" value={name} maxLength={250} aria-invalid={errors.name ? true : undefined} data-testid="new-name" onChange={(e) => setName(e.target.value)} />
        {fieldError('name')}
      </div>
      <div className="field">
        <label htmlFor="new-phone">{t('contacts.pointType.phone')}</label>
        <input id="new-phone" type="tel" value={phone} aria-invalid={errors.phone || owner?.field === 'phone' ? true : undefined} data-testid="new-phone" onChange={(e) => setPhone(e.target.value)} />
        {fieldError('phone')}
      </div>
      <div className="field">
        <label htmlFor="new-email">{t('contacts.pointType.email')}</label>
        <input id="new-email" type="email" value={email} aria-invalid={errors.email || owner?.field === 'email' ? true : undefined} data-testid="new-email" onChange={(e) => setEmail(e.target.value)} />
        {fieldError('email')}
      </div>
      <div className="field">
        <label htmlFor="new-handle">{t('contacts.pointType.social')}</label>
        <div className="inline-fields">
          <select aria-label={t('contacts.points.network')} value={network} onChange={(e) => setNetwork(e.target.value as SocialNetwork)} data-testid="new-network">
            {SOCIAL_NETWORKS.map((n) => (
              <option key={n} value={n}>
                {tEnumContacts('network', n)}
              </option>
            ))}
          </select>
          <input id="new-handle" value={handle} aria-invalid={errors.social || owner?.field === 'social' ? true : undefined} data-testid="new-handle" onChange={(e) => setHandle(e.target.value)} />
        </div>
        {fieldError('social')}
      </div>
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={busy} data-testid="new-submit">
          {busy ? t('comments.busy') : t('contacts.new.submit')}
        </button>
      </div>
      {error !== null && <ErrorMessage error={error} />}
    </form>
  );
}

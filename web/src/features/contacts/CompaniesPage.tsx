/**
 * Companies: the list (search by name or INN, pages, export) with a "new company" form, and one
 * company's page (name, INN, addresses, its contacts with their roles, its client cards).
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Link, navigate, useLocation } from '../../router';
import { contactsApi, exportUrl, type ClientCard, type Company } from './api';
import { ListFoot, newKey, SearchBox, SectionTabs, usePaged, useContactsI18n } from './common';
import { CardsTable } from './ContactPage';

export function CompaniesPage() {
  const { t } = useContactsI18n();
  const location = useLocation();
  const q = (location.search.get('q') ?? '').slice(0, 200);
  const fetchPage = useCallback((cursor: string | null, signal?: AbortSignal) => contactsApi.listCompanies(q, cursor, signal), [q]);
  const list = usePaged(fetchPage, q);
  const [creating, setCreating] = useState(false);
  const onSearch = useCallback((v: string) => navigate(v ? `/companies?q=${encodeURIComponent(v)}` : '/companies', { replace: true }), []);
  return (
    <section data-testid="companies-page">
      <SectionTabs />
      <div className="page-head">
        <h1>{t('contacts.companies.title')}</h1>
        <button type="button" className="button-primary" onClick={() => setCreating((v) => !v)} aria-expanded={creating} data-testid="company-new">
          {t('contacts.companies.new')}
        </button>
        <a className="button-secondary button-link" href={exportUrl('companies', q)} download>
          {t('contacts.export')}
        </a>
      </div>
      {creating && <NewCompanyForm onCreated={(c) => navigate(`/companies/${c.id}`)} />}
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <SearchBox value={q} onSearch={onSearch} label={t('journal.search')} placeholder={t('contacts.companies.searchPlaceholder')} testId="companies-search" />
      </form>
      <div className="table-wrap">
        <table className="table" data-testid="companies-table">
          <thead>
            <tr>
              <th scope="col">{t('contacts.companies.name')}</th>
              <th scope="col">{t('contacts.companies.taxId')}</th>
              <th scope="col" className="num">
                {t('contacts.companies.contacts')}
              </th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((c) => (
              <tr key={c.id} data-testid="company-row">
                <td data-label={t('contacts.companies.name')} className="cell-name">
                  <Link to={`/companies/${c.id}`}>{c.name}</Link>
                </td>
                <td data-label={t('contacts.companies.taxId')}>{c.tax_id || <span className="muted">{t('empty')}</span>}</td>
                <td data-label={t('contacts.companies.contacts')} className="num">
                  {c.contacts.length}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ListFoot list={list} empty={t('contacts.companies.empty')} testId="companies" />
    </section>
  );
}

function NewCompanyForm({ onCreated }: { onCreated: (c: Company) => void }) {
  const { t } = useContactsI18n();
  const [name, setName] = useState('');
  const [taxId, setTaxId] = useState('');
  const [address, setAddress] = useState('');
  const [errors, setErrors] = useState<{ name?: string; tax_id?: string }>({});
  const [owner, setOwner] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState(newKey);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setOwner('');
    const local: { name?: string; tax_id?: string } = {};
    if (!name.trim()) local.name = t('contacts.companies.nameRequired');
    if (taxId.trim() && !/^(\d{10}|\d{12})$/.test(taxId.trim())) local.tax_id = t('contacts.companies.taxIdDigits');
    setErrors(local);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      const c = await contactsApi.createCompany({ name: name.trim(), tax_id: taxId.trim() || undefined, addresses: address.trim() ? [{ kind: 'legal', text: address.trim() }] : [] }, key);
      onCreated(c);
    } catch (err) {
      setKey(newKey());
      const p = err instanceof ApiError ? (err.problem as { owner_company_id?: string; errors?: { field: string; message: string }[] }) : null;
      if (err instanceof ApiError && err.status === 409 && p?.owner_company_id) setOwner(p.owner_company_id);
      else if (err instanceof ApiError && err.status === 400 && p?.errors?.length) {
        const next: { name?: string; tax_id?: string } = {};
        for (const v of p.errors) {
          if (v.field.startsWith('tax_id')) next.tax_id = v.message;
          else if (v.field.startsWith('name')) next.name = v.message;
        }
        setErrors(next);
        if (!next.name && !next.tax_id) setError(err);
      } else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel form-grid" onSubmit={submit} noValidate data-testid="company-form">
      <h2>{t('contacts.companies.new')}</h2>
      <div className="field">
        <label htmlFor="co-name">{t('contacts.companies.name')}</label>
        <input id="co-name" value={name} maxLength={300} aria-invalid={errors.name ? true : undefined} onChange={(e) => setName(e.target.value)} data-testid="company-name" />
        <p className="field-error">{errors.name ?? ''}</p>
      </div>
      <div className="field">
        <label htmlFor="co-inn">{t('contacts.companies.taxId')}</label>
        <input id="co-inn" inputMode="numeric" value={taxId} aria-invalid={errors.tax_id || owner ? true : undefined} onChange={(e) => setTaxId(e.target.value)} data-testid="company-inn" />
        {owner ? (
          <p className="field-error" role="alert">
            {t('contacts.companies.taxIdOwned')} <Link to={`/companies/${owner}`}>{t('contacts.new.ownerLink')}</Link>
          </p>
        ) : (
          <p className="field-error" data-testid="company-inn-error">
            {errors.tax_id ?? ''}
          </p>
        )}
      </div>
      <div className="field">
        <label htmlFor="co-address">{t('contacts.companies.address')}</label>
        <input id="co-address" value={address} maxLength={500} onChange={(e) => setAddress(e.target.value)} />
      </div>
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={busy} data-testid="company-submit">
          {t('contacts.new.submit')}
        </button>
      </div>
      {error !== null && <ErrorMessage error={error} />}
    </form>
  );
}

export function CompanyPage({ id }: { id: string }) {
  const { t } = useContactsI18n();
  const [company, setCompany] = useState<Company | null>(null);
  const [cards, setCards] = useState<ClientCard[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [missing, setMissing] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    contactsApi.getCompany(id, ctl.signal).then(setCompany, (err: unknown) => {
      if (ctl.signal.aborted) return;
      if (err instanceof ApiError && (err.status === 404 || err.status === 400)) setMissing(true);
      else setError(err);
    });
    contactsApi.listCards({ company_id: id }, null, ctl.signal).then(
      (p) => setCards(p.items),
      () => undefined,
    );
    return () => ctl.abort();
  }, [id, reload]);

  const back = (
    <p className="back">
      <Link to="/companies">{t('contacts.companies.back')}</Link>
    </p>
  );
  if (missing)
    return (
      <>
        {back}
        <section className="panel" data-testid="company-missing">
          <h1>{t('contacts.companies.notFound')}</h1>
        </section>
      </>
    );
  if (error !== null)
    return (
      <>
        {back}
        <ErrorMessage error={error} onRetry={() => setReload((n) => n + 1)} />
      </>
    );
  if (!company)
    return (
      <>
        {back}
        <p className="page-status" role="status">
          {t('app.loading')}
        </p>
      </>
    );
  return (
    <article className="request" data-testid="company-page">
      {back}
      <div className="page-head">
        <h1 data-testid="company-title">{company.name}</h1>
      </div>
      <div className="grid grid-2">
        <section className="panel">
          <dl className="dl">
            <div className="dl-row">
              <dt>{t('contacts.companies.taxId')}</dt>
              <dd data-testid="company-tax-id">{company.tax_id || <span className="muted">{t('empty')}</span>}</dd>
            </div>
            {company.addresses.map((a, i) => (
              <div className="dl-row" key={i}>
                <dt>{t('contacts.companies.address')} ({a.kind})</dt>
                <dd className="break">{a.text}</dd>
              </div>
            ))}
          </dl>
        </section>
        <section className="panel" aria-labelledby="co-contacts">
          <h2 id="co-contacts">{t('contacts.companies.contacts')}</h2>
          {company.contacts.length === 0 ? (
            <p className="muted">{t('contacts.list.empty')}</p>
          ) : (
            <ul className="plain-list" data-testid="company-contacts">
              {company.contacts.map((c) => (
                <li key={c.contact_id}>
                  <Link to={`/contacts/${c.contact_id}`}>{c.contact_name || t('journal.noName')}</Link>
                  {c.role && <span className="muted"> — {c.role}</span>}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      {cards.length > 0 && (
        <section className="panel">
          <h2>{t('contacts.cards.title')}</h2>
          <CardsTable cards={cards} />
        </section>
      )}
    </article>
  );
}

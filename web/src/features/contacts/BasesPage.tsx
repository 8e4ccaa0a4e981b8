/**
 * The bases — queries, never flags: cold (contacts with no request and no deal of their own), free
 * (cards with a finished deal cycle and no open deal), disconnected (former clients). One tab each,
 * paged and searchable, with the CSV export of the tab. `/bases?base=free&q=…`.
 */
import { useCallback } from 'react';
import { Link, navigate, useLocation } from '../../router';
import { BASES, contactsApi, exportUrl, isContact, type BaseName } from './api';
import { ListFoot, pointText, SearchBox, SectionTabs, usePaged, useContactsI18n } from './common';

export function BasesPage() {
  const { t, tEnumContacts, formatDateTime } = useContactsI18n();
  const location = useLocation();
  const asked = location.search.get('base');
  const base: BaseName = BASES.includes(asked as BaseName) ? (asked as BaseName) : 'cold';
  const q = (location.search.get('q') ?? '').slice(0, 200);
  const fetchPage = useCallback((cursor: string | null, signal?: AbortSignal) => contactsApi.listBase(base, q, cursor, signal), [base, q]);
  const list = usePaged(fetchPage, `${base}:${q}`);
  const go = useCallback((b: BaseName, query: string) => navigate(`/bases?base=${b}${query ? `&q=${encodeURIComponent(query)}` : ''}`, { replace: true }), []);
  const onSearch = useCallback((v: string) => go(base, v), [go, base]);

  return (
    <section data-testid="bases-page">
      <SectionTabs />
      <div className="page-head">
        <h1>{t('contacts.bases.title')}</h1>
        <a className="button-secondary button-link" href={exportUrl(base, q)} download data-testid="base-export">
          {t('contacts.export')}
        </a>
      </div>
      <div className="tabs subtabs" role="tablist" aria-label={t('contacts.bases.title')}>
        {BASES.map((b) => (
          <button key={b} type="button" role="tab" aria-selected={b === base} className={b === base ? 'tab-active' : undefined} onClick={() => go(b, q)} data-testid={`base-${b}`}>
            {tEnumContacts('base', b)}
          </button>
        ))}
      </div>
      <p className="muted">{t(`contacts.bases.hint.${base}`)}</p>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <SearchBox value={q} onSearch={onSearch} label={t('journal.search')} placeholder={t('contacts.list.searchPlaceholder')} testId="base-search" />
      </form>
      <div className="table-wrap" role="tabpanel">
        <table className="table" data-testid="base-table">
          <thead>
            <tr>
              <th scope="col">{t('contacts.col.name')}</th>
              <th scope="col">{base === 'cold' ? t('contacts.col.points') : t('contacts.card.state')}</th>
              <th scope="col">{t('contacts.col.created')}</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((item) =>
              isContact(item) ? (
                <tr key={item.id} data-testid="base-row">
                  <td data-label={t('contacts.col.name')} className="cell-name">
                    <Link to={`/contacts/${item.id}`}>{item.name || t('journal.noName')}</Link>
                  </td>
                  <td data-label={t('contacts.col.points')}>{item.points.map(pointText).join(', ')}</td>
                  <td data-label={t('contacts.col.created')}>{formatDateTime(item.created_at, 'short')}</td>
                </tr>
              ) : (
                <tr key={item.id} data-testid="base-row">
                  <td data-label={t('contacts.col.name')} className="cell-name">
                    <Link to={`/client-cards/${item.id}`}>{item.display_name || t('journal.noName')}</Link>
                  </td>
                  <td data-label={t('contacts.card.state')}>
                    <span className={`badge card-${item.state}`}>{tEnumContacts('cardState', item.state)}</span>{' '}
                    {t('contacts.card.dealCounts', { open: item.open_deals, won: item.won_deals, lost: item.lost_deals })}
                  </td>
                  <td data-label={t('contacts.col.created')}>{formatDateTime(item.updated_at || item.created_at, 'short')}</td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      </div>
      <ListFoot list={list} empty={t('contacts.bases.empty')} testId="base" />
    </section>
  );
}

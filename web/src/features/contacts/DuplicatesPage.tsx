/**
 * Probable duplicates to resolve: each pair side by side with its points; "Merge into this one" keeps
 * the chosen contact (the survivor) and merges the other into it, "Not a duplicate" dismisses the pair.
 * After a merge a toast offers "Undo".
 */
import { useCallback, useState } from 'react';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Link } from '../../router';
import { contactsApi, type Contact, type Duplicate, type Merge } from './api';
import { ListFoot, PointLabel, SectionTabs, Toast, usePaged, useContactsI18n, VerificationBadge } from './common';

function Side({ contact, onKeep, busy }: { contact: Contact; onKeep: () => void; busy: boolean }) {
  const { t, formatDateTime } = useContactsI18n();
  return (
    <div className="dup-side" data-testid="dup-side" data-id={contact.id}>
      <h3>
        <Link to={`/contacts/${contact.id}`}>{contact.name || t('journal.noName')}</Link>
      </h3>
      <ul className="plain-list">
        {contact.points.map((p) => (
          <li key={p.id}>
            <PointLabel point={p} /> <VerificationBadge verification={p.verification} />
          </li>
        ))}
      </ul>
      <p className="muted">
        {t('contacts.col.created')}: {formatDateTime(contact.created_at, 'short')} · {t('contacts.col.requests')}: {contact.request_count}
      </p>
      <button type="button" className="button-primary" disabled={busy} onClick={onKeep} data-testid="dup-keep">
        {t('contacts.duplicates.keep')}
      </button>
    </div>
  );
}

export function DuplicatesPage() {
  const { t, tEnumContacts } = useContactsI18n();
  const fetchPage = useCallback((cursor: string | null, signal?: AbortSignal) => contactsApi.listDuplicates(cursor, signal), []);
  const list = usePaged(fetchPage, 'open');
  const [busy, setBusy] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [merged, setMerged] = useState<Merge | null>(null);

  const resolve = async (d: Duplicate, call: () => Promise<unknown>) => {
    setBusy(d.id);
    setError(null);
    try {
      await call();
      list.setItems((items) => items.filter((x) => x.id !== d.id));
    } catch (err) {
      setError(err);
    } finally {
      setBusy('');
    }
  };

  const undo = async (m: Merge) => {
    setError(null);
    try {
      await contactsApi.undoMerge(m.id);
      setMerged(null);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section data-testid="duplicates-page">
      <SectionTabs />
      <div className="page-head">
        <h1>{t('contacts.duplicates.title')}</h1>
      </div>
      {error !== null && <ErrorMessage error={error} />}
      {list.items.map((d) => (
        <section key={d.id} className="panel dup" data-testid="duplicate" data-id={d.id}>
          <p className="muted">{tEnumContacts('duplicateReason', d.reason)}</p>
          <div className="dup-pair">
            <Side contact={d.first} busy={busy === d.id} onKeep={() => resolve(d, () => contactsApi.merge(d.first.id, d.second.id).then((r) => setMerged(r.merge)))} />
            <Side contact={d.second} busy={busy === d.id} onKeep={() => resolve(d, () => contactsApi.merge(d.second.id, d.first.id).then((r) => setMerged(r.merge)))} />
          </div>
          <button type="button" className="button-secondary" disabled={busy === d.id} onClick={() => resolve(d, () => contactsApi.dismissDuplicate(d.id))} data-testid="dup-dismiss">
            {t('contacts.duplicates.dismiss')}
          </button>
        </section>
      ))}
      <ListFoot list={list} empty={t('contacts.duplicates.empty')} testId="duplicates" />
      {merged && (
        <Toast onClose={() => setMerged(null)}>
          {t('contacts.duplicates.merged')}{' '}
          <Link to={`/contacts/${merged.survivor_id}`}>{t('contacts.merges.openSurvivor')}</Link>{' '}
          <button type="button" className="button-secondary" onClick={() => undo(merged)} data-testid="toast-undo">
            {t('contacts.merges.undo')}
          </button>
        </Toast>
      )}
    </section>
  );
}

/**
 * One client card: its state with a change-state form (a reason is required), kind, owner, agent,
 * deals, the history of changes (oldest first) and the card's timeline.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Link } from '../../router';
import { CLIENT_STATES, contactsApi, type ClientCard, type ClientCardChange, type ClientState } from './api';
import { useContactsI18n, useDraft } from './common';
import { Timeline } from './Timeline';

export function ClientCardPage({ id }: { id: string }) {
  const { t, tEnumContacts } = useContactsI18n();
  const [card, setCard] = useState<ClientCard | null>(null);
  const [history, setHistory] = useState<ClientCardChange[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [missing, setMissing] = useState(false);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    Promise.all([contactsApi.getCard(id, ctl.signal), contactsApi.cardHistory(id, ctl.signal)]).then(
      ([c, h]) => {
        setCard(c);
        setHistory(h);
      },
      (err: unknown) => {
        if (ctl.signal.aborted) return;
        if (err instanceof ApiError && (err.status === 404 || err.status === 400)) setMissing(true);
        else setError(err);
      },
    );
    return () => ctl.abort();
  }, [id, version]);

  const back = card?.contact_id ? `/contacts/${card.contact_id}` : card?.company_id ? `/companies/${card.company_id}` : '/contacts';
  const head = (
    <p className="back">
      <Link to={back}>{t('contacts.card.back')}</Link>
    </p>
  );
  if (missing)
    return (
      <>
        {head}
        <section className="panel" data-testid="card-missing">
          <h1>{t('contacts.card.notFound')}</h1>
        </section>
      </>
    );
  if (error !== null)
    return (
      <>
        {head}
        <ErrorMessage error={error} onRetry={() => setVersion((n) => n + 1)} />
      </>
    );
  if (!card)
    return (
      <>
        {head}
        <p className="page-status" role="status">
          {t('app.loading')}
        </p>
      </>
    );

  return (
    <article className="request" data-testid="card-page" data-id={card.id}>
      {head}
      <div className="page-head">
        <h1>
          {t('contacts.card.title')}: {card.display_name || t('journal.noName')}
        </h1>
        <span className={`badge card-${card.state}`} data-testid="card-state">
          {tEnumContacts('cardState', card.state)}
        </span>
      </div>
      <div className="grid grid-2">
        <section className="panel">
          <dl className="dl">
            <div className="dl-row">
              <dt>{t('contacts.card.kind')}</dt>
              <dd data-testid="card-kind">{tEnumContacts('cardKind', card.kind)}</dd>
            </div>
            <div className="dl-row">
              <dt>{t('contacts.card.owner')}</dt>
              <dd>{card.owner_id ? <code>{card.owner_id}</code> : <span className="muted">{t('contacts.card.noOwner')}</span>}</dd>
            </div>
            {card.agent_card_id && (
              <div className="dl-row">
                <dt>{t('contacts.card.agent')}</dt>
                <dd>
                  <Link to={`/client-cards/${card.agent_card_id}`}>{t('contacts.card.agentLink')}</Link>
                </dd>
              </div>
            )}
            <div className="dl-row">
              <dt>{t('contacts.card.deals')}</dt>
              <dd>{t('contacts.card.dealCounts', { open: card.open_deals, won: card.won_deals, lost: card.lost_deals })}</dd>
            </div>
            <div className="dl-row">
              <dt>{card.contact_id ? t('contacts.contact.title') : t('contacts.company.title')}</dt>
              <dd>
                <Link to={back}>{card.display_name || t('journal.noName')}</Link>
              </dd>
            </div>
          </dl>
        </section>
        <StateForm
          card={card}
          onChanged={(c) => {
            setCard(c);
            setVersion((n) => n + 1);
          }}
        />
      </div>
      <section className="panel" aria-labelledby="history-title">
        <h2 id="history-title">{t('contacts.card.history')}</h2>
        <History changes={history} />
      </section>
      <Timeline key={`timeline-${version}`} keyId={card.id} fetchPage={(cursor, signal) => contactsApi.cardTimeline(card.id, cursor, signal)} />
    </article>
  );
}

function History({ changes }: { changes: ClientCardChange[] }) {
  const { t, tEnumContacts, formatDateTime } = useContactsI18n();
  if (!changes.length) return <p className="muted">{t('empty')}</p>;
  const value = (field: string, v: string) => (field === 'state' || field === 'created' ? tEnumContacts('cardState', v) : field === 'kind' ? tEnumContacts('cardKind', v) : v);
  return (
    <table className="table compact" data-testid="card-history">
      <thead>
        <tr>
          <th scope="col">{t('contacts.history.at')}</th>
          <th scope="col">{t('contacts.history.change')}</th>
          <th scope="col">{t('contacts.history.reason')}</th>
          <th scope="col">{t('contacts.history.by')}</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((c) => (
          <tr key={c.id} data-testid="history-row" data-field={c.field}>
            <td data-label={t('contacts.history.at')} className="nowrap">
              <time dateTime={c.at}>{formatDateTime(c.at, 'short')}</time>
            </td>
            <td data-label={t('contacts.history.change')}>
              {tEnumContacts('historyField', c.field)}
              {c.from_value ? `: ${value(c.field, c.from_value)} → ${value(c.field, c.to_value) || '—'}` : c.to_value ? `: ${value(c.field, c.to_value)}` : ''}
            </td>
            <td data-label={t('contacts.history.reason')} className="break">
              {c.reason || <span className="muted">{t('empty')}</span>}
            </td>
            <td data-label={t('contacts.history.by')}>{tEnumContacts('historyField', `actor_${c.actor_kind}`)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function StateForm({ card, onChanged }: { card: ClientCard; onChanged: (c: ClientCard) => void }) {
  const { t, tEnumContacts } = useContactsI18n();
  const [state, setState] = useState<ClientState>(card.state);
  const [reason, setReason, clearReason] = useDraft(`card.${card.id}.reason`);
  const [invalid, setInvalid] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (state === card.state) return setInvalid(t('contacts.card.sameState'));
    if (!reason.trim()) return setInvalid(t('contacts.card.reasonRequired'));
    if (reason.trim().length > 500) return setInvalid(t('contacts.new.tooLong', { max: 500 }));
    setInvalid('');
    setBusy(true);
    try {
      onChanged(await contactsApi.changeCardState(card.id, state, reason.trim()));
      clearReason();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel" onSubmit={submit} noValidate data-testid="card-state-form">
      <h2>{t('contacts.card.changeState')}</h2>
      <div className="field">
        <label htmlFor="card-state">{t('contacts.card.state')}</label>
        <select id="card-state" value={state} onChange={(e) => setState(e.target.value as ClientState)} data-testid="card-state-select">
          {CLIENT_STATES.map((s) => (
            <option key={s} value={s}>
              {tEnumContacts('cardState', s)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="card-reason">{t('contacts.history.reason')}</label>
        <textarea id="card-reason" rows={2} value={reason} aria-invalid={invalid ? true : undefined} onChange={(e) => setReason(e.target.value)} data-testid="card-reason" />
      </div>
      <p className="field-error" role={invalid ? 'alert' : undefined} data-testid="card-state-invalid">
        {invalid}
      </p>
      <button type="submit" className="button-primary" disabled={busy} data-testid="card-state-submit">
        {t('contacts.card.applyState')}
      </button>
      {error !== null && <ErrorMessage error={error} />}
    </form>
  );
}

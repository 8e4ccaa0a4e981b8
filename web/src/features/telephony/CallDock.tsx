/**
 * The shell's call panel, mounted for every logged-in user. On `call.ringing` for me (the server sends it
 * only to the users the call rings to) a card pops: a known client's name, company, client state, kind,
 * owner, open deals and last requests; an unknown caller's number, source and campaign. Its note field is
 * a draft kept in localStorage by call id (closing the card, reloading the page never loses it) and is
 * saved as a comment of the call's request. "Open the request" goes to the request page. `call.updated`
 * follows the call: a timer from `answered_at`, the hang-up, a transfer to a colleague or a department.
 * Minimised cards stay in a "Calls (n)" button until dismissed. After a reconnect the live calls are
 * asked for again (events sent while away are not replayed).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Me } from '../../api';
import { api } from '../../api';
import { errorText } from '../../components/ErrorMessage';
import { useI18n, type MessageKey } from '../../i18n';
import { useLiveEvents } from '../../live';
import { navigate } from '../../router';
import { teamApi, type TeamDepartment, type TeamUser } from '../settings/api';
import { callsApi, clock, isLive, loadNote, storeNote, type Call, type CallCard } from './api';

interface Pop {
  call: Call;
  card: CallCard | null;
  open: boolean;
}

/** Seconds since an ISO time (0 when none), ticking once a second while `on`. */
function useElapsed(fromIso: string | null, on: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [on]);
  return fromIso ? Math.max(0, (now - Date.parse(fromIso)) / 1000) : 0;
}

export function CallDock({ me }: { me: Me }) {
  const { t } = useI18n();
  const [pops, setPops] = useState<Pop[]>([]);
  // The calls already shown (the live events and the resync both add them; a card is loaded once).
  const known = useRef(new Set<string>());
  const dismissed = useRef(new Set<string>());
  const canRead = me.scopes.includes('calls:read');

  const loadCard = useCallback((id: string) => {
    callsApi.card(id).then(
      (card) => setPops((ps) => ps.map((p) => (p.call.id === id ? { ...p, card, call: newer(p.call, card.call) } : p))),
      () => undefined, // The pop still shows the call itself.
    );
  }, []);

  const upsert = useCallback(
    (call: Call, openIt: boolean) => {
      const isNew = !known.current.has(call.id);
      // A dismissed call's later changes (recording ready, a callback) do not bring its card back.
      if (!isNew && dismissed.current.has(call.id)) return;
      known.current.add(call.id);
      setPops((ps) => {
        const i = ps.findIndex((p) => p.call.id === call.id);
        if (i < 0) return [...ps, { call, card: null, open: openIt }];
        return ps.map((p, j) => (j === i ? { ...p, call: newer(p.call, call), open: p.open || openIt } : p));
      });
      if (isNew) loadCard(call.id);
    },
    [loadCard],
  );

  // The calls ringing to me or mine in progress, after a (re)connect.
  const resync = useCallback(() => {
    if (!canRead) return;
    callsApi.list({ live: true }, null, 20).then(
      (page) => {
        for (const c of page.items) if (c.ringing_user_ids.includes(me.subject_id) || c.user_id === me.subject_id) upsert(c, true);
      },
      () => undefined,
    );
  }, [canRead, me.subject_id, upsert]);

  useEffect(resync, [resync]);

  useLiveEvents((e) => {
    if (e.type === 'call.ringing') {
      const before = pops.find((x) => x.call.id === e.call.id);
      upsert(e.call, true);
      // A ringing call is announced again once its request (and client) is known: load the card again.
      if (before && e.call.request_id && !before.card?.request) loadCard(e.call.id);
    } else if (e.type === 'call.updated') {
      const before = pops.find((x) => x.call.id === e.call.id);
      upsert(e.call, false);
      // The request may appear after the ring: load the card again when the call gets one.
      if (before && e.call.request_id && !before.card?.request) loadCard(e.call.id);
    } else if (e.type === 'resync') resync();
  });

  if (!canRead || !pops.length) return null;
  const closed = pops.filter((p) => !p.open);
  return (
    <aside className="call-dock" data-testid="call-dock" aria-live="polite">
      {pops
        .filter((p) => p.open)
        .map((p) => (
          <CallPop
            key={p.call.id}
            me={me}
            pop={p}
            onClose={() => setPops((ps) => ps.map((x) => (x.call.id === p.call.id ? { ...x, open: false } : x)))}
            onDismiss={() => {
              dismissed.current.add(p.call.id);
              setPops((ps) => ps.filter((x) => x.call.id !== p.call.id));
            }}
          />
        ))}
      {closed.length > 0 && (
        <button type="button" className="button-secondary call-dock-reopen" data-testid="call-dock-reopen" onClick={() => setPops((ps) => ps.map((x) => ({ ...x, open: true })))}>
          {t('telephony.dock.reopen', { count: closed.length })}
        </button>
      )}
    </aside>
  );
}

/** The later of two states of a call (events may arrive out of order with the card's read). */
function newer(a: Call, b: Call): Call {
  return b.updated_at >= a.updated_at ? b : a;
}

function CallPop({ me, pop, onClose, onDismiss }: { me: Me; pop: Pop; onClose: () => void; onDismiss: () => void }) {
  const { t } = useI18n();
  const { call, card } = pop;
  const [note, setNote] = useState(() => loadNote(call.id));
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState('');
  const live = isLive(call);
  const talking = useElapsed(call.answered_at, call.status === 'answered');
  const requestId = call.request_id ?? card?.request?.id ?? null;
  const contact = card?.contact ?? null;
  const phone = call.direction === 'outbound' ? call.callee : call.caller;

  const changeNote = (text: string) => {
    setNote(text);
    setSaved(false);
    storeNote(call.id, text);
  };

  const save = async () => {
    if (!requestId || !note.trim()) return;
    setSaving(true);
    setError('');
    try {
      await api.addComment(requestId, note.trim());
      storeNote(call.id, '');
      setNote('');
      setSaved(true);
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setSaving(false);
    }
  };

  const statusLine = useMemo(() => {
    if (call.status === 'ringing') return t('telephony.dock.ringing');
    if (call.status === 'answered') return t('telephony.dock.talking', { time: clock(talking) });
    if (call.status === 'missed' || call.missed) return t('telephony.dock.missed');
    return t('telephony.dock.ended', { time: clock(call.talk_seconds || call.duration_seconds) });
  }, [call, talking, t]);

  const stateLabel = (prefix: 'cardState' | 'cardKind', v: string | null) => (v ? t(`contacts.${prefix}.${v}` as MessageKey) : '—');

  return (
    <section className={`call-pop call-${call.status}`} data-testid="call-pop" data-call-id={call.id} aria-label={t(call.direction === 'outbound' ? 'telephony.dock.outgoing' : 'telephony.dock.incoming')}>
      <header className="call-pop-head">
        <strong>{t(call.direction === 'outbound' ? 'telephony.dock.outgoing' : 'telephony.dock.incoming')}</strong>
        <span className="call-pop-status" data-testid="call-status" data-status={call.status}>
          {statusLine}
        </span>
        <button type="button" className="button-link" onClick={onClose} data-testid="call-pop-close" aria-label={t('telephony.dock.close')}>
          {t('telephony.dock.close')}
        </button>
        {!live && (
          <button type="button" className="button-link" onClick={onDismiss} data-testid="call-pop-dismiss">
            {t('telephony.dock.dismiss')}
          </button>
        )}
      </header>
      {contact ? (
        <div data-testid="call-pop-known">
          <p className="call-pop-name" data-testid="call-pop-name">
            {contact.name || phone}
          </p>
          {contact.name && <p className="muted">{phone}</p>}
          <dl className="call-pop-client">
            {contact.company_name && (
              <>
                <dt>{t('telephony.dock.company')}</dt>
                <dd data-testid="call-pop-company">{contact.company_name}</dd>
              </>
            )}
            <dt>{t('telephony.dock.state')}</dt>
            <dd data-testid="call-pop-state">{stateLabel('cardState', contact.state)}</dd>
            <dt>{t('telephony.dock.kind')}</dt>
            <dd>{stateLabel('cardKind', contact.kind)}</dd>
            <dt>{t('telephony.dock.owner')}</dt>
            <dd>
              <UserName id={contact.owner_id} />
            </dd>
          </dl>
        </div>
      ) : (
        <dl className="call-pop-client" data-testid="call-pop-unknown">
          <dt>{t('telephony.dock.unknown')}</dt>
          <dd data-testid="call-pop-phone">{phone}</dd>
          <dt>{t('telephony.dock.source')}</dt>
          <dd>{call.attribution.utm_source || '—'}</dd>
          <dt>{t('telephony.dock.campaign')}</dt>
          <dd>{call.attribution.utm_campaign || '—'}</dd>
        </dl>
      )}
      {card && card.deals.length > 0 && (
        <div className="call-pop-list">
          <h3>{t('telephony.dock.deals')}</h3>
          <ul>
            {card.deals.map((d) => (
              <li key={d.id}>
                <a href={`/deals/${d.id}`} onClick={(e) => (e.preventDefault(), navigate(`/deals/${d.id}`))}>
                  {d.title}
                </a>
              </li>
            ))}
          </ul>
        </div>
      )}
      {card && card.recent_requests.length > 0 && (
        <div className="call-pop-list">
          <h3>{t('telephony.dock.lastRequests')}</h3>
          <ul>
            {card.recent_requests.map((r) => (
              <li key={r.id}>
                <a href={`/requests/${r.id}`} onClick={(e) => (e.preventDefault(), navigate(`/requests/${r.id}`))}>
                  {r.name || r.phone || r.id.slice(0, 8)}
                </a>{' '}
                <span className="muted">{r.created_at.slice(0, 10)}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      {card && card.partial.length > 0 && <p className="muted">{t('telephony.dock.partial', { parts: card.partial.join(', ') })}</p>}
      <label className="call-pop-note">
        {t('telephony.dock.note')}
        <textarea value={note} maxLength={4000} rows={3} placeholder={t('telephony.dock.notePlaceholder')} onChange={(e) => changeNote(e.target.value)} data-testid="call-pop-note" />
      </label>
      {!requestId && <p className="muted">{t('telephony.dock.noRequest')}</p>}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {saved && (
        <p className="muted" role="status" data-testid="call-pop-saved">
          {t('telephony.dock.noteSaved')}
        </p>
      )}
      <div className="call-pop-actions">
        {requestId && (
          <button type="button" className="button-primary" data-testid="call-pop-answer" onClick={() => navigate(`/requests/${requestId}`)}>
            {t('telephony.dock.answer')}
          </button>
        )}
        <button type="button" className="button-secondary" disabled={!requestId || !note.trim() || saving} onClick={() => void save()} data-testid="call-pop-save">
          {t('telephony.dock.saveNote')}
        </button>
      </div>
      {live && me.scopes.includes('calls:write') && <TransferBox call={call} />}
    </section>
  );
}

/** A user's display name (their id while it loads or when it cannot be read). */
function UserName({ id }: { id: string | null }) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  useEffect(() => {
    if (!id) return;
    const ctl = new AbortController();
    teamApi.getUser(id, ctl.signal).then(
      (u) => setName(u.display_name),
      () => undefined,
    );
    return () => ctl.abort();
  }, [id]);
  if (!id) return <>{t('contacts.card.noOwner')}</>;
  return <>{name || id.slice(0, 8)}</>;
}

/** Transfer a live call to a colleague or a department. */
function TransferBox({ call }: { call: Call }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [users, setUsers] = useState<TeamUser[]>([]);
  const [departments, setDepartments] = useState<TeamDepartment[]>([]);
  const [target, setTarget] = useState('');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState('');

  useEffect(() => {
    if (!open) return;
    const ctl = new AbortController();
    teamApi.listUsers({ limit: 100 }, ctl.signal).then((p) => setUsers(p.items), () => undefined);
    teamApi.listDepartments(ctl.signal).then(setDepartments, () => undefined);
    return () => ctl.abort();
  }, [open]);

  if (!open) {
    return (
      <button type="button" className="button-link" onClick={() => setOpen(true)} data-testid="call-transfer-open">
        {t('telephony.dock.transfer')}
      </button>
    );
  }
  const submit = async () => {
    const [kind, id] = target.split(':');
    if (!id) return;
    setBusy(true);
    setMsg('');
    try {
      await callsApi.transfer(call.id, kind === 'u' ? { to_user_id: id } : { to_department_id: id });
      setMsg(t('telephony.dock.transferred'));
    } catch (err) {
      setMsg(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="call-transfer">
      <label>
        {t('telephony.dock.transferTo')}{' '}
        <select value={target} onChange={(e) => setTarget(e.target.value)} data-testid="call-transfer-target">
          <option value="">{t('telephony.dock.transferPick')}</option>
          <optgroup label={t('telephony.dock.colleagues')}>
            {users.map((u) => (
              <option key={u.id} value={`u:${u.id}`}>
                {u.display_name}
              </option>
            ))}
          </optgroup>
          <optgroup label={t('telephony.dock.departments')}>
            {departments.map((d) => (
              <option key={d.id} value={`d:${d.id}`}>
                {d.name}
              </option>
            ))}
          </optgroup>
        </select>
      </label>
      <button type="button" className="button-secondary" disabled={!target || busy} onClick={() => void submit()} data-testid="call-transfer">
        {t('telephony.dock.transfer')}
      </button>
      {msg && <span role="status">{msg}</span>}
    </div>
  );
}

/** Saved journal views per user: the current filter under a name, picked back as a link, deleted. */
import { useEffect, useState, type FormEvent } from 'react';
import { errorText } from '../../components/ErrorMessage';
import { useI18n } from '../../i18n';
import { workApi, type SavedView } from './api';

export function SavedViews({ query, onPick }: { query: string; onPick: (query: string) => void }) {
  const { t } = useI18n();
  const [views, setViews] = useState<SavedView[]>([]);
  const [name, setName] = useState('');
  const [naming, setNaming] = useState(false);
  const [error, setError] = useState('');

  useEffect(() => {
    const ctl = new AbortController();
    workApi.listViews(ctl.signal).then(setViews, () => undefined);
    return () => ctl.abort();
  }, []);

  const current = views.find((v) => v.query === query);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    const n = name.trim();
    if (!n) return setError(t('work.views.nameRequired'));
    setError('');
    try {
      const existing = views.find((v) => v.name === n);
      const view = await workApi.saveView(n, query, existing?.id);
      setViews((vs) => [...vs.filter((v) => v.id !== view.id), view].sort((a, b) => a.name.localeCompare(b.name)));
      setName('');
      setNaming(false);
    } catch (err) {
      setError(errorText(err, t));
    }
  };

  const remove = async (v: SavedView) => {
    try {
      await workApi.deleteView(v.id);
      setViews((vs) => vs.filter((x) => x.id !== v.id));
    } catch (err) {
      setError(errorText(err, t));
    }
  };

  return (
    <div className="saved-views" data-testid="saved-views">
      <label>
        <span>{t('work.views.label')}</span>
        <select
          value={current?.id ?? ''}
          data-testid="view-select"
          onChange={(e) => {
            const v = views.find((x) => x.id === e.target.value);
            onPick(v ? v.query : '');
          }}
        >
          <option value="">{t('work.views.none')}</option>
          {views.map((v) => (
            <option key={v.id} value={v.id}>
              {v.name}
            </option>
          ))}
        </select>
      </label>
      {current && (
        <button type="button" className="button-link" data-testid="view-delete" onClick={() => void remove(current)}>
          {t('work.views.delete', { name: current.name })}
        </button>
      )}
      {naming ? (
        <form onSubmit={save} className="inline-form" noValidate>
          <label>
            <span className="visually-hidden">{t('work.views.name')}</span>
            <input type="text" value={name} maxLength={100} placeholder={t('work.views.name')} onChange={(e) => setName(e.target.value)} data-testid="view-name" autoFocus />
          </label>
          <button type="submit" className="button-primary" data-testid="view-save">
            {t('work.views.save')}
          </button>
          <button type="button" className="button-link" onClick={() => setNaming(false)}>
            {t('work.cancel')}
          </button>
        </form>
      ) : (
        <button type="button" className="button-secondary" data-testid="view-new" onClick={() => setNaming(true)}>
          {t('work.views.saveCurrent')}
        </button>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

import { ApiError } from '../api';
import { useI18n, type Translate } from '../i18n';

/** A failed call in the user's words: no answer → "cannot reach the server"; else the problem's detail. */
export function errorText(err: unknown, t: Translate): string {
  if (err instanceof ApiError) {
    if (err.status === 0) return t('error.network');
    const p = err.problem;
    const fields = p.errors?.length ? ` (${p.errors.map((e) => `${e.field}: ${e.message}`).join('; ')})` : '';
    return (p.detail || p.title || t('error.generic')) + fields;
  }
  return t('error.generic');
}

export function ErrorMessage({ error, onRetry, testId }: { error: unknown; onRetry?: () => void; testId?: string }) {
  const { t } = useI18n();
  return (
    <div className="alert" role="alert" data-testid={testId}>
      <span>{errorText(error, t)}</span>
      {onRetry && (
        <button type="button" className="button-secondary" onClick={onRetry}>
          {t('error.retry')}
        </button>
      )}
    </div>
  );
}

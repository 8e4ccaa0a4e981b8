import { useI18n } from '../i18n';
import { Link } from '../router';

export function NotFoundPage() {
  const { t } = useI18n();
  return (
    <section className="panel">
      <h1>{t('notFound.title')}</h1>
      <p>
        <Link to="/requests">{t('notFound.back')}</Link>
      </p>
    </section>
  );
}

import { LOCALES, useI18n } from '../i18n';

/** RU / EN toggle buttons; the choice is remembered. */
export function LangSwitch() {
  const { t, locale, chooseLocale } = useI18n();
  return (
    <div className="lang-switch" role="group" aria-label={t('header.language')}>
      {LOCALES.map((l) => (
        <button key={l} type="button" lang={l} aria-pressed={locale === l} data-testid={`lang-${l}`} onClick={() => chooseLocale(l)}>
          {l.toUpperCase()}
        </button>
      ))}
    </div>
  );
}

import { useEffect, useRef } from 'react';
import { useI18n } from '../i18n';

/**
 * A compact multi-choice filter: a `<details>` disclosure with a checkbox per option. Nothing checked
 * means "all". Closes on a click outside or Escape.
 */
export function MultiSelect({
  label,
  options,
  selected,
  onChange,
  testId,
}: {
  label: string;
  options: { value: string; label: string }[];
  selected: string[];
  onChange: (values: string[]) => void;
  testId: string;
}) {
  const { t } = useI18n();
  const ref = useRef<HTMLDetailsElement>(null);

  useEffect(() => {
    const close = (e: Event) => {
      const el = ref.current;
      if (!el?.open) return;
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !el.contains(e.target as Node)) el.open = false;
    };
    document.addEventListener('click', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('click', close);
      document.removeEventListener('keydown', close);
    };
  }, []);

  const summary =
    selected.length === 0
      ? t('journal.all')
      : selected.length <= 2
        ? options
            .filter((o) => selected.includes(o.value))
            .map((o) => o.label)
            .join(', ')
        : t('journal.selected', { n: selected.length });

  const toggle = (value: string, on: boolean) => {
    const next = on ? [...selected, value] : selected.filter((v) => v !== value);
    // Keep the options' order so the URL (and the query) does not depend on the click order.
    onChange(options.map((o) => o.value).filter((v) => next.includes(v)));
  };

  return (
    <details className="multi" ref={ref} data-testid={testId}>
      <summary>
        <span className="multi-label">{label}:</span> <span className="multi-value">{summary}</span>
      </summary>
      <fieldset className="multi-options">
        <legend className="visually-hidden">{label}</legend>
        {options.map((o) => (
          <label key={o.value} className="check">
            <input type="checkbox" value={o.value} checked={selected.includes(o.value)} onChange={(e) => toggle(o.value, e.target.checked)} />
            {o.label}
          </label>
        ))}
      </fieldset>
    </details>
  );
}

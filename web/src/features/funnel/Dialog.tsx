/**
 * A modal dialog for the convert and attach forms: the native `<dialog>` opened with `showModal()` (focus
 * moves into it and stays there, Escape closes it, the page behind is inert), labelled by its title.
 */
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { useI18n } from '../../i18n';

export function Dialog({ title, testId, onClose, children }: { title: string; testId: string; onClose: () => void; children: ReactNode }) {
  const { t } = useI18n();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const close = useRef(onClose);
  close.current = onClose;

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (!el.open) el.showModal();
    const cancel = (e: Event) => {
      e.preventDefault();
      close.current();
    };
    el.addEventListener('cancel', cancel);
    return () => {
      el.removeEventListener('cancel', cancel);
      if (el.open) el.close();
    };
  }, []);

  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} data-testid={testId}>
      <div className="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="button-small" aria-label={t('funnel.convert.close')} data-testid={`${testId}-close`} onClick={() => close.current()}>
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
}

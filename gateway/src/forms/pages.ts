/**
 * The small HTML pages a browser sees around a plain HTML form post (no JavaScript): the built-in
 * thank-you page (when the form has no thank-you URL of its own) and the error page, in Russian or English.
 */
export type PageLang = 'ru' | 'en';

export const pageLang = (s: unknown): PageLang => (s === 'en' ? 'en' : 'ru');

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const TEXT = {
  ru: {
    thanksTitle: 'Спасибо!',
    thanksBody: 'Заявка отправлена. Мы свяжемся с вами.',
    errorTitle: 'Заявка не отправлена',
    errors: {
      400: 'Проверьте поля формы: телефон или e-mail указаны неверно, или какое-то поле слишком длинное.',
      404: 'Эта форма не найдена или отключена.',
      413: 'Слишком много данных в форме.',
      415: 'Форма отправлена в неподдерживаемом формате.',
      422: 'Эта заявка уже была отправлена с другими данными.',
      429: 'Слишком много заявок подряд. Попробуйте через минуту.',
      other: 'Не удалось принять заявку. Попробуйте ещё раз позже.',
    } as Record<string, string>,
  },
  en: {
    thanksTitle: 'Thank you!',
    thanksBody: 'Your request has been sent. We will get back to you.',
    errorTitle: 'Your request was not sent',
    errors: {
      400: 'Please check the form: the phone or e-mail is not valid, or a field is too long.',
      404: 'This form does not exist or is disabled.',
      413: 'The form sent too much data.',
      415: 'The form was sent in a format we do not accept.',
      422: 'This request was already sent with different data.',
      429: 'Too many requests in a row. Please try again in a minute.',
      other: 'We could not take your request. Please try again later.',
    } as Record<string, string>,
  },
} as const;

/** The pages' one inline style: their routes declare it (`config.csp`), the CSP allows it by hash. */
export const PAGE_STYLE = 'body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1c2430}';

function page(lang: PageLang, title: string, body: string): string {
  return `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body>
</html>`;
}

export function thankYouPage(lang: PageLang): string {
  const t = TEXT[lang];
  return page(lang, t.thanksTitle, `<p id="thanks">${escapeHtml(t.thanksBody)}</p>`);
}

/** The status's message for people (never the internal detail), plus the problem's field list when there is one. */
export function errorPage(lang: PageLang, status: number, fields: string[] = []): string {
  const t = TEXT[lang];
  const list = fields.length ? `<ul>${fields.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>` : '';
  return page(lang, t.errorTitle, `<p id="error" data-status="${status}">${escapeHtml(t.errors[String(status)] ?? t.errors.other)}</p>${list}`);
}

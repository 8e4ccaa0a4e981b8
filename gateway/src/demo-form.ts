/**
 * `/demo/form?form=<public form id>`: a customer's "contact us" page as a site would embed it. It posts
 * to the public form endpoint with the page's UTM tags, with no secret in the browser.
 * `/demo/form/no-js?form=<id>` (demoFormNoJsHtml) is the same form as plain HTML, with no script at all.
 */

/**
 * The demo pages' inline style and the demo's inline script. Their routes declare them (`config.csp`), so
 * the Content-Security-Policy allows exactly these blocks by their hash (security-headers.ts): the text
 * served must be the text hashed, so nothing is ever interpolated into them.
 */
export const DEMO_STYLE = `
  body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; color: #1c2430; }
  label { display: block; margin: .8rem 0 .2rem; font-weight: 600; }
  input, textarea { width: 100%; padding: .55rem; border: 1px solid #b8c2cc; border-radius: 6px; font: inherit; box-sizing: border-box; }
  button { margin-top: 1rem; padding: .6rem 1.4rem; border: 0; border-radius: 6px; background: #2456d3; color: #fff; font: inherit; cursor: pointer; }
  .hp { position: absolute; left: -10000px; }
  #status { margin-top: 1rem; }
`;

export const DEMO_SCRIPT = `
  const params = new URLSearchParams(location.search);
  const formId = params.get('form');
  const status = document.getElementById('status');
  if (!formId) status.textContent = 'Add ?form=<public form id> to the address.';
  else document.getElementById('nojs-link').href = '/demo/form/no-js' + location.search;
  document.getElementById('contact').addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(e.target).entries());
    for (const k of Object.keys(data)) if (data[k] === '') delete data[k];
    for (const k of ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term']) if (params.get(k)) data[k] = params.get(k);
    data.page_url = location.href;
    if (document.referrer) data.referrer = document.referrer;
    status.textContent = 'Отправляем…';
    const res = await fetch('/v1/forms/' + encodeURIComponent(formId) + '/submissions', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(data),
    });
    if (res.ok) { status.textContent = 'Спасибо! Мы свяжемся с вами.'; e.target.reset(); }
    else { const p = await res.json().catch(() => ({})); status.textContent = 'Ошибка: ' + (p.detail || res.status); }
  });
`;

export function demoFormHtml(): string {
  return `<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Свяжитесь с нами — демо</title>
<style>${DEMO_STYLE}</style>
</head>
<body>
<h1>Свяжитесь с нами</h1>
<p>Оставьте телефон или e-mail — мы перезвоним.</p>
<form id="contact">
  <label for="name">Имя</label><input id="name" name="name" maxlength="200" autocomplete="name">
  <label for="phone">Телефон</label><input id="phone" name="phone" maxlength="64" autocomplete="tel">
  <label for="email">E-mail</label><input id="email" name="email" type="email" maxlength="320" autocomplete="email">
  <label for="company">Компания</label><input id="company" name="company" maxlength="200" autocomplete="organization">
  <label for="message">Сообщение</label><textarea id="message" name="message" rows="4" maxlength="5000"></textarea>
  <div class="hp" aria-hidden="true"><label for="website">Website</label><input id="website" name="website" tabindex="-1" autocomplete="off"></div>
  <button type="submit">Отправить</button>
</form>
<p id="status" role="status"></p>
<p><a id="nojs-link" href="/demo/form/no-js">Та же форма без JavaScript</a></p>
<script>${DEMO_SCRIPT}</script>
</body>
</html>`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * `/demo/form/no-js?form=<public form id>`: the demo form as a plain HTML `<form method="post">` with no
 * script, as a site without JavaScript (or a visitor who turned it off) posts it: the browser sends
 * application/x-www-form-urlencoded and follows the 303 to the thank-you page. The page's UTM tags
 * reach the gateway in the Referer header; `no-referrer-when-downgrade` keeps the full URL in it when a
 * customer's site (another origin) posts over HTTPS.
 */
export function demoFormNoJsHtml(formId: string): string {
  const valid = /^pf_[A-Za-z0-9_-]{8,64}$/.test(formId);
  const action = valid ? `/v1/forms/${encodeURIComponent(formId)}/submissions` : '';
  return `<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<meta name="referrer" content="no-referrer-when-downgrade">
<title>Свяжитесь с нами — демо без JavaScript</title>
<style>${DEMO_STYLE}</style>
</head>
<body>
<h1>Свяжитесь с нами</h1>
${valid ? '<p>Оставьте телефон или e-mail — мы перезвоним.</p>' : '<p id="status">Add ?form=&lt;public form id&gt; to the address.</p>'}
<form id="contact" method="post" action="${escapeHtml(action)}" accept-charset="utf-8">
  <label for="name">Имя</label><input id="name" name="name" maxlength="200" autocomplete="name">
  <label for="phone">Телефон</label><input id="phone" name="phone" maxlength="64" autocomplete="tel">
  <label for="email">E-mail</label><input id="email" name="email" type="email" maxlength="320" autocomplete="email">
  <label for="company">Компания</label><input id="company" name="company" maxlength="200" autocomplete="organization">
  <label for="message">Сообщение</label><textarea id="message" name="message" rows="4" maxlength="5000"></textarea>
  <div class="hp" aria-hidden="true"><label for="website">Website</label><input id="website" name="website" tabindex="-1" autocomplete="off"></div>
  <button type="submit"${valid ? '' : ' disabled'}>Отправить</button>
</form>
</body>
</html>`;
}

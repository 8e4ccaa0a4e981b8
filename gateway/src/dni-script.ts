/**
 * The script a site embeds for dynamic number insertion (`<script src="https://crm.example/dni/{public_id}.js" async>`):
 * - keeps a session id per pool in localStorage (a random 32 hex characters; a fresh one when storage is off);
 * - lends a number with the page's UTM tags, landing page and referrer (POST /v1/public/dni/{id}/lend);
 * - replaces the text of every element marked `data-crm-phone` with the number's display form, and the
 *   `tel:` href of such an element (or of the link it sits in) with the E.164 number;
 * - heartbeats every `heartbeat_seconds` while the page is visible (a hidden page stops; it heartbeats
 *   at once when shown again: a lapsed lease gets a number again, maybe another, and the page follows);
 * - shows the fallback number when the service says every number is lent (none: the page keeps its own).
 * It is served with the API origin taken from its own URL, so it needs no configuration.
 */
export function dniScript(publicId: string): string {
  const id = JSON.stringify(publicId);
  return `(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !window.fetch) return;
  var base = new URL(script.src).origin;
  var pool = ${id};
  var key = 'crm_dni_' + pool;
  var session = null;
  try { session = window.localStorage.getItem(key); } catch (e) {}
  if (!session || !/^[A-Za-z0-9_-]{8,128}$/.test(session)) {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    session = Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
    try { window.localStorage.setItem(key, session); } catch (e) {}
  }
  var query = new URLSearchParams(window.location.search);
  var tag = function (name) { return (query.get(name) || '').slice(0, 200); };
  var visit = {
    session_id: session,
    utm_source: tag('utm_source'),
    utm_medium: tag('utm_medium'),
    utm_campaign: tag('utm_campaign'),
    utm_content: tag('utm_content'),
    utm_term: tag('utm_term'),
    landing_page: window.location.href.slice(0, 2000),
    referrer: (document.referrer || '').slice(0, 2000)
  };
  var every = 60;
  var timer = null;
  function show(lease) {
    if (!lease || !lease.phone) return;
    var marked = document.querySelectorAll('[data-crm-phone]');
    for (var i = 0; i < marked.length; i++) {
      var el = marked[i];
      el.textContent = lease.display || lease.phone;
      var link = el.closest ? el.closest('a[href^="tel:"]') : null;
      if (link) link.setAttribute('href', 'tel:' + lease.phone);
    }
  }
  function post(path, body) {
    return window.fetch(base + '/v1/public/dni/' + encodeURIComponent(pool) + '/' + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'omit',
      mode: 'cors'
    }).then(function (res) { return res.ok ? res.json() : null; });
  }
  function schedule(lease) {
    if (lease && lease.heartbeat_seconds > 0) every = lease.heartbeat_seconds;
    if (timer) clearTimeout(timer);
    timer = setTimeout(beat, every * 1000);
  }
  function beat() {
    timer = null;
    if (document.visibilityState === 'hidden') return;
    post('heartbeat', { session_id: session }).then(function (lease) { show(lease); schedule(lease); }, function () { schedule(null); });
  }
  function start() {
    post('lend', visit).then(function (lease) { show(lease); schedule(lease); }, function () { schedule(null); });
  }
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && !timer) beat();
  });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
}

/**
 * The dashboard's one script: progressive enhancement only (every page works without it).
 * Confirmations, bulk selection, live updates over one EventSource (closed while the tab is
 * hidden), lease-expiry countdowns, and a refresh of a run page when its run changes status.
 */
export const UI_JS = `
const body = document.body;
const offset = Number(body.dataset.now || Date.now()) - Date.now();
const fmt = (ms) => { const a = Math.abs(ms), s = Math.floor(a / 1000); const t = s < 60 ? s + ' s' : s < 3600 ? Math.floor(s / 60) + ' min' : Math.floor(s / 3600) + ' h'; return ms >= 0 ? 'in ' + t : t + ' ago'; };
const tick = () => { for (const el of document.querySelectorAll('[data-expires]')) el.textContent = fmt(Number(el.dataset.expires) - (Date.now() + offset)); };
setInterval(tick, 1000); tick();

document.addEventListener('submit', (e) => {
  const f = e.target;
  const msg = f.dataset.confirm || (e.submitter && e.submitter.dataset.confirm);
  if (msg && !confirm(msg)) e.preventDefault();
});
document.addEventListener('change', (e) => {
  const t = e.target;
  if (t.matches('[data-select-all]')) for (const c of document.querySelectorAll('input[name=id]')) c.checked = t.checked;
  const n = document.querySelectorAll('input[name=id]:checked').length;
  const out = document.querySelector('[data-selected-count]');
  if (out) out.textContent = String(n);
});

let source = null, shownRun = null;
const apply = (snap) => {
  for (const el of document.querySelectorAll('[data-stat]')) {
    const v = el.dataset.stat.split('.').reduce((o, k) => (o == null ? o : o[k]), snap);
    if (v !== undefined && v !== null) el.textContent = String(v);
  }
  let changed = false;
  for (const el of document.querySelectorAll('[data-run-status]')) {
    const s = snap.runs && snap.runs[el.dataset.runStatus];
    if (s && s !== el.textContent) { el.textContent = s; el.className = 's-' + s; if (el.dataset.refresh !== undefined) changed = true; }
  }
  const dot = document.querySelector('.live-dot'); if (dot) dot.classList.add('on');
  if (changed) refreshMain();
};
const refreshMain = async () => {
  const r = await fetch(location.href, { headers: { 'X-Requested-With': 'live' } });
  if (!r.ok) return;
  const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
  const next = doc.querySelector('main'); const cur = document.querySelector('main');
  if (next && cur) cur.replaceWith(next);
  tick();
};
const open = () => {
  if (source || !body.dataset.live) return;
  source = new EventSource(body.dataset.live);
  source.addEventListener('snapshot', (e) => apply(JSON.parse(e.data)));
  source.onerror = () => { const dot = document.querySelector('.live-dot'); if (dot) dot.classList.remove('on'); };
};
const close = () => { if (source) { source.close(); source = null; } const dot = document.querySelector('.live-dot'); if (dot) dot.classList.remove('on'); };
document.addEventListener('visibilitychange', () => (document.hidden ? close() : open()));
if (!document.hidden) open();
`;

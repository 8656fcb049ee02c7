// Small DOM helpers: element building without innerHTML (no markup is
// ever parsed from data), formatting, dialogs and notices.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  append(el, children);
  return el;
}

export function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const zeroTime = t => !t || (typeof t === 'string' && t.startsWith('0001-01-01'));

export function fmtTime(t) {
  if (zeroTime(t)) return '—';
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  if (isNaN(d)) return String(t);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function ago(t, now = Date.now()) {
  if (zeroTime(t)) return '—';
  const s = Math.round((now - new Date(t).getTime()) / 1000);
  if (isNaN(s)) return '—';
  if (s < 0) return 'just now';
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.floor(s / 60) + ' min ago';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min ago';
  return Math.floor(s / 86400) + ' d ago';
}

export function fmtDuration(ms) {
  const s = Math.round(ms / 1000);
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
  if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
  return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
}

export function fmtBytes(n) {
  if (n < 1024) return n + ' B';
  const u = ['KB', 'MB', 'GB', 'TB'];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
  return n.toFixed(n < 10 ? 1 : 0) + ' ' + u[i];
}

// notice shows a message in the page's live region.
export function notice(msg, kind = 'info') {
  const box = document.getElementById('notices');
  if (!box) return;
  const el = h('div', { class: 'notice ' + kind, role: kind === 'error' ? 'alert' : 'status' }, msg,
    h('button', { class: 'link', 'aria-label': 'Dismiss', onclick: () => el.remove() }, '×'));
  box.append(el);
  if (kind !== 'error') setTimeout(() => el.remove(), 6000);
}

// dialog opens a modal <dialog> with body and buttons; it resolves with
// the value of the button pressed, or null when cancelled (Escape).
export function dialog(title, body, buttons) {
  return new Promise(resolve => {
    const d = h('dialog', { 'aria-labelledby': 'dlg-title' });
    const form = h('form', { method: 'dialog' },
      h('h2', { id: 'dlg-title' }, title),
      h('div', { class: 'dlg-body' }, body),
      h('div', { class: 'actions' }, buttons.map(b =>
        h('button', { value: b.value, class: b.class || '', type: b.submit ? 'submit' : 'submit', formnovalidate: b.value === 'cancel' }, b.label))));
    d.append(form);
    d.addEventListener('close', () => {
      const v = d.returnValue;
      d.remove();
      resolve(v && v !== 'cancel' ? v : null);
    });
    document.body.append(d);
    d.showModal();
  });
}

export function confirmDialog(title, text, action, danger = true) {
  return dialog(title, h('p', {}, text), [
    { value: 'cancel', label: 'Cancel' },
    { value: 'ok', label: action, class: danger ? 'danger' : 'primary' },
  ]).then(v => v === 'ok');
}

// sortable builds a table whose column headers sort it.
export function table(columns, rows, opts = {}) {
  let sortKey = opts.sortKey ?? null, dir = opts.dir ?? 1;
  const wrap = h('div', { class: 'table-wrap' });
  const render = () => {
    let data = rows.slice();
    if (sortKey !== null) {
      const col = columns.find(c => c.key === sortKey);
      const val = col.sort || (r => r[col.key]);
      data.sort((a, b) => {
        const x = val(a), y = val(b);
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      });
    }
    const head = h('tr', {}, columns.map(c => {
      const active = c.key === sortKey;
      const th = h('th', { scope: 'col', 'aria-sort': active ? (dir > 0 ? 'ascending' : 'descending') : null });
      if (c.sortable === false) th.append(c.label);
      else th.append(h('button', { class: 'sort', onclick: () => { dir = active ? -dir : 1; sortKey = c.key; render(); opts.onSort?.(sortKey, dir); } },
        c.label, active ? (dir > 0 ? ' ▲' : ' ▼') : ''));
      return th;
    }));
    const body = data.length ? data.map(r => h('tr', {}, columns.map(c => h('td', { 'data-label': c.label }, c.render ? c.render(r) : fmtCell(r[c.key])))))
      : [h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, opts.empty || 'Nothing here yet.'))];
    clear(wrap, h('table', { class: opts.class || '' }, opts.caption ? h('caption', {}, opts.caption) : null, h('thead', {}, head), h('tbody', {}, body)));
  };
  render();
  return wrap;
}

export function fmtCell(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function field(label, input, hint) {
  const id = input.id || ('f-' + Math.random().toString(36).slice(2));
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', {}, hint) : null);
}

export function badge(text, kind) {
  return h('span', { class: 'badge ' + (kind || '') }, text);
}

// reasonColour gives each disconnect reason a stable colour.
const palette = { client_disconnect: '#4c9f70', connection_lost: '#d98c1f', keepalive_timeout: '#c7611c', credential_expired: '#8e44ad',
  auth_failed: '#c0392b', device_disabled: '#7f8c8d', device_deleted: '#555', session_taken_over: '#2c7fb8', throttled: '#e67e22',
  message_too_large: '#b03a2e', protocol_error: '#a93226', not_authorized_action: '#922b21', server_shutdown: '#5d6d7e', server_error: '#641e16',
  tls_error: '#6c3483', connect_timeout: '#b9770e' };
export function reasonColour(r) { return palette[r] || '#888'; }

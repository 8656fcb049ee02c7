import { h, clear, notice, fmtCell } from '../dom.js';
import { svc, can } from '../api.js';
import { tokens, offsetOf, samples } from '../kql.js';
import { chart, categoryChart } from '../charts.js';

const seed = `search *
| where ( Type == "AzureDiagnostics" and ResourceType == "IOTHUBS")
| where ( Category == "Connections" and Level == "Error")`;
const maxShown = 1000;
const spans = { 'PT1H': 'Last hour', 'P1D': 'Last 24 hours', 'P7D': 'Last 7 days', 'P30D': 'Last 30 days', '': 'Set in query (default 24 h)' };

export async function logsPage(main, params) {
  document.title = 'Log search · Tether';
  main.append(h('h1', {}, 'Log search'));
  if (!can('ServiceConnect')) {
    main.append(h('p', { class: 'hint' }, 'Log search needs the ServiceConnect right; this policy does not have it.'));
    return;
  }
  const text = params.get('q') || sessionStorage.getItem('tether.kql') || seed;
  const area = h('textarea', { id: 'kql', class: 'kql-input', spellcheck: 'false', autocomplete: 'off', autocapitalize: 'off',
    'aria-label': 'KQL query', 'aria-describedby': 'kql-help kql-error' });
  area.value = text;
  const pre = h('pre', { class: 'kql-highlight', 'aria-hidden': 'true' });
  const errBox = h('div', { id: 'kql-error', class: 'kql-error', role: 'alert', hidden: true });
  let errAt = null;
  const paint = () => {
    const v = area.value;
    const parts = [];
    let off = 0;
    for (const [kind, t] of tokens(v)) {
      if (errAt !== null && errAt >= off && errAt < off + t.length) {
        const i = errAt - off;
        if (i > 0) parts.push(h('span', { class: 'k-' + kind }, t.slice(0, i)));
        parts.push(h('mark', { class: 'k-error' }, t.slice(i, i + 1) === '\n' ? ' \n' : t.slice(i, i + 1)), t.slice(i + 1) ? h('span', { class: 'k-' + kind }, t.slice(i + 1)) : null);
      } else parts.push(h('span', { class: 'k-' + kind }, t));
      off += t.length;
    }
    if (errAt !== null && errAt >= v.length) parts.push(h('mark', { class: 'k-error' }, ' '));
    parts.push('\n');
    clear(pre, parts);
    pre.scrollTop = area.scrollTop; pre.scrollLeft = area.scrollLeft;
  };
  area.addEventListener('input', () => { errAt = null; errBox.hidden = true; paint(); sessionStorage.setItem('tether.kql', area.value); });
  area.addEventListener('scroll', () => { pre.scrollTop = area.scrollTop; pre.scrollLeft = area.scrollLeft; });
  area.addEventListener('keydown', e => {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') { e.preventDefault(); run(); }
  });
  paint();

  const span = h('select', { id: 'timespan', 'aria-label': 'Time range' }, Object.entries(spans).map(([v, l]) => h('option', { value: v, selected: v === 'P1D' }, l)));
  const runBtn = h('button', { class: 'primary', id: 'run-query', onclick: () => run() }, 'Run');
  const csvBtn = h('button', { class: 'secondary', id: 'export-csv', disabled: true, onclick: () => exportCSV() }, 'Export CSV');
  const sampleList = h('ul', { class: 'samples' }, samples.map(([id, title, q]) =>
    h('li', {}, h('button', { class: 'link', title: q, onclick: () => { area.value = q; errAt = null; errBox.hidden = true; paint(); area.focus(); run(); } }, h('b', {}, id), ' ', title))));
  const status = h('p', { class: 'summary', 'aria-live': 'polite' });
  const chartBox = h('div');
  const results = h('div');
  main.append(
    h('div', { class: 'logs-layout' },
      h('div', { class: 'logs-main' },
        h('div', { class: 'kql-editor' }, pre, area),
        h('p', { id: 'kql-help', class: 'hint' }, 'Kusto Query Language over AzureDiagnostics and AzureMetrics. Ctrl+Enter runs. Click a cell to see all of it.'),
        errBox,
        h('div', { class: 'toolbar' }, runBtn, span, csvBtn, status)),
      h('aside', { class: 'logs-samples', 'aria-label': 'Example queries' }, h('h2', {}, 'IoT Hub queries'), sampleList)),
    chartBox, results);

  let last = null, stopChart = null;
  async function run() {
    errAt = null; errBox.hidden = true; paint();
    runBtn.disabled = true;
    status.textContent = 'Running…';
    const started = performance.now();
    try {
      const body = { query: area.value };
      if (span.value) body.timespan = span.value;
      const r = await svc('POST', '/v1/query', body);
      last = r.tables?.[0] || { columns: [], rows: [] };
      const ms = Math.round(performance.now() - started);
      status.textContent = `${last.rows.length} rows${r.truncated ? ' (truncated)' : ''} in ${ms} ms`;
      csvBtn.disabled = !last.rows.length;
      drawResults(last, r.render);
    } catch (e) {
      status.textContent = '';
      last = null; csvBtn.disabled = true;
      clear(results); if (stopChart) { stopChart(); stopChart = null; } clear(chartBox);
      const line = e.body?.error?.innererror?.line, pos = e.body?.error?.innererror?.pos;
      if (line) {
        errAt = offsetOf(area.value, line, pos || 1);
        paint();
        errBox.textContent = `Line ${line}, column ${pos}: ${e.message}`;
      } else errBox.textContent = (e.status === 404 ? 'Log search (POST /v1/query) is not on this hub yet: ' : '') + e.message;
      errBox.hidden = false;
    } finally { runBtn.disabled = false; }
  }

  function drawResults(t, render) {
    if (stopChart) { stopChart(); stopChart = null; }
    clear(chartBox);
    const vis = render?.visualization;
    if (vis === 'timechart' || vis === 'columnchart' || vis === 'barchart') {
      const c = renderChart(t, vis);
      if (c) { chartBox.append(c.el); stopChart = c.stop; }
    }
    const rows = t.rows.slice(0, maxShown);
    clear(results, h('div', { class: 'table-wrap tall' }, h('table', { class: 'results', onclick: e => { const td = e.target.closest('td'); if (td) td.classList.toggle('open'); } },
      h('thead', {}, h('tr', {}, t.columns.map(c => h('th', { scope: 'col', title: c.type }, c.name)))),
      h('tbody', {}, rows.length ? rows.map(r => h('tr', {}, r.map((v, i) => { const s = fmtCell(v); return h('td', { 'data-label': t.columns[i].name, title: s.length > 40 ? s.slice(0, 2000) : null }, s); })))
        : h('tr', {}, h('td', { colspan: Math.max(1, t.columns.length), class: 'empty' }, 'No rows.'))))),
    t.rows.length > maxShown ? h('p', { class: 'hint' }, `Showing the first ${maxShown} of ${t.rows.length} rows; Export CSV has them all.`) : null);
  }

  function exportCSV() {
    if (!last) return;
    const esc = v => { const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v); return /[",\n\r]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s; };
    const csv = [last.columns.map(c => esc(c.name)).join(','), ...last.rows.map(r => r.map(esc).join(','))].join('\r\n') + '\r\n';
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    const a = h('a', { href: url, download: 'tether-query-' + new Date().toISOString().replace(/[:.]/g, '-') + '.csv' });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    notice('CSV exported (' + last.rows.length + ' rows)');
  }

  if (params.get('run') === '1') run();
  return () => { if (stopChart) stopChart(); };
}

const numeric = t => ['long', 'int', 'real', 'decimal'].includes(t);

// renderChart draws a query's result as KQL's render operator asks: the
// first datetime (or, for columns, string) column is x, numeric columns
// are series, and a string column splits them.
function renderChart(t, vis) {
  const cols = t.columns;
  const xi = cols.findIndex(c => c.type === 'datetime');
  const nums = cols.map((c, i) => numeric(c.type) ? i : -1).filter(i => i >= 0 && i !== xi);
  const si = cols.findIndex((c, i) => c.type === 'string' && i !== xi);
  if (!nums.length) return null;
  if (xi >= 0) {
    const xs = [...new Set(t.rows.map(r => Date.parse(r[xi]) / 1000))].sort((a, b) => a - b);
    const at = new Map(xs.map((x, i) => [x, i]));
    const series = new Map();
    for (const r of t.rows) {
      for (const ni of nums) {
        const key = (si >= 0 ? (r[si] || '(empty)') + (nums.length > 1 ? ' ' + cols[ni].name : '') : cols[ni].name);
        if (!series.has(key)) series.set(key, new Array(xs.length).fill(null));
        series.get(key)[at.get(Date.parse(r[xi]) / 1000)] = r[ni];
      }
    }
    const list = [...series.entries()].slice(0, 12).map(([label, values]) => ({ label, values }));
    return chart(vis === 'timechart' ? 'Time chart' : 'Column chart', xs, list, { kind: vis === 'timechart' ? 'line' : 'bars', height: 280 });
  }
  const labels = t.rows.map(r => fmtCell(si >= 0 ? r[si] : r[0]));
  return categoryChart('Column chart', labels.slice(0, 100), nums.slice(0, 6).map(ni => ({ label: cols[ni].name, values: t.rows.slice(0, 100).map(r => r[ni]) })));
}

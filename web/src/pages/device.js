import { h, clear, table, fmtTime, ago, badge, notice, field, fmtCell } from '../dom.js';
import { call, svc, can, APIError } from '../api.js';
import { timelineView } from '../timeline.js';
import { reasonBadge } from './overview.js';
import { copyConnectionString } from './devices.js';

export async function devicePage(main, params, id) {
  document.title = id + ' · Devices · Tether';
  const range = ['1h', '24h', '7d'].includes(params.get('range')) ? params.get('range') : '24h';
  const enc = encodeURIComponent(id);
  const head = h('div', { class: 'page-head' }, h('h1', {}, h('a', { href: '#/devices' }, 'Devices'), ' / ', h('span', { class: 'device-id' }, id)));
  const info = h('section', { class: 'device-info', 'aria-label': 'Device' });
  const tl = h('section', {}, h('div', { class: 'section-head' }, h('h2', {}, 'Connection timeline'),
    h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time range' },
      ['1h', '24h', '7d'].map(r => h('a', { href: `#/devices/${enc}?range=${r}`, 'aria-current': r === range ? 'true' : null }, 'Last ' + r)))), h('p', {}, 'Loading…'));
  const diag = h('section', {}, h('h2', {}, 'Diagnosis'), h('p', {}, 'Loading…'));
  const twin = h('section', {}, h('h2', {}, 'Twin'));
  const method = h('section', {}, h('h2', {}, 'Direct method'));
  const recent = h('section', {}, h('h2', {}, 'Recent log rows'));
  main.append(head, info, tl, h('div', { class: 'grid2' }, twin, method), diag, recent);

  let device;
  try {
    device = await svc('GET', '/devices/' + enc);
  } catch (e) {
    clear(info, h('p', { class: 'error', role: 'alert' }, e.status === 404 ? `No device ${id} in the registry.` : e.message));
    if (e.status === 404) return;
  }
  if (device) drawInfo(info, device);

  if (!can('ServiceConnect')) {
    for (const s of [tl, diag, twin, method, recent]) s.append(h('p', { class: 'hint' }, 'Needs the ServiceConnect right.'));
    return;
  }
  let stopTimeline = () => {};
  const loadTimeline = async () => {
    const t = await call('GET', `/portal/api/devices/${enc}/timeline?range=${range}`);
    stopTimeline();
    const v = timelineView(t.connections, t.since, t.until);
    stopTimeline = v.stop;
    clear(tl, tl.firstChild, v.view, t.truncated ? h('p', { class: 'hint' }, 'Only the newest 2000 rows are drawn.') : null, h('h3', {}, 'Disconnects and refusals'), v.list);
    clear(recent, recent.firstChild, table([
      { key: 'time', label: 'Time', render: r => fmtTime(r.time) },
      { key: 'category', label: 'Category' },
      { key: 'operationName', label: 'Operation' },
      { key: 'level', label: 'Level', render: r => r.level === 'Error' ? badge('Error', 'bad') : r.level },
      { key: 'resultType', label: 'Code' },
      { key: 'reason', label: 'Reason' },
      { key: 'resultDescription', label: 'Description' }], t.recent, { empty: 'No log rows for this device.' }));
  };
  const loadDevice = async () => { device = await svc('GET', '/devices/' + enc); drawInfo(info, device); };
  await Promise.all([
    loadTimeline().catch(e => clear(tl, tl.firstChild, h('p', { class: 'error' }, e.message))),
    loadDiagnosis(diag, id),
    loadTwin(twin, id),
  ]);
  drawMethod(method, id);
  const timer = setInterval(() => { loadDevice().catch(() => {}); loadTimeline().catch(() => {}); }, 5000);
  return () => { clearInterval(timer); stopTimeline(); };
}

function drawInfo(el, d) {
  const ld = d.lastDisconnect;
  clear(el, h('dl', { class: 'facts' },
    h('div', {}, h('dt', {}, 'State'), h('dd', {}, badge(d.connectionState, d.connectionState === 'Connected' ? 'ok' : 'off'), ' since ', fmtTime(d.connectionStateUpdatedTime))),
    h('div', {}, h('dt', {}, 'Status'), h('dd', {}, d.status, d.statusReason ? ' (' + d.statusReason + ')' : '')),
    h('div', {}, h('dt', {}, 'Last activity'), h('dd', {}, ago(d.lastActivityTime))),
    h('div', { id: 'last-disconnect' }, h('dt', {}, 'Last disconnect'), h('dd', {}, ld?.reason
      ? [reasonBadge(ld.reason), ' ', ld.resultType || '', ' ', ld.resultDescription ? h('small', {}, ld.resultDescription) : '', ' · ', fmtTime(ld.time)]
      : 'none recorded')),
    h('div', {}, h('dt', {}, 'Authentication'), h('dd', {}, d.authentication?.type || '')),
    h('div', {}, h('dt', {}, 'Cloud-to-device queue'), h('dd', {}, String(d.cloudToDeviceMessageCount)))),
    h('button', { class: 'secondary', onclick: () => copyConnectionString(d) }, 'Copy connection string'));
}

async function loadDiagnosis(el, id) {
  try {
    const d = await svc('GET', '/v1/diagnose?deviceId=' + encodeURIComponent(id));
    const findings = d.findings || [];
    clear(el, el.firstChild, h('p', { class: 'summary' }, `${d.rows} connection-log rows read, ${findings.length} findings.`),
      findings.length ? findings.map(finding) : h('p', {}, 'Nothing wrong found.'));
  } catch (e) {
    clear(el, el.firstChild, h('p', { class: 'hint' }, e.status === 404 ? 'The doctor (GET /v1/diagnose) is not on this hub yet.' : 'Diagnosis unavailable: ' + e.message));
  }
}

function finding(f) {
  return h('article', { class: 'finding sev-' + f.severity },
    h('h3', {}, badge(f.severity, f.severity === 'info' ? '' : 'bad'), ' ', f.title),
    h('p', {}, h('strong', {}, 'Cause: '), f.cause),
    f.fix?.length ? h('ol', {}, f.fix.map(s => h('li', {}, s))) : null,
    f.docs ? h('p', {}, 'Read: ', h('code', {}, f.docs)) : null,
    h('details', {}, h('summary', {}, `Evidence (${(f.evidence || []).length}${f.moreEvidence ? ' + ' + f.moreEvidence + ' more' : ''} rows)`),
      table([
        { key: 'time', label: 'Time', render: r => fmtTime(r.time) },
        { key: 'operationName', label: 'Operation' },
        { key: 'resultType', label: 'Code' },
        { key: 'reason', label: 'Reason' },
        { key: 'detail', label: 'Detail' },
        { key: 'note', label: 'Note' }], f.evidence || [])));
}

async function loadTwin(el, id) {
  let twin;
  try {
    twin = await svc('GET', '/twins/' + encodeURIComponent(id));
  } catch (e) {
    el.append(h('p', { class: 'error' }, e.message));
    return;
  }
  const strip = o => Object.fromEntries(Object.entries(o || {}).filter(([k]) => !k.startsWith('$')));
  const desired = strip(twin.properties?.desired);
  const area = h('textarea', { id: 'desired', class: 'mono', rows: 8, spellcheck: 'false' }, JSON.stringify(desired, null, 2));
  const save = h('button', { class: 'primary', type: 'submit' }, 'Save desired properties');
  const err = h('p', { class: 'error', role: 'alert', hidden: true });
  el.append(
    h('form', { onsubmit: async e => {
      e.preventDefault();
      err.hidden = true;
      let next;
      try { next = JSON.parse(area.value); } catch (x) { err.textContent = 'Not JSON: ' + x.message; err.hidden = false; return; }
      if (!next || typeof next !== 'object' || Array.isArray(next)) { err.textContent = 'Desired properties must be a JSON object.'; err.hidden = false; return; }
      const patch = { ...next };
      for (const k of Object.keys(desired)) if (!(k in next)) patch[k] = null; // removed members
      try {
        await svc('PATCH', '/twins/' + encodeURIComponent(id), { properties: { desired: patch } }, { 'If-Match': '*' });
        notice('Desired properties saved');
        clear(el, el.firstChild);
        await loadTwin(el, id);
      } catch (x) { err.textContent = x.message; err.hidden = false; }
    } }, field('Desired properties (JSON)', area, `Version ${twin.properties?.desired?.$version ?? '?'}; a member left out is removed.`), err, save),
    h('h3', {}, 'Reported properties'), h('pre', { class: 'json' }, JSON.stringify(strip(twin.properties?.reported), null, 2)),
    ...(twin.tags ? [h('h3', {}, 'Tags'), h('pre', { class: 'json' }, JSON.stringify(twin.tags, null, 2))] : []));
}

function drawMethod(el, id) {
  const name = h('input', { name: 'methodName', required: true, autocomplete: 'off', placeholder: 'reboot' });
  const payload = h('textarea', { class: 'mono', rows: 4, spellcheck: 'false' }, '{}');
  const timeout = h('input', { type: 'number', min: 5, max: 300, value: 30 });
  const out = h('div', { 'aria-live': 'polite' });
  const btn = h('button', { class: 'primary', type: 'submit' }, 'Invoke');
  el.append(h('form', { onsubmit: async e => {
    e.preventDefault();
    let body;
    try { body = JSON.parse(payload.value || 'null'); } catch (x) { clear(out, h('p', { class: 'error' }, 'Payload is not JSON: ' + x.message)); return; }
    btn.disabled = true;
    clear(out, h('p', {}, 'Waiting for the device…'));
    try {
      const r = await svc('POST', '/twins/' + encodeURIComponent(id) + '/methods',
        { methodName: name.value, payload: body, responseTimeoutInSeconds: Number(timeout.value), connectTimeoutInSeconds: 0 });
      clear(out, h('p', {}, 'Status ', h('strong', {}, String(r.status))), h('pre', { class: 'json' }, JSON.stringify(r.payload, null, 2)));
    } catch (x) {
      clear(out, h('p', { class: 'error' }, (x instanceof APIError && x.code ? x.code + ': ' : '') + x.message));
    } finally { btn.disabled = false; }
  } }, field('Method name', name), field('Payload (JSON)', payload), field('Response timeout (s)', timeout), btn), out);
}

export { fmtCell };

import { h, clear, table, fmtTime, badge, notice, dialog, field, confirmDialog } from '../dom.js';
import { svc, can, list } from '../api.js';

const ops = [['gt', '>'], ['ge', '≥'], ['lt', '<'], ['le', '≤'], ['eq', '='], ['ne', '≠']];
const metrics = ['connectedDeviceCount', 'totalDeviceCount', 'd2c.telemetry.ingress.success', 'd2c.telemetry.ingress.sendThrottle',
  'c2d.methods.failure', 'connections.attempts', 'connections.disconnects'];

export async function alertsPage(main) {
  document.title = 'Alerts · Tether';
  const rulesBox = h('section', {}, h('div', { class: 'section-head' }, h('h2', {}, 'Alert rules'),
    can('ServiceConnect') ? h('button', { class: 'primary', id: 'new-rule', onclick: () => editRule(null) }, 'New alert rule') : null));
  const groupsBox = h('section', {}, h('div', { class: 'section-head' }, h('h2', {}, 'Action groups'),
    can('ServiceConnect') ? h('button', { class: 'secondary', id: 'new-group', onclick: () => editGroup() }, 'New action group') : null));
  const historyBox = h('section', {}, h('h2', {}, 'Firing and resolved history'));
  main.append(h('h1', {}, 'Alerts'), rulesBox, groupsBox, historyBox);
  if (!can('ServiceConnect')) {
    main.append(h('p', { class: 'hint' }, 'Alerts need the ServiceConnect right; this policy does not have it.'));
    return;
  }
  let rules = [], groups = [];

  async function load() {
    const [r, g, hist] = await Promise.all([
      svc('GET', '/v1/alertRules').then(list).catch(e => ({ error: e })),
      svc('GET', '/v1/actionGroups').then(list).catch(e => ({ error: e })),
      svc('GET', '/v1/alertHistory?limit=200').then(list).catch(e => ({ error: e })),
    ]);
    clear(rulesBox, rulesBox.firstChild, r.error ? h('p', { class: 'error' }, 'Alert rules unavailable: ' + r.error.message) : table([
      { key: 'name', label: 'Rule', render: x => h('button', { class: 'link', onclick: () => editRule(x) }, x.name) },
      { key: 'state', label: 'State', render: x => badge(x.state || 'Inactive', x.state === 'Fired' ? 'bad' : x.state === 'Pending' ? 'warn' : '') },
      { key: 'severity', label: 'Severity', render: x => 'Sev' + x.severity },
      { key: 'signalType', label: 'Signal', render: x => x.metric ? x.metric : h('code', {}, (x.query || '').slice(0, 60)) },
      { key: 'threshold', label: 'Condition', render: x => x.dropPercent ? `drops ${x.dropPercent}%` : `${x.aggregation || ''} ${(ops.find(o => o[0] === x.operator) || ['', x.operator])[1]} ${x.threshold ?? ''}` },
      { key: 'window', label: 'Window / every', render: x => `${x.window} / ${x.frequency}` },
      { key: 'lastValue', label: 'Last value' },
      { key: 'enabled', label: 'Enabled', render: x => x.enabled === false ? 'no' : 'yes' },
      { key: 'actions', label: 'Actions', sortable: false, render: x => h('div', { class: 'row-actions' },
        h('button', { class: 'link', onclick: () => toggle(x) }, x.enabled === false ? 'Enable' : 'Disable'),
        h('button', { class: 'link danger', onclick: () => remove(x) }, 'Delete')) },
    ], rules = r, { empty: 'No alert rules yet.', class: 'rules' }));
    clear(groupsBox, groupsBox.firstChild, g.error ? h('p', { class: 'hint' }, 'Action groups unavailable: ' + g.error.message) : table([
      { key: 'name', label: 'Group', render: x => h('button', { class: 'link', onclick: () => showGroup(x) }, x.name) },
      { key: 'receivers', label: 'Receivers', render: x => summarizeGroup(x) },
      { key: 'pendingCount', label: 'Pending' },
      { key: 'deadCount', label: 'Given up' },
      { key: 'actions', label: 'Actions', sortable: false, render: x => h('div', { class: 'row-actions' },
        h('button', { class: 'link', onclick: () => testGroup(x) }, 'Send test'),
        h('button', { class: 'link danger', onclick: () => deleteGroup(x) }, 'Delete')) },
    ], groups = g, { empty: 'No action groups yet.' }));
    clear(historyBox, historyBox.firstChild, hist.error ? h('p', { class: 'hint' }, 'History unavailable: ' + hist.error.message) : table([
      { key: 'time', label: 'Time', render: x => fmtTime(x.time) },
      { key: 'alertName', label: 'Rule' },
      { key: 'state', label: 'State', render: x => badge(x.state, x.state === 'Fired' ? 'bad' : x.state === 'Resolved' ? 'ok' : '') },
      { key: 'previousState', label: 'From' },
      { key: 'severity', label: 'Severity', render: x => 'Sev' + x.severity },
      { key: 'value', label: 'Value' },
      { key: 'threshold', label: 'Threshold' },
    ], hist, { empty: 'No alert has fired yet.', sortKey: 'time', dir: -1 }));
  }

  async function toggle(x) {
    try { await svc('POST', `/v1/alertRules/${encodeURIComponent(x.name)}/${x.enabled === false ? 'enable' : 'disable'}`); await load(); }
    catch (e) { notice(e.message, 'error'); }
  }
  async function remove(x) {
    if (!await confirmDialog('Delete alert rule ' + x.name + '?', 'The rule stops being evaluated. Its history is kept.', 'Delete rule')) return;
    try { await svc('DELETE', '/v1/alertRules/' + encodeURIComponent(x.name)); notice('Deleted ' + x.name); await load(); }
    catch (e) { notice(e.message, 'error'); }
  }

  async function editRule(x) {
    const isNew = !x;
    x = x || { severity: 2, metric: 'connectedDeviceCount', aggregation: 'avg', operator: 'lt', threshold: 1, window: '5m', frequency: '1m' };
    const name = h('input', { name: 'name', required: true, value: x.name || '', readonly: !isNew, autocomplete: 'off' });
    const kind = h('select', { name: 'kind' }, h('option', { value: 'metric', selected: !x.query }, 'Metric'), h('option', { value: 'log', selected: !!x.query }, 'Log query (KQL)'));
    const metric = h('input', { name: 'metric', list: 'metric-names', value: x.metric || '' });
    const query = h('textarea', { name: 'query', class: 'mono', rows: 4 }, x.query || '');
    const agg = h('select', { name: 'aggregation' }, ['avg', 'min', 'max', 'total', 'count'].map(a => h('option', { selected: a === x.aggregation }, a)));
    const op = h('select', { name: 'operator' }, ops.map(([v, l]) => h('option', { value: v, selected: v === x.operator }, l + ' (' + v + ')')));
    const threshold = h('input', { name: 'threshold', type: 'number', step: 'any', value: x.threshold ?? '' });
    const sev = h('select', { name: 'severity' }, [0, 1, 2, 3, 4].map(s => h('option', { value: s, selected: s === x.severity }, 'Sev' + s)));
    const win = h('input', { name: 'window', value: x.window || '5m' });
    const freq = h('input', { name: 'frequency', value: x.frequency || '1m' });
    const desc = h('input', { name: 'description', value: x.description || '' });
    const ags = h('input', { name: 'actionGroups', value: (x.actionGroups || []).join(', '), placeholder: 'names, comma separated' });
    const metricRows = [field('Metric', metric), field('Aggregation', agg)];
    const logRows = [field('Query', query, 'Fires on the row count, or on Aggregation of a numeric column.')];
    const sync = () => { metricRows.forEach(r => { r.hidden = kind.value !== 'metric'; }); logRows.forEach(r => { r.hidden = kind.value !== 'log'; }); };
    kind.addEventListener('change', sync); sync();
    const err = h('p', { class: 'error', role: 'alert', hidden: true });
    for (;;) {
      const v = await dialog(isNew ? 'New alert rule' : 'Edit ' + x.name, [
        h('datalist', { id: 'metric-names' }, metrics.map(m => h('option', { value: m }))), err,
        field('Name', name), field('Signal', kind), metricRows, logRows,
        h('div', { class: 'inline' }, field('Operator', op), field('Threshold', threshold)),
        h('div', { class: 'inline' }, field('Window', win, 'e.g. 5m or PT5M'), field('Every', freq, 'at least 10s')),
        field('Severity', sev), field('Description', desc), field('Action groups', ags)],
      [{ value: 'cancel', label: 'Cancel' }, { value: 'save', label: isNew ? 'Create rule' : 'Save rule', class: 'primary' }]);
      if (v !== 'save') return;
      const body = { name: name.value, description: desc.value, severity: Number(sev.value), operator: op.value,
        threshold: threshold.value === '' ? undefined : Number(threshold.value), window: win.value, frequency: freq.value,
        actionGroups: ags.value.split(',').map(s => s.trim()).filter(Boolean) };
      if (kind.value === 'metric') { body.metric = metric.value; body.aggregation = agg.value; } else { body.query = query.value; }
      try {
        await svc('PUT', '/v1/alertRules/' + encodeURIComponent(name.value), body);
        notice((isNew ? 'Created ' : 'Saved ') + name.value);
        await load();
        return;
      } catch (e) { err.textContent = e.message; err.hidden = false; }
    }
  }

  async function showGroup(g) {
    await dialog('Action group ' + g.name, [
      table([{ key: 'type', label: 'Type' }, { key: 'target', label: 'Target', render: r => h('code', {}, r.url || r.address || '') }], g.receivers || []),
      h('p', { class: 'hint' }, `${g.pendingCount || 0} notifications pending, ${g.deadCount || 0} given up.`)],
    [{ value: 'cancel', label: 'Close' }]);
  }

  async function testGroup(g) {
    try {
      const r = await svc('POST', '/v1/actionGroups/' + encodeURIComponent(g.name) + '/test');
      notice(`Test notification: ${r.delivered ?? '?'} delivered, ${r.failed ?? '?'} failed`, r.failed ? 'error' : 'info');
    } catch (e) { notice('Test failed: ' + e.message, 'error'); }
  }

  async function deleteGroup(g) {
    if (!await confirmDialog('Delete action group ' + g.name + '?', 'Rules that name it stop notifying through it.', 'Delete group')) return;
    try { await svc('DELETE', '/v1/actionGroups/' + encodeURIComponent(g.name)); notice('Deleted ' + g.name); await load(); }
    catch (e) { notice(e.message, 'error'); }
  }

  async function editGroup() {
    const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
    const lines = h('textarea', { name: 'receivers', class: 'mono', rows: 5, spellcheck: 'false',
      placeholder: 'webhook https://ops.example/alerts\nalertmanager http://127.0.0.1:9093\nemail oncall@example.com' });
    const err = h('p', { class: 'error', role: 'alert', hidden: true });
    for (;;) {
      const v = await dialog('New action group', [err, field('Name', name),
        field('Receivers', lines, 'One a line: webhook URL, alertmanager URL, or email ADDRESS.')],
      [{ value: 'cancel', label: 'Cancel' }, { value: 'save', label: 'Create group', class: 'primary' }]);
      if (v !== 'save') return;
      const receivers = [];
      let bad = null;
      for (const line of lines.value.split('\n').map(l => l.trim()).filter(Boolean)) {
        const [type, target] = line.split(/\s+/, 2);
        if (!['webhook', 'alertmanager', 'email'].includes(type) || !target) { bad = line; break; }
        receivers.push(type === 'email' ? { type, address: target } : { type, url: target });
      }
      if (bad !== null) { err.textContent = `“${bad}”: write webhook URL, alertmanager URL or email ADDRESS`; err.hidden = false; continue; }
      try {
        const g = await svc('POST', '/v1/actionGroups', { name: name.value, receivers });
        await load();
        if (g?.secret) {
          await dialog('Action group ' + g.name + ' created', [h('p', {}, 'Webhooks are signed with this secret (X-Tether-Signature). It is shown only now:'),
            h('input', { readonly: true, class: 'mono', value: g.secret, 'aria-label': 'Signing secret' })], [{ value: 'cancel', label: 'Done' }]);
        } else notice('Created action group ' + name.value);
        return;
      } catch (e) { err.textContent = e.message; err.hidden = false; }
    }
  }

  await load();
  const timer = setInterval(() => load().catch(() => {}), 15000);
  return () => clearInterval(timer);
}

function summarizeGroup(g) {
  const n = {};
  for (const r of g.receivers || []) n[r.type] = (n[r.type] || 0) + 1;
  return Object.entries(n).map(([t, c]) => c + ' ' + t).join(', ') || '—';
}

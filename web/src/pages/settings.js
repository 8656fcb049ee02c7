import { h, clear, table, notice, field, fmtTime, confirmDialog, dialog } from '../dom.js';
import { svc, can, list } from '../api.js';

const eventTypes = ['DeviceConnected', 'DeviceDisconnected', 'DeviceCreated', 'DeviceDeleted'];

export async function settingsPage(main) {
  document.title = 'Settings · Tether';
  main.append(h('h1', {}, 'Settings'));
  if (!can('ServiceConnect')) {
    main.append(h('p', { class: 'hint' }, 'Settings need the ServiceConnect right; this policy does not have it.'));
    return;
  }
  const diagBox = h('section', {}, h('h2', {}, 'Diagnostic settings'));
  const subsBox = h('section', {}, h('div', { class: 'section-head' }, h('h2', {}, 'Lifecycle event subscriptions'),
    h('button', { class: 'primary', onclick: () => editSub(null) }, 'New subscription')));
  main.append(diagBox, subsBox);

  async function loadDiag() {
    let s;
    try { s = await svc('GET', '/v1/diagnosticSettings'); } catch (e) { diagBox.append(h('p', { class: 'error' }, e.message)); return; }
    const boxes = (s.logs || []).map(l => h('input', { type: 'checkbox', name: l.category, checked: l.enabled }));
    const store = h('input', { type: 'checkbox', checked: s.store !== false });
    const file = h('input', { type: 'text', class: 'mono', value: s.file?.path || '', placeholder: '/var/log/tether/diagnostics.json' });
    const url = h('input', { type: 'url', class: 'mono', value: s.http?.url || '', placeholder: 'https://collector.example/ingest' });
    const err = h('p', { class: 'error', role: 'alert', hidden: true });
    clear(diagBox, diagBox.firstChild, h('form', { id: 'diag-form', onsubmit: async e => {
      e.preventDefault();
      err.hidden = true;
      const next = { logs: (s.logs || []).map((l, i) => ({ category: l.category, enabled: boxes[i].checked })), store: store.checked };
      if (file.value) next.file = { ...(s.file || {}), path: file.value };
      if (url.value) next.http = { ...(s.http || {}), url: url.value };
      try { await svc('PUT', '/v1/diagnosticSettings', next); notice('Diagnostic settings saved'); await loadDiag(); }
      catch (x) { err.textContent = x.message; err.hidden = false; }
    } },
    h('fieldset', {}, h('legend', {}, 'Categories recorded'), h('div', { class: 'checks' }, (s.logs || []).map((l, i) => h('label', {}, boxes[i], ' ', l.category)))),
    h('fieldset', {}, h('legend', {}, 'Destinations'),
      h('label', {}, store, ' Log store (AzureDiagnostics, queryable)'),
      field('JSON-lines file', file, 'Absolute path on the hub\'s machine; empty for none.'),
      field('HTTP endpoint', url, 'Records are POSTed in Azure\'s {"records":[…]} shape; empty for none.')),
    err, h('button', { class: 'primary', type: 'submit' }, 'Save diagnostic settings')));
  }

  async function loadSubs() {
    let subs;
    try { subs = list(await svc('GET', '/v1/eventSubscriptions')); } catch (e) { clear(subsBox, subsBox.firstChild, h('p', { class: 'error' }, e.message)); return; }
    clear(subsBox, subsBox.firstChild, table([
      { key: 'name', label: 'Name', render: x => h('button', { class: 'link', onclick: () => editSub(x) }, x.name) },
      { key: 'url', label: 'Webhook', render: x => h('code', {}, x.url) },
      { key: 'types', label: 'Events', render: x => (x.types || []).join(', ') },
      { key: 'schema', label: 'Schema' },
      { key: 'pendingCount', label: 'Pending' },
      { key: 'deadCount', label: 'Dead' },
      { key: 'consecutiveFailures', label: 'Failures' },
      { key: 'nextAttemptTime', label: 'Next attempt', render: x => x.nextAttemptTime ? fmtTime(x.nextAttemptTime) : '' },
      { key: 'del', label: 'Actions', sortable: false, render: x => h('button', { class: 'link danger', onclick: () => delSub(x) }, 'Delete') },
    ], subs, { empty: 'No subscriptions: lifecycle events go nowhere.' }));
  }

  async function delSub(x) {
    if (!await confirmDialog('Delete subscription ' + x.name + '?', 'Events waiting for delivery to it are dropped.', 'Delete subscription')) return;
    try { await svc('DELETE', '/v1/eventSubscriptions/' + encodeURIComponent(x.name)); notice('Deleted ' + x.name); await loadSubs(); }
    catch (e) { notice(e.message, 'error'); }
  }

  async function editSub(x) {
    const isNew = !x;
    const name = h('input', { required: true, value: x?.name || '', readonly: !isNew });
    const url = h('input', { type: 'url', required: true, class: 'mono', value: x?.url || '' });
    const types = eventTypes.map(t => h('input', { type: 'checkbox', value: t, checked: !x || (x.types || []).includes(t) }));
    const schema = h('select', {}, ['eventgrid', 'cloudevents'].map(s => h('option', { selected: s === (x?.schema || 'eventgrid') }, s)));
    const secret = h('input', { type: 'password', autocomplete: 'new-password', placeholder: isNew ? 'optional' : 'unchanged' });
    const err = h('p', { class: 'error', role: 'alert', hidden: true });
    for (;;) {
      const v = await dialog(isNew ? 'New event subscription' : 'Edit ' + x.name, [err, field('Name', name), field('Webhook URL', url),
        h('fieldset', {}, h('legend', {}, 'Events'), h('div', { class: 'checks' }, types.map(t => h('label', {}, t, ' ', t.value)))),
        field('Schema', schema), field('Shared secret', secret, 'Optional; the receiver checks it (see docs).')],
      [{ value: 'cancel', label: 'Cancel' }, { value: 'save', label: 'Save', class: 'primary' }]);
      if (v !== 'save') return;
      const body = { name: name.value, url: url.value, types: types.filter(t => t.checked).map(t => t.value), schema: schema.value };
      if (secret.value) body.secret = secret.value;
      try { await svc('PUT', '/v1/eventSubscriptions/' + encodeURIComponent(name.value), body); notice('Saved ' + name.value); await loadSubs(); return; }
      catch (e) { err.textContent = e.message; err.hidden = false; }
    }
  }

  await Promise.all([loadDiag(), loadSubs()]);
}

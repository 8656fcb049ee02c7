import { h, clear, table, ago, fmtTime, badge, notice, confirmDialog, dialog, field } from '../dom.js';
import { svc, can, state } from '../api.js';
import { reasonBadge } from './overview.js';

const pageSize = 25;

export async function devicesPage(main) {
  document.title = 'Devices · Tether';
  if (!can('RegistryRead')) {
    main.append(h('h1', {}, 'Devices'), h('p', { class: 'hint' }, 'The device list needs the RegistryRead right; this policy does not have it.'));
    return;
  }
  const view = { q: '', page: 0, sortKey: 'deviceId', dir: 1 };
  let devices = [];
  const search = h('input', { type: 'search', id: 'device-search', placeholder: 'Search device IDs', 'aria-label': 'Search devices',
    oninput: () => { view.q = search.value.trim().toLowerCase(); view.page = 0; draw(); } });
  const createBtn = can('RegistryWrite') ? h('button', { class: 'primary', id: 'create-device', onclick: createDevice }, 'New device') : null;
  const summary = h('p', { class: 'summary', 'aria-live': 'polite' });
  const holder = h('div');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Devices'), h('div', { class: 'tools' }, search, createBtn)), summary, holder, pager);

  async function refresh() {
    devices = await svc('GET', '/devices?top=1000');
    draw();
  }

  function draw() {
    const rows = devices.filter(d => !view.q || d.deviceId.toLowerCase().includes(view.q));
    const conn = devices.filter(d => d.connectionState === 'Connected').length;
    summary.textContent = `${devices.length} devices, ${conn} connected` + (view.q ? ` · ${rows.length} match “${view.q}”` : '');
    const sortVal = { deviceId: d => d.deviceId, state: d => d.connectionState, since: d => d.connectionStateUpdatedTime,
      activity: d => d.lastActivityTime, disconnect: d => d.lastDisconnect?.time || '', status: d => d.status }[view.sortKey];
    rows.sort((a, b) => { const x = sortVal(a), y = sortVal(b); return (x < y ? -1 : x > y ? 1 : 0) * view.dir; });
    const pages = Math.max(1, Math.ceil(rows.length / pageSize));
    view.page = Math.min(view.page, pages - 1);
    const shown = rows.slice(view.page * pageSize, (view.page + 1) * pageSize);
    const col = (key, label, render) => ({ key, label, render, sort: null });
    const t = table([
      col('deviceId', 'Device', d => h('a', { href: '#/devices/' + encodeURIComponent(d.deviceId), class: 'device-link' }, d.deviceId)),
      col('state', 'State', d => badge(d.connectionState, d.connectionState === 'Connected' ? 'ok' : 'off')),
      col('since', 'Since', d => h('span', { title: fmtTime(d.connectionStateUpdatedTime) }, ago(d.connectionStateUpdatedTime))),
      col('activity', 'Last activity', d => h('span', { title: fmtTime(d.lastActivityTime) }, ago(d.lastActivityTime))),
      col('disconnect', 'Last disconnect', d => d.lastDisconnect?.reason
        ? h('span', { class: 'last-disconnect' }, reasonBadge(d.lastDisconnect.reason), ' ', d.lastDisconnect.resultType || '', ' ', h('small', {}, ago(d.lastDisconnect.time)))
        : '—'),
      col('status', 'Status', d => badge(d.status, d.status === 'enabled' ? '' : 'warn')),
      { key: 'actions', label: 'Actions', sortable: false, render: d => actions(d) },
    ], shown, { sortKey: view.sortKey, dir: view.dir, class: 'devices', empty: view.q ? 'No device matches.' : 'No devices yet.',
      onSort: (k, dir) => { view.sortKey = k; view.dir = dir; draw(); } });
    // The table sorts only the page; sorting is done above on all rows.
    clear(holder, t);
    clear(pager, pages > 1 ? [
      h('button', { class: 'secondary', disabled: view.page === 0, onclick: () => { view.page--; draw(); } }, '← Previous'),
      h('span', {}, ` Page ${view.page + 1} of ${pages} `),
      h('button', { class: 'secondary', disabled: view.page >= pages - 1, onclick: () => { view.page++; draw(); } }, 'Next →')] : []);
  }

  function actions(d) {
    const out = [h('button', { class: 'link', onclick: () => copyConnectionString(d) , 'aria-label': 'Copy connection string of ' + d.deviceId }, 'Copy connection string')];
    if (can('RegistryWrite')) {
      out.push(h('button', { class: 'link', onclick: () => setStatus(d, d.status === 'enabled' ? 'disabled' : 'enabled') },
        d.status === 'enabled' ? 'Disable' : 'Enable'));
      out.push(h('button', { class: 'link danger', onclick: () => deleteDevice(d), 'aria-label': 'Delete ' + d.deviceId }, 'Delete'));
    }
    return h('div', { class: 'row-actions' }, out);
  }

  async function setStatus(d, status) {
    if (status === 'disabled' && !await confirmDialog('Disable ' + d.deviceId + '?', 'A disabled device cannot connect; if it is connected now it is disconnected.', 'Disable')) return;
    try {
      await svc('PUT', '/devices/' + encodeURIComponent(d.deviceId), { ...d, status }, { 'If-Match': '"' + d.etag + '"' });
      notice(d.deviceId + ' ' + status);
      await refresh();
    } catch (e) { notice('Cannot change ' + d.deviceId + ': ' + e.message, 'error'); }
  }

  async function deleteDevice(d) {
    if (!await confirmDialog('Delete ' + d.deviceId + '?', 'The device identity, its keys and its twin are removed. This cannot be undone.', 'Delete device')) return;
    try {
      await svc('DELETE', '/devices/' + encodeURIComponent(d.deviceId), undefined, { 'If-Match': '*' });
      notice(d.deviceId + ' deleted');
      await refresh();
    } catch (e) { notice('Cannot delete ' + d.deviceId + ': ' + e.message, 'error'); }
  }

  async function createDevice() {
    const id = h('input', { name: 'deviceId', required: true, maxlength: 128, autocomplete: 'off', pattern: "[A-Za-z0-9\\-:.%_*?!(),=@;$']+" });
    const v = await dialog('New device', [field('Device ID', id, 'Letters, digits and - : . % _ * ? ! ( ) , = @ ; $ \' — up to 128.')],
      [{ value: 'cancel', label: 'Cancel' }, { value: 'create', label: 'Create', class: 'primary' }]);
    if (v !== 'create' || !id.value) return;
    try {
      await svc('PUT', '/devices/' + encodeURIComponent(id.value), { deviceId: id.value, status: 'enabled' });
      notice('Created ' + id.value);
      await refresh();
    } catch (e) { notice('Cannot create ' + id.value + ': ' + e.message, 'error'); }
  }

  await refresh();
  const timer = setInterval(() => refresh().catch(() => {}), 3000);
  return () => clearInterval(timer);
}

export function connectionString(d) {
  const key = d.authentication?.symmetricKey?.primaryKey;
  if (!key) return null;
  return `HostName=${state.session.hostname};DeviceId=${d.deviceId};SharedAccessKey=${key}`;
}

export async function copyConnectionString(d) {
  const cs = connectionString(d);
  if (!cs) { notice(d.deviceId + ' has no symmetric key (it authenticates with a certificate).', 'error'); return; }
  try {
    await navigator.clipboard.writeText(cs);
    notice('Connection string of ' + d.deviceId + ' copied');
  } catch {
    const box = h('input', { readonly: true, value: cs, class: 'mono', 'aria-label': 'Connection string' });
    setTimeout(() => box.select(), 0);
    await dialog('Connection string of ' + d.deviceId, [box, h('p', {}, 'Copy it with Ctrl+C.')], [{ value: 'cancel', label: 'Close' }]);
  }
}

import { h, clear, table, fmtTime, fmtBytes, fmtDuration, badge, reasonColour } from '../dom.js';
import { call, svc, can, list } from '../api.js';
import { chart } from '../charts.js';

export async function overviewPage(main, params) {
  document.title = 'Overview · Tether';
  const range = ['1h', '24h', '7d'].includes(params.get('range')) ? params.get('range') : '24h';
  const picker = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time range' },
    ['1h', '24h', '7d'].map(r => h('a', { href: '#/?range=' + r, 'aria-current': r === range ? 'true' : null }, 'Last ' + r)));
  const body = h('div', { class: 'overview' });
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Overview'), picker), body);
  let stops = [];
  let timer = null;
  const load = async () => {
    const [stats, ov, alerts] = await Promise.all([
      can('RegistryRead') ? svc('GET', '/statistics/devices').catch(() => null) : null,
      can('ServiceConnect') ? call('GET', '/portal/api/overview?range=' + range).catch(e => ({ error: e })) : null,
      can('ServiceConnect') ? svc('GET', '/v1/alertRules').then(list).catch(e => ({ error: e })) : null,
    ]);
    stops.forEach(s => s.stop()); stops = [];
    const tiles = h('div', { class: 'tiles' });
    if (ov?.health) {
      const hl = ov.health;
      const total = Object.values(hl.storeBytes || {}).reduce((a, b) => a + b, 0);
      tiles.append(tile('Connected now', hl.connected), tile('Uptime', fmtDuration(Date.now() - new Date(hl.started).getTime())),
        tile('Log writer lag', hl.logQueued + ' queued', hl.logDropped ? hl.logDropped + ' dropped' : 'none dropped', hl.logDropped ? 'bad' : ''),
        tile('Store size', fmtBytes(total), Object.entries(hl.storeBytes || {}).map(([k, v]) => k + ' ' + fmtBytes(v)).join(' · ')));
    }
    if (stats) tiles.append(tile('Devices', stats.totalDeviceCount, stats.enabledDeviceCount + ' enabled, ' + stats.disabledDeviceCount + ' disabled'));
    const parts = [h('section', { 'aria-label': 'Hub health' }, tiles)];
    if (!ov) {
      parts.push(h('p', { class: 'hint' }, 'Charts and logs need the ServiceConnect right; this policy does not have it.'));
    } else if (ov.error) {
      parts.push(h('p', { class: 'error' }, 'Cannot read the logs: ' + ov.error.message));
    } else {
      const span = [ov.since, Math.floor(Date.now() / 1000)];
      const c1 = chart('Connected devices', ov.connected.t, [{ label: 'connected', values: ov.connected.v }], { range: span });
      const c2 = chart('Connects, disconnects and refused attempts', ov.activity.t, [
        { label: 'connects', values: ov.activity.connects, colour: '#4c9f70' },
        { label: 'disconnects', values: ov.activity.disconnects, colour: '#d98c1f' },
        { label: 'refused', values: ov.activity.refused, colour: '#c0392b' }], { kind: 'bars', stacked: true, range: span });
      stops.push(c1, c2);
      parts.push(h('div', { class: 'grid2' }, c1.el, c2.el));
      parts.push(h('div', { class: 'grid2' },
        h('section', {}, h('h2', {}, 'Connections by result code'),
          table([
            { key: 'operation', label: 'Operation' },
            { key: 'resultType', label: 'Code', render: r => r.resultType || (r.level === 'Error' ? '?' : 'ok') },
            { key: 'reason', label: 'Reason', render: r => r.reason ? reasonBadge(r.reason) : '' },
            { key: 'count', label: 'Count' }], ov.outcomes, { sortKey: 'count', dir: -1, empty: 'No connection activity in this range.' })),
        h('section', {}, h('h2', {}, 'Devices failing most'),
          table([
            { key: 'deviceId', label: 'Device', render: r => h('a', { href: '#/devices/' + encodeURIComponent(r.deviceId) }, r.deviceId) },
            { key: 'errors', label: 'Errors' },
            { key: 'resultType', label: 'Last code' },
            { key: 'reason', label: 'Last reason', render: r => r.reason ? reasonBadge(r.reason) : '' },
            { key: 'last', label: 'Last error', render: r => fmtTime(r.last) }], ov.failing, { sortKey: 'errors', dir: -1, empty: 'No device errors in this range.' }))));
    }
    if (alerts && !alerts.error) {
      const firing = alerts.filter(a => a.state === 'Fired' || a.state === 'Firing');
      parts.push(h('section', {}, h('h2', {}, 'Firing alerts'), table([
        { key: 'name', label: 'Rule', render: r => h('a', { href: '#/alerts' }, r.name) },
        { key: 'severity', label: 'Severity', render: r => 'Sev' + r.severity },
        { key: 'lastValue', label: 'Value' },
        { key: 'stateSince', label: 'Since', render: r => fmtTime(r.stateSince) }], firing, { empty: 'No alert is firing.' })));
    } else if (alerts?.error) {
      parts.push(h('section', {}, h('h2', {}, 'Firing alerts'), h('p', { class: 'hint' }, 'Alerts unavailable: ' + alerts.error.message)));
    }
    clear(body, parts);
  };
  await load();
  timer = setInterval(() => load().catch(() => {}), 15000);
  return () => { clearInterval(timer); stops.forEach(s => s.stop()); };
}

function tile(label, value, sub, kind) {
  return h('div', { class: 'tile ' + (kind || '') }, h('div', { class: 'tile-label' }, label), h('div', { class: 'tile-value' }, String(value)), sub ? h('div', { class: 'tile-sub' }, sub) : null);
}

export function reasonBadge(reason) {
  const b = badge(reason.replaceAll('_', ' '), 'reason');
  b.style.borderColor = reasonColour(reason);
  b.style.color = reasonColour(reason);
  return b;
}

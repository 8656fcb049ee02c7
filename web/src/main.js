// Tether's web portal: a single page routed on the URL's hash.
import 'uplot/dist/uPlot.min.css';
import './app.css';
import { h, clear, notice } from './dom.js';
import { state, call, can } from './api.js';
import { loginPage } from './pages/login.js';
import { overviewPage } from './pages/overview.js';
import { devicesPage } from './pages/devices.js';
import { devicePage } from './pages/device.js';
import { logsPage } from './pages/logs.js';
import { alertsPage } from './pages/alerts.js';
import { settingsPage } from './pages/settings.js';

// The menu shows only the pages the policy's rights can use.
const nav = [
  ['#/', 'Overview', null],
  ['#/devices', 'Devices', 'RegistryRead'],
  ['#/logs', 'Log search', 'ServiceConnect'],
  ['#/alerts', 'Alerts', 'ServiceConnect'],
  ['#/settings', 'Settings', 'ServiceConnect'],
];

const routes = [
  [/^\/?$/, overviewPage],
  [/^\/devices$/, devicesPage],
  [/^\/devices\/(.+)$/, devicePage],
  [/^\/logs$/, logsPage],
  [/^\/alerts$/, alertsPage],
  [/^\/settings$/, settingsPage],
];

let cleanup = null; // the current page's stop function (timers)

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query] = raw.split('?');
  return { path, params: new URLSearchParams(query || '') };
}

async function render() {
  if (cleanup) { try { cleanup(); } catch { /* ignore */ } cleanup = null; }
  const app = document.getElementById('app');
  if (!state.session?.loggedIn) {
    clear(app, h('main', { id: 'main', tabindex: '-1', class: 'login-main' }));
    cleanup = await loginPage(document.getElementById('main'), start);
    return;
  }
  const { path, params } = parseHash();
  let page = null, args = [];
  for (const [re, fn] of routes) {
    const m = re.exec(path);
    if (m) { page = fn; args = m.slice(1).map(decodeURIComponent); break; }
  }
  const main = h('main', { id: 'main', tabindex: '-1' });
  clear(app, shell(path), h('div', { id: 'notices', class: 'notices', 'aria-live': 'polite' }), main);
  if (!page) {
    document.title = 'Not found · Tether';
    main.append(h('h1', {}, 'Not found'), h('p', {}, 'No page at ', h('code', {}, path), '. ', h('a', { href: '#/' }, 'Back to the overview')));
    return;
  }
  try {
    cleanup = await page(main, params, ...args);
  } catch (e) {
    main.append(h('p', { class: 'error', role: 'alert' }, 'This page failed: ' + e.message));
  }
}

function shell(path) {
  const current = '#' + (path === '' ? '/' : path);
  const links = nav.filter(([, , right]) => !right || can(right)).map(([href, label]) => {
    const active = href === '#/' ? current === '#/' : current.startsWith(href);
    return h('li', {}, h('a', { href, 'aria-current': active ? 'page' : null }, label));
  });
  const menuBtn = h('button', { class: 'menu-toggle', 'aria-expanded': 'false', 'aria-controls': 'nav-list',
    onclick: () => { const open = menuBtn.getAttribute('aria-expanded') !== 'true'; menuBtn.setAttribute('aria-expanded', String(open)); } }, 'Menu');
  const s = state.session;
  return h('header', { class: 'top' },
    h('a', { class: 'brand', href: '#/' }, h('img', { src: '/portal/assets/favicon.svg', alt: '', width: 24, height: 24 }), 'Tether'),
    h('span', { class: 'hub' }, s.hostname),
    menuBtn,
    h('nav', { 'aria-label': 'Main' }, h('ul', { id: 'nav-list' }, links)),
    h('div', { class: 'who' },
      h('span', { title: 'Rights: ' + (s.rights || []).join(', ') }, s.admin ? 'admin (iothubowner)' : s.policy),
      h('button', { id: 'logout', class: 'secondary', onclick: logout }, 'Log out')));
}

async function logout() {
  try { await call('POST', '/portal/api/logout'); } catch (e) { notice('Logout failed: ' + e.message, 'error'); return; }
  state.session = null;
  await start();
}

async function start() {
  try {
    state.session = await call('GET', '/portal/api/session');
  } catch (e) {
    clear(document.getElementById('app'), h('main', { id: 'main' }, h('p', { class: 'error', role: 'alert' }, 'Cannot reach the hub: ' + e.message)));
    return;
  }
  await render();
}

window.addEventListener('hashchange', () => { render(); document.getElementById('main')?.focus({ preventScroll: true }); });
window.addEventListener('tether:logged-out', () => { if (state.session?.loggedIn) { state.session = null; start(); } });
start();

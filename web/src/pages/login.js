import { h, field } from '../dom.js';
import { state, call } from '../api.js';

export async function loginPage(main, done) {
  document.title = 'Log in · Tether';
  const err = h('p', { class: 'error', role: 'alert', hidden: true });
  const cs = h('textarea', { name: 'connectionString', rows: 3, autocomplete: 'off', spellcheck: 'false',
    placeholder: 'HostName=…;SharedAccessKeyName=iothubowner;SharedAccessKey=…' });
  const pw = h('input', { type: 'password', name: 'password', autocomplete: 'current-password' });
  const submit = async (body, btn) => {
    err.hidden = true;
    btn.disabled = true;
    try {
      state.session = await call('POST', '/portal/api/login', body);
      if (!location.hash || location.hash === '#') location.hash = '#/';
      await done();
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
      // A failed login may have used up the login token: get a fresh one.
      try { state.session = await call('GET', '/portal/api/session'); } catch { /* keep the message */ }
    } finally {
      btn.disabled = false;
    }
  };
  const csBtn = h('button', { type: 'submit', class: 'primary' }, 'Log in with connection string');
  const pwBtn = h('button', { type: 'submit', class: 'primary' }, 'Log in as admin');
  main.append(h('div', { class: 'login card' },
    h('h1', {}, h('img', { src: '/portal/assets/favicon.svg', alt: '', width: 32, height: 32 }), ' Tether'),
    h('p', {}, 'Log in to ', h('strong', {}, state.session?.hostname || 'the hub'), '. The portal can do what your policy\'s rights allow.'),
    err,
    h('form', { id: 'login-cs', onsubmit: e => { e.preventDefault(); submit({ connectionString: cs.value }, csBtn); } },
      field('Policy connection string', cs, 'From tether hub connection-string --policy NAME'), csBtn),
    state.session?.passwordLogin ? h('form', { id: 'login-pw', onsubmit: e => { e.preventDefault(); submit({ password: pw.value }, pwBtn); } },
      h('hr'), field('Admin password', pw, 'Printed at the first start; tether portal reset-password makes a new one.'), pwBtn) : null));
  cs.focus();
}

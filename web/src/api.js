// Calls from the page to the hub. The browser holds no key: the portal
// signs calls to the service API (/portal/api/svc/...) with the session's
// policy. Mutating calls carry the session's CSRF token.

export const state = { session: null };

export const API_VERSION = '2021-04-12';

export class APIError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status; this.code = code; this.body = body;
  }
}

function errorOf(status, body, text) {
  // The portal's {code, message}; the service API's classic
  // {Message:"ErrorCode:X;msg"}; Log Analytics' {error:{code,message,innererror}}.
  if (body?.error) {
    const inner = body.error.innererror;
    return new APIError(status, inner?.code || body.error.code, inner?.message || body.error.message, body);
  }
  if (body?.code && body?.message) return new APIError(status, body.code, body.message, body);
  if (body?.Message) {
    const m = /^ErrorCode:([^;]+);(.*)$/s.exec(body.Message);
    let msg = m ? m[2] : body.Message;
    try { const inner = JSON.parse(msg); if (inner.Message) msg = inner.Message; } catch { /* plain text */ }
    return new APIError(status, m ? m[1] : 'Error', msg, body);
  }
  return new APIError(status, 'HTTP' + status, text || ('HTTP ' + status));
}

export async function call(method, path, body, headers = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (method !== 'GET' && method !== 'HEAD') h['X-CSRF-Token'] = state.session?.csrf || '';
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const err = errorOf(res.status, data, text);
    if (res.status === 401 && err.code === 'NotLoggedIn') window.dispatchEvent(new CustomEvent('tether:logged-out'));
    throw err;
  }
  return data;
}

// svc calls the service API through the portal's proxy.
export function svc(method, path, body, headers) {
  const sep = path.includes('?') ? '&' : '?';
  return call(method, '/portal/api/svc' + path + sep + 'api-version=' + API_VERSION, body, headers);
}

export function can(right) {
  return !!state.session?.rights?.includes(right);
}

// list accepts an array or an object holding one ({value: [...]}).
export function list(x) {
  if (Array.isArray(x)) return x;
  if (x && typeof x === 'object') for (const v of Object.values(x)) if (Array.isArray(v)) return v;
  return [];
}

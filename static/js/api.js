// The server's API. Staff stay signed in across reloads (the refresh token
// lives in localStorage); a young person's link token lives only for the
// tab (sessionStorage).

const STAFF = 'sct.staff';
const YOUNG = 'sct.young';

/** An answer from the server that is not a success. */
export class APIError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : `The server answered ${status}.`);
    this.status = status;
    this.fields = (body && body.fields) || [];
  }
}

/** No connection to the server. */
export class Offline extends Error {
  constructor() { super('There is no connection right now.'); }
}

function read(storage, key) {
  try { return JSON.parse(storage.getItem(key) || 'null'); } catch { return null; }
}

export const session = {
  staff: () => read(localStorage, STAFF),
  young: () => read(sessionStorage, YOUNG),
  current() { return this.young() || this.staff(); },
  role() { const c = this.current(); return c ? c.role : null; },
  saveStaff(t) {
    localStorage.setItem(STAFF, JSON.stringify({
      access: t.access_token, refresh: t.refresh_token, role: t.user.role,
      sites: t.user.sites || [], email: t.user.email,
    }));
  },
  saveYoung(t) {
    sessionStorage.setItem(YOUNG, JSON.stringify({ access: t.access_token, role: 'young_person', session: t.session }));
  },
  clear() { localStorage.removeItem(STAFF); sessionStorage.removeItem(YOUNG); },
};

async function send(method, path, body, token) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new Offline();
  }
}

let refreshing = null;

async function refresh() {
  const s = session.staff();
  if (!s || !s.refresh) return false;
  refreshing = refreshing || (async () => {
    const res = await send('POST', '/api/v1/auth/refresh', { refresh_token: s.refresh });
    if (!res.ok) { if (res.status === 401) session.clear(); return false; }
    session.saveStaff(await res.json());
    return true;
  })().finally(() => { refreshing = null; });
  return refreshing;
}

/** call sends a request as the current user and returns the decoded answer. */
export async function call(method, path, body) {
  const who = session.current();
  let res = await send(method, path, body, who && who.access);
  if (res.status === 401 && who && who.refresh && await refresh()) {
    res = await send(method, path, body, session.current().access);
  }
  if (!res.ok) {
    let payload = null;
    try { payload = await res.json(); } catch { /* not JSON */ }
    throw new APIError(res.status, payload);
  }
  return res.status === 204 ? null : res.json();
}

export const get = (path) => call('GET', path);

export async function login(email, password) {
  const t = await call('POST', '/api/v1/auth/login', { email, password });
  session.saveStaff(t);
  return t;
}

export async function logout() {
  const s = session.staff();
  if (s && s.refresh) {
    try { await call('POST', '/api/v1/auth/logout', { refresh_token: s.refresh }); } catch { /* ending anyway */ }
  }
  session.clear();
}

/** join redeems a young person's one-time code. */
export async function join(code) {
  const t = await call('POST', '/api/v1/auth/session', { code });
  session.saveYoung(t);
  return t.session;
}

/** form returns a form definition; published versions never change, so they are kept. */
export async function form(id, version) {
  const key = `sct.form.${id}.${version}`;
  const kept = read(localStorage, key);
  if (kept) return kept;
  const def = await get(`/api/v1/forms/${encodeURIComponent(id)}/versions/${encodeURIComponent(version)}`);
  try { localStorage.setItem(key, JSON.stringify(def)); } catch { /* storage full: fetch next time */ }
  return def;
}

/** newID makes a response id (UUID version 4). */
export function newID() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

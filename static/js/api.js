// The server's API. Staff stay signed in across reloads (the refresh token
// lives in localStorage). A young person's link lives on the phone too
// (localStorage), with its device grant: closing the tab, a restart or a
// day without signal does not strand answers; the grant renews the link's
// access to its one response until that is sent or the child erased.

import { t } from './i18n.js';

const STAFF = 'sct.staff';
const YOUNG = 'sct.young';

/** An answer from the server that is not a success. */
export class APIError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : t('api.status', { status }));
    this.status = status;
    this.fields = (body && body.fields) || [];
  }
}

/** No connection to the server. */
export class Offline extends Error {
  constructor() { super(t('api.offline')); }
}

function read(storage, key) {
  try { return JSON.parse(storage.getItem(key) || 'null'); } catch { return null; }
}

export const session = {
  staff: () => read(localStorage, STAFF),
  young: () => read(localStorage, YOUNG),
  current() { return this.young() || this.staff(); },
  role() { const c = this.current(); return c ? c.role : null; },
  saveStaff(t) {
    localStorage.setItem(STAFF, JSON.stringify({
      access: t.access_token, refresh: t.refresh_token, role: t.user.role,
      sites: t.user.sites || [], email: t.user.email,
    }));
  },
  // saveYoung keeps a young person's link; code is the one-time code that
  // opened it (spent), so that the same link opened again is recognised.
  saveYoung(t, code) {
    const was = this.young();
    const same = was && was.session.id === t.session.id;
    const grant = t.device_grant || (same ? was.grant : undefined);
    localStorage.setItem(YOUNG, JSON.stringify({ access: t.access_token, role: 'young_person', session: t.session, grant, code: code || (same ? was.code : undefined) }));
  },
  clearYoung() { localStorage.removeItem(YOUNG); },
  clear() { localStorage.removeItem(STAFF); localStorage.removeItem(YOUNG); },
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

// Access tokens renewed with a device grant, by grant: a draft kept by a
// young person is sent with its own link's access, whoever uses the phone.
const granted = new Map();

/**
 * renewGrant gets a new access token for a device grant. It answers null
 * when the grant has ended (its SCT sent, or the child erased): nothing
 * more can be sent with it.
 */
export async function renewGrant(grant) {
  const res = await send('POST', '/api/v1/auth/session/renew', { grant });
  if (res.status === 401) {
    granted.delete(grant);
    return null;
  }
  const t = await answer(res);
  granted.set(grant, t.access_token);
  const y = session.young();
  if (y && y.grant === grant) session.saveYoung(t);
  return t.access_token;
}

/** GrantEnded means a device grant can send nothing more. */
export class GrantEnded extends Error {
  constructor() { super(t('api.grantEnded')); }
}

async function answer(res) {
  if (!res.ok) {
    let payload = null;
    try { payload = await res.json(); } catch { /* not JSON */ }
    throw new APIError(res.status, payload);
  }
  return res.status === 204 ? null : res.json();
}

/** call sends a request as the current user and returns the decoded answer. */
export async function call(method, path, body) {
  const who = session.current();
  let res = await send(method, path, body, who && who.access);
  if (res.status === 401 && who && who.refresh && await refresh()) {
    res = await send(method, path, body, session.current().access);
  } else if (res.status === 401 && who && who.grant) {
    const token = await renewGrant(who.grant);
    if (token) res = await send(method, path, body, token);
  }
  return answer(res);
}

/** callWithGrant sends a request with the access a device grant gives. */
export async function callWithGrant(grant, method, path, body) {
  let token = granted.get(grant) || (session.young() && session.young().grant === grant ? session.young().access : null);
  let res = token ? await send(method, path, body, token) : null;
  if (!res || res.status === 401) {
    token = await renewGrant(grant);
    if (!token) throw new GrantEnded();
    res = await send(method, path, body, token);
  }
  return answer(res);
}

export const get = (path) => call('GET', path);

const KEPT = 'sct.kept.';

/**
 * keptList fetches a list served a page at a time, following each page's
 * next (as after=), and keeps the pages as one list under key on the
 * device: with no signal it answers what was kept, so a worker's pages
 * open without signal. Only staff reads are kept, and signing out removes
 * them.
 */
export async function keptList(path, key) {
  try {
    let all = null;
    let next = '';
    for (let pages = 0; pages < 1000; pages++) {
      const v = await get(next ? `${path}&after=${encodeURIComponent(next)}` : path);
      if (all) all[key] = all[key].concat(v[key]); else all = v;
      if (!v.next) break;
      next = v.next;
    }
    delete all.next;
    try { localStorage.setItem(KEPT + path, JSON.stringify(all)); } catch { /* storage full: not kept */ }
    return all;
  } catch (e) {
    const k = e instanceof Offline ? read(localStorage, KEPT + path) : null;
    if (k) return k;
    throw e;
  }
}

/**
 * keptLocally is what the page keeps on the device under name (null:
 * nothing); keepLocally(name, value) keeps value there (null forgets it).
 * Signing out removes all of it, with the kept lists.
 */
export const keptLocally = (name) => read(localStorage, KEPT + name);
export function keepLocally(name, value) {
  try {
    if (value == null) localStorage.removeItem(KEPT + name); else localStorage.setItem(KEPT + name, JSON.stringify(value));
  } catch { /* storage full: not kept */ }
}

function forgetKept() {
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const key = localStorage.key(i);
    if (key && key.startsWith(KEPT)) localStorage.removeItem(key);
  }
}

/**
 * keepForOffline fetches, right after a sign-in, what a worker needs to
 * start an SCT with no signal: every form definition and their site's
 * children (the pages themselves the service worker keeps).
 */
export async function keepForOffline() {
  const list = await get('/api/v1/forms');
  const jobs = [];
  for (const f of list.forms || []) {
    for (const v of f.versions || []) {
      for (const l of v.languages || [{ code: 'en' }]) jobs.push(form(f.form, v.version, l.code));
    }
  }
  const s = session.staff();
  for (const site of (s && s.sites) || []) jobs.push(keptList(`/api/v1/children?site=${encodeURIComponent(site)}`, 'children'));
  await Promise.allSettled(jobs);
}

// once sends a request with no token and no retry: sign-in, sign-out and
// codes (a retry would count as a second attempt).
async function once(method, path, body) {
  return answer(await send(method, path, body));
}

export async function login(email, password) {
  const t = await once('POST', '/api/v1/auth/login', { email, password });
  session.saveStaff(t);
  // A member of staff signing in takes the phone back from a young
  // person's link; answers of theirs still waiting go with their own grant.
  session.clearYoung();
  return t;
}

export async function logout() {
  const s = session.staff();
  if (s && s.refresh) {
    try { await once('POST', '/api/v1/auth/logout', { refresh_token: s.refresh }); } catch { /* ending anyway */ }
  }
  session.clear();
  forgetKept();
}

/** join redeems a young person's one-time code. */
/** codeKey is a code as the server compares it: letters and digits, upper case. */
export const codeKey = (code) => String(code).replace(/[^A-Za-z0-9]/g, '').toUpperCase();

export async function join(code) {
  const t = await once('POST', '/api/v1/auth/session', { code });
  session.saveYoung(t, codeKey(code));
  return t.session;
}

/**
 * form returns a form definition in a language (English when none is
 * named), kept on the device for use with no connection. A published
 * version's codes never change, but its wording can (a translation
 * reviewed, a language added), so with a connection it is asked for again:
 * the browser's cache revalidates it with its ETag, which costs little.
 */
export async function form(id, version, lang = 'en') {
  const key = `sct.form.${id}.${version}${lang === 'en' ? '' : `.${lang}`}`;
  const kept = read(localStorage, key);
  const query = lang === 'en' ? '' : `?lang=${encodeURIComponent(lang)}`;
  let def;
  try {
    def = await get(`/api/v1/forms/${encodeURIComponent(id)}/versions/${encodeURIComponent(version)}${query}`);
  } catch (e) {
    if (kept && e instanceof Offline) return kept;
    throw e;
  }
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

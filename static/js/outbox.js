// Drafts kept on the device. Every change is written here first, so nothing
// is lost to a weak signal or a closed tab; the outbox then sends the latest
// body of each response to the server (same id, so it is stored once).

import { call, callWithGrant, APIError, Offline, GrantEnded } from './api.js';

const DB = 'sct';
const DRAFTS = 'drafts';

// One connection, opened once and kept: a change is written in the task
// that makes it, with no wait for a connection first, so a tab closed just
// after a tap still has the tap.
let opened = null;

function openDB() {
  if (!opened) {
    opened = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(DRAFTS, { keyPath: 'id' });
      req.onsuccess = () => {
        const db = req.result;
        db.onversionchange = () => { db.close(); opened = null; };
        db.onclose = () => { opened = null; };
        resolve(db);
      };
      req.onerror = () => { opened = null; reject(req.error); };
    });
  }
  return opened;
}

async function tx(mode, fn) {
  const db = await openDB();
  return new Promise((resolve, reject) => {
    const t = db.transaction(DRAFTS, mode);
    const out = fn(t.objectStore(DRAFTS));
    t.oncomplete = () => resolve(out && 'result' in out ? out.result : undefined);
    t.onerror = () => reject(t.error);
  });
}

/** load returns the kept draft of a response, or undefined. */
export const load = (id) => tx('readonly', (s) => s.get(id));

/** all returns every kept draft. */
export const all = () => tx('readonly', (s) => s.getAll());

/**
 * keep stores a response body (and where the person was in it) on the device
 * and marks it for sending.
 */
export async function keep(id, body, place, grant) {
  // A young person's draft carries its link's device grant (the page that
  // opened it says which), so that it can be sent from any tab, after a
  // restart, or once the link's time is up. changed marks this version.
  const changed = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  const record = { id, body, place, grant, pending: true, changed, error: null };
  await tx('readwrite', (s) => s.put(record));
  schedule();
  return record;
}

/** forget removes a draft from the device once the server holds it. */
export const forget = (id) => tx('readwrite', (s) => s.delete(id));

const listeners = new Set();
/** onChange calls fn(state) whenever the outbox state changes. */
export function onChange(fn) { listeners.add(fn); return () => listeners.delete(fn); }
function tell(state) { for (const fn of listeners) fn(state); }

let timer = null;
let running = null;

function schedule(delay = 600) {
  clearTimeout(timer);
  timer = setTimeout(flush, delay);
}

/**
 * flush sends every pending draft. A draft changed while it was being sent
 * stays pending and goes again with its newer body.
 */
export async function flush() {
  if (running) { schedule(); return running; }
  // One tab sends at a time, so that an older body sent from one tab cannot
  // land after a newer one from another.
  const locked = (fn) => (navigator.locks ? navigator.locks.request('sct-outbox', fn) : fn());
  running = locked(async () => {
    const pending = (await all()).filter((d) => d.pending);
    for (const d of pending) {
      try {
        const saved = d.grant
          ? await callWithGrant(d.grant, 'PUT', `/api/v1/responses/${d.id}`, d.body)
          : await call('PUT', `/api/v1/responses/${d.id}`, d.body);
        await tx('readwrite', (s) => {
          const req = s.get(d.id);
          req.onsuccess = () => {
            const now = req.result;
            if (now && now.changed === d.changed) s.put({ ...now, pending: false, error: null, saved: saved.status });
          };
        });
        tell({ id: d.id, state: 'saved', status: saved.status });
      } catch (e) {
        if (e instanceof Offline) { tell({ id: d.id, state: 'offline' }); return; }
        if (e instanceof GrantEnded) {
          // Sent from elsewhere, or the child's records were erased: what the
          // phone kept of it goes too.
          await forget(d.id);
          tell({ id: d.id, state: 'ended' });
          continue;
        }
        if (e instanceof APIError && e.status < 500 && e.status !== 401 && e.status !== 429) {
          // The server refused this body: keep it, show why, stop resending
          // it; unless a newer body was kept meanwhile, which goes next.
          await tx('readwrite', (s) => {
            const req = s.get(d.id);
            req.onsuccess = () => {
              const now = req.result;
              if (now && now.changed === d.changed) s.put({ ...now, pending: false, error: { message: e.message, fields: e.fields, status: e.status } });
            };
          });
          tell({ id: d.id, state: 'refused', error: e });
        } else {
          tell({ id: d.id, state: 'retry', error: e });
        }
      }
    }
  }).finally(() => { running = null; });
  return running;
}

/**
 * settle sends response id now, after any send already under way (which
 * may carry an older body), and answers what became of it: undefined or
 * not pending once the server holds it, an error when refused, pending
 * only when it could not be sent (no connection, server busy).
 */
export async function settle(id) {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (running) await running.catch(() => {});
    await flush();
    const d = await load(id);
    if (!d || !d.pending || navigator.onLine === false) return d;
  }
  return load(id);
}

/** pendingCount returns how many drafts wait to be sent. */
export async function pendingCount() {
  return (await all()).filter((d) => d.pending).length;
}

addEventListener('online', () => schedule(0));
schedule(0); // whatever waits on the device goes as soon as any page opens
setInterval(() => { if (navigator.onLine !== false) flush(); }, 10000);

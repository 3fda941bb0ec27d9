// The pages: sign-in, a site's children, one child, and the routes into the
// SCT wizard, paper transcription, practice summaries and the dashboard.
// Routes live in the URL fragment, so the server serves one page.

import { session, login, logout, join, codeKey, get, keptList, keptLocally, keepLocally, keepForOffline, call, newID, APIError, Offline } from './api.js';
import * as outbox from './outbox.js';
import { h, show, sentPage, faults, markFaults, day } from './ui.js';
import * as i18n from './i18n.js';
import { t, tx } from './i18n.js';
import { WORDS as mapWords } from './mapwords.js';

const routes = [
  [/^#join=([A-Za-z0-9-]+)$/, (code) => joinPage(code)],
  [/^#\/login$/, () => loginPage()],
  [/^#\/code$/, () => codePage()],
  [/^#\/children$/, () => childrenPage()],
  [/^#\/followups$/, () => followUpsPage()],
  [/^#\/child\/([^/]+)$/, (id) => childPage(decodeURIComponent(id))],
  [/^#\/sct\/([0-9a-f-]{36})(?:\?(.*))?$/, (id, q) => formPage('sct', id, q)],
  [/^#\/paper\/([0-9a-f-]{36})(?:\?(.*))?$/, (id, q) => formPage('paper', id, q)],
  [/^#\/practice\/([0-9a-f-]{36})(?:\?(.*))?$/, (id, q) => formPage('practice', id, q)],
  [/^#\/response\/([0-9a-f-]{36})(?:\?(.*))?$/, (id, q) => import('./review.js').then((m) => m.open({ id, done: backToChild(q) }))],
  [/^#\/map\/([0-9a-f-]{36})(?:\?(.*))?$/, (id, q) => import('./mapview.js').then((m) => m.open({ id, done: backToChild(q) }))],
  [/^#\/change\/([^/?]+)$/, (id) => import('./mapview.js').then((m) => m.change({ child: decodeURIComponent(id), done: backToChild(`child=${id}`) }))],
  [/^#\/dashboard$/, () => import('./dashboard.js').then((m) => m.open())],
];

// go shows the page of a hash: through the hashchange event when the hash
// changes (calling route as well would render twice, and the later render
// could replace what the person has started typing), directly when not.
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  nav();
  const hash = location.hash || '';
  const who = session.current();
  // A young person's pages and the SCT speak the language picked on this
  // device (the SCT then takes its answers' own); staff pages are English.
  const theirs = (who && hash.startsWith('#/sct/')) || hash.startsWith('#join=') || hash === '#/code' || (who && who.role === 'young_person' && hash !== '#/login');
  await i18n.use(theirs ? i18n.chosen() || 'en' : 'en').catch(() => { /* the words already loaded serve */ });
  if (!who && !hash.startsWith('#join=') && hash !== '#/code') return loginPage();
  // A link opened in a tab that already holds a young person's session is a
  // new link: it goes to the join page, not back to the old answers.
  // The sign-in and code pages stay open to staff on a phone a young person
  // used: a link kept on it must not lock the worker out.
  // A young person reaches their own SCT only.
  if (who && who.role === 'young_person' && hash.startsWith('#/sct/') && !hash.startsWith(`#/sct/${who.session.response_id}`)) return youngHome();
  if (who && who.role === 'young_person' && !hash.startsWith('#/sct/') && !hash.startsWith('#join=') && hash !== '#/login' && hash !== '#/code') return youngHome();
  for (const [re, fn] of routes) {
    const m = hash.match(re);
    if (m) {
      try { return await fn(...m.slice(1)); } catch (e) { return failed(e); }
    }
  }
  return home();
}

function home() {
  const role = session.role();
  if (role === 'evaluator') location.hash = '#/dashboard';
  else if (role === 'admin') show('Administration', h('h1', {}, 'Administration'), h('p', {}, 'Sites, users and the audit trail are managed through the API (see the README).'));
  else location.hash = '#/children';
}

async function failed(e) {
  if (e instanceof APIError && e.status === 401) {
    // A young person's link ends when the answers are sent or its time is
    // up; the staff sign-in page would only puzzle them.
    const young = session.role() === 'young_person';
    const answers = young ? (session.young() || {}).session?.response_id : null;
    if (young) session.clearYoung(); else session.clear();
    if (young) {
      // Sent from this phone (a page opened later sent what it kept, and
      // the link ended with it): that is what to say, not "ended".
      const kept = answers ? await outbox.load(answers).catch(() => null) : null;
      if (kept && kept.saved === 'submitted' && !kept.pending) return sentPage();
      return show(t('ended.title'), h('h1', {}, t('ended.title')), h('p', {}, t('ended.body')));
    }
    return loginPage();
  }
  const msg = e instanceof Offline ? t('failed.offline') : e.message;
  return show(t('failed.title'), h('h1', {}, t('failed.title')), h('p', { class: 'error', role: 'alert' }, msg),
    h('button', { type: 'button', onclick: route }, t('failed.retry')));
}

function nav() {
  const el = document.getElementById('nav');
  const who = session.current();
  const links = [];
  if (who && who.role !== 'young_person') {
    if (['coordinator', 'site_lead'].includes(who.role)) {
      links.push(h('a', { href: '#/children' }, 'Children'), h('a', { href: '#/followups' }, 'Follow-ups'));
    }
    if (['evaluator', 'site_lead'].includes(who.role)) links.push(h('a', { href: '#/dashboard' }, 'Dashboard'));
    links.push(h('button', { type: 'button', class: 'link', onclick: async () => { await logout(); go('#/login'); } }, 'Sign out'));
  }
  el.replaceChildren(...links);
}

async function netStatus() {
  const el = document.getElementById('net');
  const waiting = await outbox.pendingCount().catch(() => 0);
  const offline = navigator.onLine === false;
  el.className = offline ? 'net offline' : 'net';
  el.replaceChildren(...(offline
    ? tx(waiting ? 'net.offlineWaiting' : 'net.offline', { n: waiting })
    : (waiting ? tx('net.waiting', { n: waiting }) : [])));
  // The line stays on screen while there is no signal (see app.css), and
  // the bar stuck to the top sits under it.
  const stuck = offline && getComputedStyle(el).position === 'sticky';
  document.documentElement.style.setProperty('--net-h', stuck ? `${Math.ceil(el.getBoundingClientRect().height)}px` : '0px');
}

function loginPage() {
  const email = h('input', { id: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { id: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = h('div');
  const firstRun = h('div');
  show('Sign in',
    h('h1', {}, 'Sign in'),
    firstRun,
    h('form', {
      class: 'card', onsubmit: async (e) => {
        e.preventDefault();
        err.replaceChildren();
        try {
          await login(email.value, password.value);
          // What a worker needs to start an SCT with no signal, kept now.
          keepForOffline().catch(() => { /* kept next time */ });
          go('#/');
        } catch (x) {
          const box = faults(x.status === 401 ? { message: 'The email or password is not right. Check both and try again' } : x);
          box.id = 'sign-in-faults';
          err.replaceChildren(box);
          // Which of the two was wrong is not said; both are marked, and
          // the password, typed again more often, takes the focus.
          const wrong = x.status === 401 ? { fields: [{ path: 'email' }, { path: 'password' }] } : null;
          if (markFaults(wrong, [['email', email], ['password', password]], box)) { password.focus(); password.select(); } else box.focus();
        }
      },
    }, h('label', { for: 'email' }, 'Email'), email, h('label', { for: 'password' }, 'Password'), password, err,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in'))),
    h('p', { class: 'hint' }, 'Young people: open the link or scan the code your worker gives you.'),
    h('p', {}, h('a', { href: '#/code', id: 'type-code', class: 'tap' }, 'Type the code instead')));
  noAccountsYet(firstRun);
}

// noAccountsYet says, on a server with no account at all, where the way in
// is: the setup address in the server's log. The server says only whether
// setup is open, and it is open only while no account exists.
async function noAccountsYet(box) {
  let status;
  try {
    const res = await fetch('/api/v1/setup', { headers: { Accept: 'application/json' } });
    if (!res.ok) return;
    status = await res.json();
  } catch { return; /* offline: nothing to say */ }
  if (!status.open || !box.isConnected) return;
  box.replaceChildren(h('div', { class: 'card notice', id: 'no-accounts', role: 'status' },
    h('h2', {}, 'There are no accounts yet'),
    h('p', {}, 'When the server started, it wrote a setup address in its log: a line that says ',
      h('q', {}, 'no accounts yet'), ', with an address ending in ', h('strong', {}, '#token=…'), '.'),
    h('p', {}, 'Open that address in this browser to create the first administrator. It works once, until the server stops.')));
}

// codePage is where a young person types the code their worker gives them.
function codePage() {
  const code = h('input', { id: 'code', type: 'text', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false',
    required: true, inputmode: 'text', 'aria-describedby': 'code-hint' });
  const err = h('div');
  show(t('code.title'),
    h('h1', {}, t('code.title')),
    h('form', {
      class: 'card', onsubmit: (e) => {
        e.preventDefault();
        const c = codeKey(code.value);
        if (c.length < 8) { err.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('code.short'))); code.focus(); return; }
        go(`#join=${c}`);
      },
    }, h('label', { for: 'code' }, t('code.label')), code,
    h('p', { class: 'hint', id: 'code-hint' }, t('code.hint')),
    err, h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('code.start')))));
}

async function joinPage(code) {
  show(t('join.title'), h('h1', {}, t('join.title')), h('p', { role: 'status' }, t('join.opening')));
  try {
    const s = await join(code);
    history.replaceState(null, '', `#/sct/${s.response_id}`);
    return route();
  } catch (e) {
    // The same link opened again on the phone that used it (spent, or no
    // signal to ask): carry on where the young person stopped, with what
    // this phone kept.
    const kept = session.young();
    if (kept && kept.code === codeKey(code) && ((e instanceof APIError && e.status === 401) || e instanceof Offline)) {
      history.replaceState(null, '', `#/sct/${kept.session.response_id}`);
      return route();
    }
    if (e instanceof Offline) {
      // Not opened on this phone before, and no signal to open it: the link
      // may well work. Say so, and open it when the signal comes back.
      const again = () => { removeEventListener('online', again); if (location.hash === `#join=${code}`) route(); };
      addEventListener('online', again);
      return show(t('join.offline.title'), h('h1', {}, t('join.offline.title')),
        h('p', { role: 'status' }, t('join.offline.body')),
        h('button', { type: 'button', onclick: route }, t('failed.retry')));
    }
    return show(t('join.bad.title'), h('h1', {}, t('join.bad.title')),
      h('p', {}, t('join.bad.body')), faults(e));
  }
}

function youngHome() {
  const s = session.young().session;
  location.hash = `#/sct/${s.response_id}`;
}

function siteOf() {
  const s = session.staff();
  return s && s.sites && s.sites[0];
}

async function childrenPage() {
  const site = siteOf();
  const data = await keptList(`/api/v1/children?site=${encodeURIComponent(site)}`, 'children');
  const id = h('input', { id: 'child-id', required: true, autocomplete: 'off', pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]*',
    title: 'Letters and numbers, with . _ or - between; no spaces', 'aria-describedby': 'child-id-hint' }); // the hyphen escaped: browsers read a pattern with the v flag; a fault adds its list (markFaults)
  const group = h('select', { id: 'child-group' }, h('option', { value: 'lifelong_links' }, 'Lifelong Links'), h('option', { value: 'comparison' }, 'Comparison'));
  const err = h('div', { id: 'child-error' });
  const state = (c) => {
    const sct = c.responses.filter((r) => r.form === 'sct');
    const base = sct.find((r) => r.timepoint === 'baseline' && r.status === 'submitted');
    const fu = sct.filter((r) => r.timepoint === 'follow_up' && r.status === 'submitted').length;
    const drafts = c.responses.filter((r) => r.status === 'draft').length;
    const parts = [base ? ['baseline ', day(base.completed_on)] : ['no baseline'], fu ? [`${fu} follow-up${fu > 1 ? 's' : ''}`] : null, drafts ? [`${drafts} draft${drafts > 1 ? 's' : ''}`] : null];
    return parts.filter(Boolean).flatMap((p) => [' · ', ...p]);
  };
  show('Children',
    h('h1', {}, `Children in site ${site}`),
    data.children.length ? h('ul', { class: 'people' }, data.children.map((c) => h('li', {},
      h('span', {}, h('a', { class: 'who', href: `#/child/${encodeURIComponent(c.id)}` }, c.id), h('span', { class: 'rel' }, c.group === 'comparison' ? 'Comparison' : 'Lifelong Links', ...state(c)))))) : h('p', {}, 'No children registered yet.'),
    h('form', {
      class: 'card', onsubmit: async (e) => {
        e.preventDefault();
        try {
          const c = await call('POST', '/api/v1/children', { id: id.value.trim(), site, group: group.value });
          location.hash = `#/child/${encodeURIComponent(c.id)}`;
        } catch (x) {
          // Named as the form names them, and the child ID box marked and
          // given the focus when it is at fault.
          const box = faults(x, { fields: [{ name: 'id', label: 'Child ID' }, { name: 'group', label: 'Group' }] });
          box.id = 'register-faults';
          err.replaceChildren(box);
          (markFaults(x, [['id', id], ['group', group]], box) || box).focus();
        }
      },
    }, h('h2', {}, 'Register a child'),
    h('p', { class: 'hint', id: 'child-id-hint' }, "Use the local authority's child ID. Never a name. Letters and numbers, with . _ or - between; no spaces."),
    h('label', { for: 'child-id' }, 'Child ID'), id, h('label', { for: 'child-group' }, 'Group'), group, err,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Register'))));
}

// FOLLOW_UPS are the due list's parts, in the order the server lists them;
// those not due yet or ended sit folded away.
const FOLLOW_UPS = [
  ['overdue', 'Overdue', true],
  ['due', 'Due now', true],
  ['no_baseline', 'No baseline SCT yet', true],
  ['not_due', 'Not due yet', false],
  ['ceased', 'Participation ended', false],
];
/** followUpLabel is the due list's name for a status. */
const followUpLabel = (status) => FOLLOW_UPS.find(([s]) => s === status)[1];

/** followUpsPage is a site's due list: who needs a follow-up SCT, and when. */
async function followUpsPage() {
  const site = siteOf();
  const data = await keptList(`/api/v1/followups?site=${encodeURIComponent(site)}&limit=500`, 'children');
  const counts = data.counts || {};
  const item = (c) => {
    const rel = [c.group === 'comparison' ? 'Comparison' : 'Lifelong Links'];
    if (c.due_on) rel.push(` · ${c.status === 'overdue' ? 'was due' : 'due'} `, day(c.due_on), c.next_wave ? `, follow-up ${c.next_wave}` : '');
    if (c.last_sct) rel.push(' · last SCT ', day(c.last_sct));
    return h('li', {}, h('span', {},
      h('a', { class: 'who', href: `#/child/${encodeURIComponent(c.child_id)}` }, c.child_id),
      h('span', { class: 'rel' }, ...rel)));
  };
  const part = ([status, title, open]) => {
    const kids = data.children.filter((c) => c.status === status);
    const body = kids.length ? h('ul', { class: 'people' }, kids.map(item)) : h('p', { class: 'hint' }, 'None.');
    const heading = `${title} (${counts[status] ?? kids.length})`;
    if (open) return h('section', { class: 'card', 'aria-labelledby': `fu-${status}` }, h('h2', { id: `fu-${status}` }, heading), body);
    return h('details', { class: 'card' }, h('summary', {}, heading), body);
  };
  const feed = h('div', { role: 'status' });
  // Whether an address works already (made on another visit, perhaps on
  // another device): a new one would end it, so the page asks first.
  let made = false;
  const already = h('p', {});
  get('/api/v1/calendar').then((c) => {
    made = !!c.exists;
    if (made) already.replaceChildren('You made an address on ', day(c.made_at.slice(0, 10)), '. A calendar may follow it: a new one ends it.');
  }).catch(() => { /* no signal: nothing to ask about, and making one fails and says so */ });
  show('Follow-ups',
    h('h1', {}, `Follow-ups in site ${site}`),
    h('p', {}, 'On ', day(data.today), `: ${counts.overdue ?? 0} overdue, ${counts.due ?? 0} due now.`),
    ...FOLLOW_UPS.map(part),
    h('p', { class: 'hint' }, "A follow-up SCT is due the site's interval after the last one; due now means within 28 days of that date."),
    h('section', { class: 'card', 'aria-labelledby': 'fu-calendar' },
      h('h2', { id: 'fu-calendar' }, 'In your calendar'),
      h('p', {}, 'A private address your calendar program can follow: these dates appear there and keep up to date. A new address ends the one before.'),
      already,
      feed,
      h('div', { class: 'actions' }, h('button', {
        type: 'button', class: 'secondary', onclick: async () => {
          // A second address ends the first, which a calendar may follow.
          if (made && !confirm('Make a new address? The one you made before stops working.')) return;
          feed.replaceChildren(h('p', {}, 'Making the address…'));
          try {
            const { url } = await call('POST', '/api/v1/calendar');
            made = true;
            already.replaceChildren(); // the address it told of has ended
            const box = h('input', { id: 'calendar-url', type: 'text', readonly: true, value: url, 'aria-label': 'Calendar address' });
            const copied = h('span', { role: 'status' });
            const copy = h('button', {
              type: 'button', class: 'secondary', onclick: async () => {
                try { await navigator.clipboard.writeText(url); copied.textContent = 'Copied.'; } catch { box.select(); copied.textContent = 'Select the address and copy it.'; }
              },
            }, 'Copy the address');
            feed.replaceChildren(h('p', {}, 'Your calendar address (keep it private: anyone with it sees these dates):'), box,
              h('div', { class: 'actions' }, copy, copied));
            box.focus(); box.select();
          } catch (x) { feed.replaceChildren(faults(x)); }
        },
      }, 'Make a calendar address'))));
}

function nextSCT(responses) {
  const sct = responses.filter((r) => r.form === 'sct' && r.status === 'submitted');
  if (!sct.some((r) => r.timepoint === 'baseline')) return { timepoint: 'baseline', wave: 1 };
  return { timepoint: 'follow_up', wave: sct.filter((r) => r.timepoint === 'follow_up').length + 1 };
}

async function childPage(id) {
  // From the site's list, kept on the device: the page opens with no signal.
  const listOf = (site) => keptList(`/api/v1/children?site=${encodeURIComponent(site)}`, 'children');
  // The child's own record (with their line of the due list), asked for
  // once: for the due line below, and for a child of another of the
  // worker's sites, who is not in this site's list.
  const own = get(`/api/v1/children/${encodeURIComponent(id)}`);
  own.catch(() => {}); // no signal: each use below says what it does without
  let child = (await listOf(siteOf())).children.find((c) => c.id === id);
  if (!child) { // a child of another of the worker's sites
    const c = await own;
    child = (await listOf(c.site)).children.find((x) => x.id === id) || { ...c, responses: [] };
  }
  const responses = child.responses;
  const next = nextSCT(responses);
  const q = (extra) => new URLSearchParams({ child: id, ...extra }).toString();
  const label = next.timepoint === 'baseline' ? 'baseline' : `follow-up ${next.wave}`;
  const linkBox = h('div', { role: 'status' });
  // When the next SCT is due, from the child's line of the due list (with
  // no signal the line is left out: the rest of the page still opens).
  const dueLine = h('p', { id: 'due-line' });
  own.then(({ follow_up: f }) => {
    if (!f) return;
    const when = (words) => [words, day(f.due_on), '.'];
    const say = {
      overdue: () => [h('strong', {}, `${followUpLabel('overdue')}: `), ...when('it was due on ')],
      due: () => [h('strong', {}, `${followUpLabel('due')}: `), ...when('it is due on ')],
      not_due: () => when('Not due until '),
      ceased: () => ['Participation has ended: no follow-up is due.'],
    }[f.status];
    if (say) dueLine.replaceChildren(...say());
    if (f.status === 'overdue') dueLine.className = 'notice';
  }).catch(() => { /* no signal: no line */ });
  const makeLink = async () => {
    try {
      const s = await call('POST', `/api/v1/children/${encodeURIComponent(id)}/sessions`, { timepoint: next.timepoint, wave: next.wave });
      // Said to a screen reader as it comes (the box is a live region).
      linkBox.replaceChildren(h('div', { class: 'card' },
        h('h2', {}, 'Link for the young person'),
        h('p', {}, 'Scan this with their phone, or type the code at ', h('strong', {}, `${location.origin}/#/code`), '. It works once, for 2 hours.'),
        h('img', { class: 'qr', src: s.qr_png, alt: `QR code for the link ${s.link}` }),
        // Each half of the code stays whole; where both do not fit on
        // one line (a narrow phone, large text) they go one under the other.
        h('p', { class: 'code', id: 'session-code' }, s.code.split(/(?<=-)/).map((part) => h('span', {}, part))),
        h('p', { class: 'hint url' }, s.link)));
    } catch (e) { linkBox.replaceChildren(faults(e)); }
  };
  const psVersion = '2';
  show(`Child ${id}`,
    h('h1', {}, `Child ${id}`),
    h('p', {}, `Site ${child.site} · ${child.group === 'comparison' ? 'Comparison group' : 'Lifelong Links'}`),
    h('h2', {}, `Next SCT: ${label}`),
    dueLine,
    h('div', { class: 'row' },
      h('a', { class: 'button', id: 'start-sct', href: `#/sct/${newID()}?${q({ timepoint: next.timepoint, wave: next.wave })}` }, 'Start on this device'),
      h('button', { type: 'button', class: 'secondary', id: 'make-link', onclick: makeLink }, "Link for the young person's phone"),
      h('a', { class: 'button secondary', id: 'start-paper', href: `#/paper/${newID()}?${q({ timepoint: next.timepoint, wave: next.wave })}` }, 'Type in a paper SCT')),
    linkBox,
    h('h2', {}, 'Practice summary'),
    h('div', { class: 'row' },
      h('a', { class: 'button secondary', id: 'start-practice', href: `#/practice/${newID()}?${q({ version: psVersion })}` }, 'New practice summary'),
      h('a', { class: 'button secondary', href: `#/practice/${newID()}?${q({ version: '1' })}` }, 'Old format (before April 2019)')),
    participationForm(child),
    h('h2', {}, 'Forms for this child'),
    // A table wider than the phone scrolls in its box, its first column in view.
    responses.length ? h('div', { class: 'scroll' }, h('table', { class: 'forms' }, h('thead', {}, h('tr', {}, h('th', {}, 'Form'), h('th', {}, 'When'), h('th', {}, 'Status'), h('th', {}, ''))),
      h('tbody', {}, responses.map((r) => h('tr', {},
        h('td', {}, r.form === 'sct' ? 'SCT' : 'Practice summary', ` v${r.version}`),
        h('td', {}, r.timepoint ? `${r.timepoint === 'baseline' ? 'Baseline' : `Follow-up ${r.wave}`}` : '', r.completed_on ? [' · ', day(r.completed_on)] : ''),
        h('td', {}, r.status === 'submitted' ? `Submitted (revision ${r.revision})` : 'Draft'),
        h('td', {}, r.status === 'draft' ? h('a', { href: `#/${r.form === 'sct' ? (r.mode === 'paper' ? 'paper' : 'sct') : 'practice'}/${r.id}` }, 'Carry on')
          : r.form === 'sct' ? h('span', { class: 'row' },
            h('a', { href: `#/response/${r.id}?${q({})}`, 'aria-label': `Open the ${r.timepoint === 'baseline' ? 'baseline' : `follow-up ${r.wave}`} SCT` }, 'Open'),
            h('a', { href: `#/map/${r.id}?${q({})}`, 'aria-label': mapWords.map_link_name.replace('%s', r.timepoint === 'baseline' ? 'baseline' : `follow-up ${r.wave}`) }, mapWords.map_link)) : '')))))) : h('p', {}, 'None yet.'),
    thenAndNow(id, responses));
}

// thenAndNow leads to the child's baseline and latest follow-up side by
// side, once both are in.
function thenAndNow(id, responses) {
  const sct = responses.filter((r) => r.form === 'sct' && r.status === 'submitted');
  if (!sct.some((r) => r.timepoint === 'baseline') || !sct.some((r) => r.timepoint === 'follow_up')) return null;
  return h('p', {}, h('a', { class: 'button secondary', id: 'then-and-now', href: `#/change/${encodeURIComponent(id)}` }, mapWords.then_and_now));
}

// The codes of the evaluation's Table 15.
const TABLE15 = {
  yesNo: [['', 'Not recorded'], ['true', 'Yes'], ['false', 'No']],
  notParticipating: [['', 'Not recorded'], ['0', '0 Participated'], ['1', '1 Refusal: child'], ['2', '2 Refusal: agency consent'],
    ['3', '3 Refusal: foster carer'], ['4', '4 Refusal: birth parent'], ['5', '5 Being considered'], ['-1', '-1 Unknown']],
  ceased: [['', 'Not recorded'], ['1', '1 Completed the programme'], ['2', '2 Child chose to withdraw'],
    ['3', '3 Social worker withdrew the child'], ['4', '4 Other reason'], ['-1', '-1 Unknown']],
  done: [['', 'Not recorded'], ['1', '1 Yes'], ['0', '0 No'], ['-1', '-1 Not applicable']],
};

/** participationForm records the child's participation with the codes of Table 15. */
function participationForm(child) {
  // What was changed and not saved yet is kept on the device (and goes at
  // sign-out with the other kept pages), so that leaving the page loses
  // nothing: it is shown again, open, until it is saved.
  const keptKey = `participation.${child.id}`;
  const kept = keptLocally(keptKey);
  const p = kept || child.participation || {};
  const fields = [];
  const select = (name, label, options, value) => {
    const el = h('select', { id: `p-${name}` }, options.map(([v, l]) => h('option', { value: v, selected: String(value ?? '') === v }, l)));
    fields.push({ name, el, label, kind: options === TABLE15.yesNo ? 'bool' : 'int' });
    return h('div', {}, h('label', { for: `p-${name}` }, label), el);
  };
  const date = (name, label) => {
    const el = h('input', { id: `p-${name}`, type: 'date', value: p[name] || '' });
    fields.push({ name, el, label, kind: 'date' });
    return h('div', {}, h('label', { for: `p-${name}` }, label), el);
  };
  const pauses = h('div');
  let pauseN = 0;
  const addPause = (v = {}) => {
    // Each date is labelled on screen, as every other field is.
    const n = ++pauseN;
    const from = h('input', { type: 'date', id: `pause-${n}-from`, value: v.from || '' });
    const to = h('input', { type: 'date', id: `pause-${n}-to`, value: v.to || '' });
    const row = h('div', { class: 'row pause' },
      h('div', {}, h('label', { for: `pause-${n}-from` }, 'Paused from'), from),
      h('div', {}, h('label', { for: `pause-${n}-to` }, 'Until (empty while it lasts)'), to),
      h('button', { type: 'button', class: 'danger', 'aria-label': `Remove pause ${n}`, onclick: () => { row.remove(); keep(); } }, 'Remove'));
    // Only an empty row is left out: one with an end and no start goes to
    // the server, which names what is missing, rather than vanishing.
    row.read = () => (from.value || to.value ? { from: from.value, ...(to.value ? { to: to.value } : {}) } : null);
    pauses.append(row);
  };
  for (const v of p.pauses || []) addPause(v);
  const status = h('div', { role: 'status', 'aria-live': 'polite' });
  // At the top of the form: that changes are not saved yet, and a way to
  // throw them away.
  const unsaved = h('div', { 'aria-live': 'polite' });
  const sayUnsaved = (on) => unsaved.replaceChildren(...(on ? [h('div', { class: 'notice' },
    h('p', {}, 'Not saved yet: these changes are kept on this device until you save them.'),
    h('button', {
      type: 'button', class: 'secondary', onclick: () => {
        keepLocally(keptKey, null);
        const again = participationForm(child);
        again.open = true;
        details.replaceWith(again);
        again.querySelector('summary').focus();
      },
    }, 'Discard these changes'))] : []));
  sayUnsaved(!!kept);
  // collect is the record as the form holds it; saved the stored record in
  // the same shape.
  function collect() {
    const body = {};
    for (const f of fields) {
      const v = f.el.value;
      if (v === '') continue;
      body[f.name] = f.kind === 'bool' ? v === 'true' : f.kind === 'int' ? Number(v) : v;
    }
    body.pauses = [...pauses.children].map((r) => r.read()).filter(Boolean);
    return body;
  }
  function saved() {
    const rec = child.participation || {};
    const body = {};
    for (const f of fields) {
      if (rec[f.name] !== undefined && rec[f.name] !== null && rec[f.name] !== '') body[f.name] = rec[f.name];
    }
    body.pauses = (rec.pauses || []).map((v) => ({ from: v.from, ...(v.to ? { to: v.to } : {}) }));
    return body;
  }
  // keep keeps the form's record on the device while it differs from the
  // stored one; put back as it was, nothing is kept.
  function keep() {
    const now = collect();
    const changed = JSON.stringify(now) !== JSON.stringify(saved());
    keepLocally(keptKey, changed ? now : null);
    if (changed !== (unsaved.childElementCount > 0)) sayUnsaved(changed);
  }
  const save = async (e) => {
    e.preventDefault();
    const body = collect();
    // The boxes by the paths the server names them by. The server numbers
    // the pauses sent: the rows left empty were not.
    const boxes = fields.map((f) => [f.name, f.el]);
    [...pauses.children].filter((row) => row.read()).forEach((row, i) => {
      const [from, to] = row.querySelectorAll('input');
      boxes.push([`pauses[${i}].from`, from], [`pauses[${i}].to`, to]);
    });
    try {
      await call('PUT', `/api/v1/children/${encodeURIComponent(child.id)}/participation`, body);
      markFaults(null, boxes, { id: 'participation-faults' }); // nothing is at fault now
      keepLocally(keptKey, null);
      child.participation = body;
      sayUnsaved(false);
      status.replaceChildren(h('p', {}, 'Participation saved.'));
    } catch (x) {
      // The server's faults in the form's own words.
      const labels = { fields: [...fields.map((f) => ({ name: f.name, label: f.label })),
        { name: 'pauses', label: 'Child-led pause', item: { fields: [{ name: 'from', label: 'From' }, { name: 'to', label: 'To' }] } }] };
      const box = faults(x, labels);
      box.id = 'participation-faults';
      status.replaceChildren(box);
      // Each box at fault is marked and described by the list; the list
      // takes the focus, so that all of it is read.
      markFaults(x, boxes, box);
      box.focus();
    }
  };
  const details = h('details', { class: 'card', open: !!kept },
    h('summary', {}, 'Participation in Lifelong Links'),
    h('form', { onsubmit: save, oninput: keep, onchange: keep },
      unsaved,
      h('div', { class: 'grid2' },
        select('eligible', 'Eligible', TABLE15.yesNo, p.eligible),
        select('participating', 'Participating', TABLE15.yesNo, p.participating),
        date('started_on', 'Date enrolled'),
        select('reason_not_participating', 'Reason for not participating', TABLE15.notParticipating, p.reason_not_participating),
        date('ceased_on', 'Date participation ceased'),
        select('reason_ceased', 'Reason participation ceased', TABLE15.ceased, p.reason_ceased),
        select('plan_completed', 'Plan completed', TABLE15.done, p.plan_completed),
        select('fgc_completed', 'Family group conference completed', TABLE15.done, p.fgc_completed),
        select('review_fgc_completed', 'Review conference completed', TABLE15.done, p.review_fgc_completed)),
      h('fieldset', {}, h('legend', {}, 'Child-led pauses'), pauses,
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => addPause() }, 'Add a pause'))),
      status,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save participation'))));
  return details;
}

// backToChild is the way back from a page opened from a child's page.
function backToChild(query) {
  const child = new URLSearchParams(query || '').get('child');
  return child ? () => { location.hash = `#/child/${encodeURIComponent(child)}`; } : null;
}

async function formPage(kind, id, query) {
  const q = new URLSearchParams(query || '');
  const young = session.role() === 'young_person';
  const ys = young ? session.young().session : null;
  const child = young ? ys.child_id : q.get('child');
  const back = () => { location.hash = young ? '#/' : `#/child/${encodeURIComponent(child)}`; };
  if (kind === 'practice') {
    const m = await import('./formview.js');
    return m.open({ id, meta: { form: 'practice-summary', version: q.get('version') || '2', child_id: child }, done: back });
  }
  const meta = young
    ? { form: ys.form, version: ys.version, child_id: ys.child_id, timepoint: ys.timepoint, wave: ys.wave }
    : { form: 'sct', version: '1', child_id: child, timepoint: q.get('timepoint') || 'baseline', wave: Number(q.get('wave') || 1) };
  const m = await import(kind === 'paper' ? './paper.js' : './sct.js');
  return m.open({ id, meta, young, done: young ? null : back, revise: q.get('revise') === '1' });
}

addEventListener('hashchange', route);
addEventListener('online', netStatus);
addEventListener('offline', netStatus);
outbox.onChange(netStatus);
if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => { /* works without it, online */ });
// The connection line speaks the page's language, loaded by the first route.
route().finally(netStatus);

// Small DOM helpers, read-aloud, and the page frame.

import { t, tx, lang, languageName } from './i18n.js';

/** h builds an element: h('button', {class: 'x', onclick: f}, 'text', child). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** show replaces the page's content, moves focus to its heading and names the page. */
export function show(title, ...content) {
  const main = document.getElementById('main');
  main.className = '';
  main.replaceChildren(...content.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  document.title = `${title} · ${t('app.name')}`;
  const heading = main.querySelector('h1');
  if (heading) { heading.tabIndex = -1; heading.focus(); } else main.focus();
  return main;
}

/**
 * sentPage says a young person's answers were sent: the page they find once
 * the answers are in, whichever way they came to it (the link ended with
 * the sending, or the answers were opened again).
 */
export const sentPage = () => show(t('sent.title'), h('h1', {}, t('sent.heading')), h('p', {}, t('sent.body')));

const canSpeak = typeof speechSynthesis !== 'undefined' && typeof SpeechSynthesisUtterance !== 'undefined';

/**
 * voicesReady waits (a moment at most) for the device's voices: phones
 * list them only after a first ask.
 */
export function voicesReady() {
  if (!canSpeak) return Promise.resolve([]);
  const now = speechSynthesis.getVoices();
  if (now.length) return Promise.resolve(now);
  return new Promise((resolve) => {
    const done = () => resolve(speechSynthesis.getVoices());
    speechSynthesis.addEventListener('voiceschanged', done, { once: true });
    setTimeout(done, 1500);
  });
}

/** voiceFor is the device's voice for a language (en-GB first for English), or null. */
export function voiceFor(code) {
  if (!canSpeak) return null;
  const voices = speechSynthesis.getVoices();
  const base = (v) => v.lang.toLowerCase().replace('_', '-').split('-')[0];
  return voices.find((v) => v.lang === 'en-GB' && code === 'en') || voices.find((v) => base(v) === code) || null;
}

/** speak reads text aloud in the page's language; false when the device has no voice for it. */
export function speak(text) {
  const voice = voiceFor(lang());
  if (!voice) return false;
  speechSynthesis.cancel();
  const u = new SpeechSynthesisUtterance(text);
  u.voice = voice;
  u.lang = voice.lang;
  u.rate = 0.95;
  speechSynthesis.speak(u);
  return true;
}

/** noVoice says, in words, that the device cannot read aloud in the page's language. */
export function noVoice() {
  return h('p', { class: 'notice no-voice', role: 'status' }, tx('say.noVoice', { language: languageName() }));
}

/**
 * sayButton is a "Read aloud" button for a question and its choices; its
 * accessible name says which question (label, or the start of the text).
 * With no voice for the language, it says so beside itself rather than
 * read in another language's voice.
 */
export function sayButton(text, label, small = false) {
  if (!canSpeak) return null;
  const name = label || text().split(/[.?!؟]\s/)[0];
  const button = h('button', {
    type: 'button', class: small ? 'say small' : 'say', title: t('say.button'), 'aria-label': t('say.label', { what: name }),
    onclick: async () => {
      await voicesReady();
      if (speak(text())) return;
      const said = button.parentNode && button.parentNode.querySelector(':scope > .no-voice');
      if (!said) button.after(noVoice());
    },
  }, h('span', { class: 'say-icon', 'aria-hidden': 'true' }), small ? null : ` ${t('say.button')}`);
  return button;
}

/** tiles is a group of big radio (or checkbox) tiles. */
export function tiles({ name, legend, options, value, onpick, multiple = false, say = true, cls = '' }) {
  const type = multiple ? 'checkbox' : 'radio';
  const chosen = (v) => (multiple ? (value || []).includes(v) : value === v);
  const inputs = options.map((o) => {
    const input = h('input', { type, name, value: String(o.value), checked: chosen(o.value) });
    // onpick hears whether a finger or a pointer picked the tile: arrow
    // keys move through a group of radio buttons picking each on the way,
    // which must not count as a decision.
    const tile = h('label', { class: 'tile', lang: o.lang, dir: o.dir }, input, h('span', {}, h('bdi', {}, o.label)));
    input.addEventListener('change', () => onpick(o.value, input.checked,
      { pointer: performance.now() - pointed.at < 1000 && tile.contains(pointed.on) }));
    return tile;
  });
  const spoken = () => `${legend}. ${options.map((o) => o.label).join('. ')}.`;
  // The fieldset and its legend name the group once; the tiles' box adds
  // no second name for a screen reader to announce.
  // A question's Read aloud button sits beside it, on its first line.
  const group = h('fieldset', {},
    h('legend', {}, h('span', { class: 'q' }, h('span', {}, legend))),
    h('div', { class: `tiles ${cls}` }, inputs));
  return say ? h('div', { class: 'q-said' }, group, sayButton(spoken, legend, true)) : group;
}

/**
 * sayLater puts words in a live region once the page is drawn, so that a
 * screen reader hears them (words a region is made with are not read),
 * unless still() says by then they no longer hold.
 */
export function sayLater(el, words, still = () => true) {
  if (el) setTimeout(() => { if (still()) el.textContent = words; }, 50);
}

/**
 * day is a date (YYYY-MM-DD) written as people read it, "14 Dec 2019",
 * which a screen reader says as a date rather than as numbers; the element
 * keeps the date itself, and never breaks across lines (app.css: time).
 */
export const day = (d) => h('time', { datetime: d }, spelled(d));

const dayWords = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

function spelled(d) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d || '');
  return m ? dayWords.format(new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]))) : d;
}

// pointed is where and when a finger or a pointer last went down.
const pointed = { at: -Infinity, on: null };
addEventListener('pointerdown', (e) => { pointed.at = performance.now(); pointed.on = e.target; }, true);

/** faults lists the server's field faults. */
export function faults(err, def) {
  if (!err) return null;
  return h('div', { class: 'errors', role: 'alert', tabindex: '-1' },
    h('p', {}, sentence(err.message)),
    err.fields && err.fields.length ? h('ul', {}, err.fields.map((f) => h('li', {}, `${describePath(f.path, def)}: ${f.reason}`))) : null);
}

/**
 * markFaults ties a fault list (from faults, given the id box) to the boxes
 * it names: each box whose path the server gave is marked invalid and
 * described by the list, and every other is cleared. boxes are [path, box]
 * pairs. It returns the first box marked, to take the focus.
 */
export function markFaults(err, boxes, box) {
  const paths = ((err && err.fields) || []).map((f) => String(f.path));
  let first = null;
  for (const [path, el] of boxes) {
    const at = paths.includes(path);
    // The fault list is added to what describes the box (a hint stays).
    const described = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter((x) => x && !(box && x === box.id));
    if (at) {
      el.setAttribute('aria-invalid', 'true');
      if (box && box.id) described.push(box.id);
      first = first || el;
    } else {
      el.removeAttribute('aria-invalid');
    }
    if (described.length) el.setAttribute('aria-describedby', described.join(' ')); else el.removeAttribute('aria-describedby');
  }
  return first;
}

// sentence is a message as a sentence: the server's begin in lower case.
function sentence(s) {
  const m = String(s || '');
  return m.charAt(0).toUpperCase() + m.slice(1) + (/[.!?…]$/.test(m) ? '' : '.');
}

// Words for the parts of a path the server names that are not the
// definition's own fields.
const PATH_WORDS = ['child_id', 'completed_on', 'timepoint', 'wave', 'mode', 'language'];

/**
 * describePath turns a field path the server gives ("answers.key_people[0]
 * .support.trust") into the words the page uses ("Key people, number 1 ›
 * Support › Trust"), from the form definition's labels; lists are numbered
 * from 1, as the pages number them.
 */
export function describePath(path, def) {
  const parts = String(path).match(/[^.[\]]+|\[\d+\]/g) || [String(path)];
  const words = [];
  let node = def && def.answers ? { fields: [{ ...def.answers, name: 'answers' }] } : def;
  for (const part of parts) {
    const index = part.match(/^\[(\d+)\]$/);
    if (index) {
      if (words.length) words[words.length - 1] = t('faults.number', { what: words[words.length - 1], n: Number(index[1]) + 1 });
      node = node && node.item ? node.item : null;
      continue;
    }
    const field = node && node.fields ? node.fields.find((f) => f.name === part) : null;
    const word = PATH_WORDS.includes(part) && !field ? t(`path.${part}`) : part === 'answers' ? '' : (field && field.label) || humanise(part);
    if (word) words.push(word);
    node = field;
  }
  return words.join(' › ') || String(path);
}

function humanise(name) {
  const s = name.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** today is the local date as YYYY-MM-DD. */
export function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** field returns the definition's field at a dotted path of names. */
export function field(def, path) {
  let f = def.answers;
  for (const name of path.split('.')) {
    while (f.type === 'list') f = f.item;
    f = (f.fields || []).find((c) => c.name === name);
    if (!f) return null;
  }
  return f;
}

/** codes returns a code list as tile options, in child wording when asked. */
export function codes(def, list, child = false) {
  return (def.code_lists[list] || []).map((c) => ({ value: c.code, label: child && c.child ? c.child : c.label }));
}

/** scale returns a scale as tile options. */
export function scale(def, name, child = false) {
  return (def.scales[name] || []).map((p) => ({ value: p.value, label: child && p.child ? p.child : p.label }));
}

/** keptWords says truthfully why a body is still on the device. */
export function keptWords() {
  return navigator.onLine === false ? t('kept.offline') : t('kept.retry');
}

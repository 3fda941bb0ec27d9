// The map of a young person's people, drawn in the page from an SCT's
// answers, so that it shows on a phone with no signal. It lays a map out
// exactly as the server's internal/netmap does (a browser test compares
// them); its words are in mapwords.js.

import { WORDS } from './mapwords.js';

const SVG = 'http://www.w3.org/2000/svg';

export { WORDS };

// An RTL script's letters: a name written in one reads right to left
// inside the picture whatever the page's direction.
const RTL = /^[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]/u;

/** direction is the direction of a text by its first letter. */
function direction(s, fallback) {
  const first = String(s).match(/\p{L}/u);
  if (!first) return fallback;
  return RTL.test(first[0]) ? 'rtl' : 'ltr';
}

/** GROUPS lists the relationship groups in legend order. */
export const GROUPS = Object.freeze(['family', 'foster_family', 'friends', 'school', 'workers', 'other']);

/** RELATIONSHIPS is each relationship code's group and short label. */
export const RELATIONSHIPS = Object.freeze({
  biological_mother: ['family', 'rel_biological_mother'],
  biological_father: ['family', 'rel_biological_father'],
  sibling: ['family', 'rel_sibling'],
  grandparent: ['family', 'rel_grandparent'],
  other_relative: ['family', 'rel_other_relative'],
  step_parent: ['family', 'rel_step_parent'],
  foster_carer_current: ['foster_family', 'rel_foster_carer_current'],
  foster_family_member: ['foster_family', 'rel_foster_family_member'],
  former_foster_carer: ['foster_family', 'rel_former_foster_carer'],
  friend: ['friends', 'rel_friend'],
  school_staff: ['school', 'rel_school_staff'],
  social_care_professional: ['workers', 'rel_social_care_professional'],
  former_professional: ['workers', 'rel_former_professional'],
  lifelong_links_worker: ['workers', 'rel_lifelong_links_worker'],
  other: ['other', 'rel_other'],
});

/** STYLES is each group's colour and shape. */
export const STYLES = Object.freeze({
  family: ['#D55E00', 'circle'],
  foster_family: ['#0072B2', 'square'],
  friends: ['#009E73', 'triangle'],
  school: ['#E69F00', 'diamond'],
  workers: ['#CC79A7', 'hexagon'],
  other: ['#6B6B6B', 'star'],
});

const INNER = 1; const MIDDLE = 2; const OUTER = 3;
const WIDTH = 600; const CX = 300; const TOP = 40; const RX = 250;
const MARK = 14; const ME = 32; const NAME = 22; const LABEL = 18;
const NAME_CHARS = 10; const LABEL_CHARS = 13; const EDGE = 6;
const SPREAD = 1.5; const ROWS_PER_PERSON = 28; const LEGEND = 200;

const word = (w, key) => (key in w ? w[key] : key);
const round = (v) => Math.round(v * 10) / 10;
const trim = (s) => String(s || '').trim();

function cut(s, n) {
  const chars = [...s];
  return chars.length <= n ? s : `${chars.slice(0, n - 1).join('').replace(/ +$/, '')}…`;
}

function nomineeOf(v, n) {
  return Number.isInteger(v) && v >= 0 && v < n ? v : -1;
}

function person(name, rel, other, ring, nominee, names, w) {
  const p = { relationship: rel || '', label: word(w, 'not_said'), group: 'other', ring, nominee };
  if (RELATIONSHIPS[rel]) { [p.group] = RELATIONSHIPS[rel]; p.label = word(w, RELATIONSHIPS[rel][1]); }
  if (names) {
    p.name = trim(name);
    p.shown = cut(p.name, NAME_CHARS);
    if (rel === 'other' && trim(other)) { p.label = trim(other); p.own_label = true; }
  }
  p.shown_label = cut(p.label, LABEL_CHARS);
  return p;
}

/** people lists who the answers name, each once, with their ring, in the order the map places them. */
export function people(answers, names, w = WORDS) {
  const a = answers || {};
  const nominees = a.nominees || [];
  const ring = nominees.map(() => OUTER);
  const added = [];
  for (const k of a.key_people || []) {
    const i = nomineeOf(k.nominee, nominees.length);
    if (i >= 0 && k.reason === 'important') ring[i] = INNER;
    else if (i >= 0) ring[i] = Math.min(ring[i], MIDDLE);
    else if (k.nominee === undefined || k.nominee === null) added.push(person(k.name, k.relationship, k.other_text, MIDDLE, -1, names, w));
  }
  const out = [];
  for (const r of [INNER, MIDDLE, OUTER]) {
    nominees.forEach((n, i) => { if (ring[i] === r) out.push(person(n.name, n.relationship, n.other_text, r, i, names, w)); });
    if (r === MIDDLE) out.push(...added);
  }
  return out;
}

function textWidth(s, size) {
  let em = 0;
  for (const ch of s || '') {
    const c = ch.codePointAt(0);
    if ("iIl.,:;'|!j ".includes(ch)) em += 0.32;
    else if ('frt()-[]'.includes(ch)) em += 0.45;
    else if ('MWmw@'.includes(ch)) em += 0.98;
    else if (ch >= 'A' && ch <= 'Z') em += 0.74;
    else if (c >= 0x2E80) em += 1;
    else if (c > 0x7F) em += 0.7;
    else em += 0.62;
  }
  return em * size;
}

function labelWidth(p) {
  return Math.max(textWidth(p.shown || '', NAME) * 1.12, textWidth(p.shown_label, LABEL));
}

function slotAngle(k, n) {
  const u = (2 * Math.PI * k) / n;
  return Math.atan2(-Math.cos(u), SPREAD * Math.sin(u));
}

function distances(ring) {
  if (ring === INNER) return [0.4, 0.34, 0.46];
  if (ring === MIDDLE) return [0.62, 0.56, 0.68, 0.74];
  return [1, 0.86, 0.93, 0.79];
}

/** boxes are the marker's and the label's rectangles: [x0, y0, x1, y1]. */
function boxes(p) {
  const lines = p.shown ? 2 : 1;
  const half = labelWidth(p) / 2;
  return [[p.x - MARK, p.y - MARK, p.x + MARK, p.y + MARK],
    [p.label_x - half, p.y + MARK + 4, p.label_x + half, p.y + MARK + 4 + lines * (NAME + 2)]];
}

const overlaps = (b, o) => b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3];

/**
 * layout places everyone the answers name, as the server's netmap.Layout
 * does: a slot each around the centre, then the first place in their ring
 * that overlaps nobody placed before them.
 */
export function layout(answers, names, w = WORDS) {
  const list = people(answers, names, w);
  const n = list.length;
  const m = { names, radius_y: Math.max(320, n * ROWS_PER_PERSON) };
  m.centre_y = TOP + m.radius_y + MARK;
  m.height = m.centre_y + m.radius_y + MARK + 60 + LEGEND;
  const taken = new Array(n).fill(false);
  const take = (want) => { while (taken[want % n]) want++; taken[want % n] = true; return want % n; };
  const counts = { 1: 0, 2: 0, 3: 0 };
  for (const p of list) counts[p.ring]++;
  const seen = { 1: 0, 2: 0, 3: 0 };
  for (const p of list) {
    const j = seen[p.ring]++;
    // Integer division, as the server's.
    if (p.ring === INNER) p.slot = take(Math.floor((j * n) / counts[INNER]));
    else if (p.ring === MIDDLE) p.slot = take(Math.floor(((2 * j + 1) * n) / (2 * counts[MIDDLE])));
  }
  for (const p of list) if (p.ring === OUTER) p.slot = take(0);
  const place = (p, scale, turn) => {
    const angle = slotAngle(p.slot, n) + turn;
    p.x = round(CX + RX * scale * Math.cos(angle));
    p.y = round(m.centre_y + m.radius_y * scale * Math.sin(angle));
    const half = labelWidth(p) / 2;
    p.label_x = round(Math.min(Math.max(p.x, half + EDGE), WIDTH - half - EDGE));
  };
  const inside = (b) => b[0] >= 0 && b[2] <= WIDTH && b[1] >= 30 && b[3] <= m.height - LEGEND - 16;
  const placed = [[CX - ME, m.centre_y - ME, CX + ME, m.centre_y + ME]];
  const step = Math.PI / n / 3;
  for (const p of list) {
    let found = false;
    for (const turn of [0, 1, -1, 2, -2, 3, -3]) {
      for (const d of distances(p.ring)) {
        place(p, d, turn * step);
        const [mk, lb] = boxes(p);
        if (inside(lb) && !placed.some((o) => overlaps(mk, o)) && !placed.some((o) => overlaps(lb, o))) { found = true; break; }
      }
      if (found) break;
    }
    if (!found) place(p, distances(p.ring)[0], 0);
    placed.push(...boxes(p));
  }
  m.people = list;
  return m;
}

// isolate wraps a name or wording in first-strong isolate marks (FSI …
// PDI), as the server's map does: whatever direction it runs in, it cannot
// turn the text after it.
const isolate = (s) => `\u2068${s}\u2069`;

function describe(p, w) {
  const s = `${isolate(p.label)} (${word(w, `group_${p.group}`)})`;
  return p.name ? `${isolate(p.name)}: ${s}` : s;
}

/** text is the map in words, ring by ring: its text alternative. */
export function text(m, w = WORDS) {
  const parts = m.names ? [] : [word(w, 'names_hidden')];
  for (const r of [INNER, MIDDLE, OUTER]) {
    const who = m.people.filter((p) => p.ring === r).map((p) => describe(p, w));
    parts.push(`${word(w, `ring_${r}`)}: ${(who.length ? who : [word(w, 'nobody')]).join('; ')}.`);
  }
  return parts.join(' ');
}

function el(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function polygon(attrs, x, y, r, corners, inner) {
  const steps = inner > 0 ? corners * 2 : corners;
  const pts = [];
  for (let i = 0; i < steps; i++) {
    const rad = inner > 0 && i % 2 === 1 ? inner : r;
    const a = -Math.PI / 2 + (2 * Math.PI * i) / steps;
    pts.push(`${round(x + rad * Math.cos(a))},${round(y + rad * Math.sin(a))}`);
  }
  return el('polygon', { points: pts.join(' '), ...attrs });
}

function shape(group, x, y, r) {
  const [colour, kind] = STYLES[group] || STYLES.other;
  const attrs = { fill: colour, stroke: '#222222', 'stroke-width': 1.5 };
  switch (kind) {
    case 'square': { const s = round(r * 0.85); return el('rect', { x: round(x - s), y: round(y - s), width: 2 * s, height: 2 * s, ...attrs }); }
    case 'triangle': return polygon(attrs, x, y, r * 1.15, 3, 0);
    case 'diamond': return polygon(attrs, x, y, r * 1.1, 4, 0);
    case 'hexagon': return polygon(attrs, x, y, r * 1.05, 6, 0);
    case 'star': return polygon(attrs, x, y, r * 1.2, 5, r * 0.55);
    default: return el('circle', { cx: x, cy: y, r, ...attrs });
  }
}

/**
 * svg draws a laid-out map as the server's map.svg draws it; id makes the
 * ids of its title and description unique on a page with several maps.
 * Right to left (dir 'rtl') the picture is the same, not mirrored: its
 * words read right to left, and the caption and key start at the right.
 */
export function svg(m, { caption = '', id = 'map', w = WORDS, dir = 'ltr' } = {}) {
  const rtl = dir === 'rtl';
  // x of a line's start: from the left, or as far from the right.
  const from = (x) => (rtl ? WIDTH - x : x);
  const title = caption ? word(w, 'title_when').replace('%s', caption) : word(w, 'title');
  const root = el('svg', { viewBox: `0 0 ${WIDTH} ${m.height}`, role: 'img', 'aria-labelledby': `${id}-title ${id}-desc`, class: 'map', direction: rtl ? 'rtl' : 'ltr',
    'font-family': "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" },
  el('title', { id: `${id}-title` }, title), el('desc', { id: `${id}-desc` }, text(m, w)),
  el('rect', { width: '100%', height: '100%', fill: '#ffffff' }));
  if (caption) root.append(el('text', { x: from(12), y: 26, 'font-size': 18, fill: '#333333' }, caption));
  let outer = 0.9;
  for (const p of m.people) if (p.ring === OUTER) outer = Math.max(outer, Math.hypot((p.x - CX) / RX, (p.y - m.centre_y) / m.radius_y));
  for (const [scale, fill] of [[Math.min(outer, 1) + 0.06, '#f7f8fa'], [0.72, '#eef2f7'], [0.5, '#e3eaf3']]) {
    root.append(el('ellipse', { cx: CX, cy: m.centre_y, rx: round(RX * scale), ry: round(m.radius_y * scale), fill, stroke: '#b8c2cf', 'stroke-width': 1.5, 'stroke-dasharray': '6 5' }));
  }
  root.append(el('circle', { cx: CX, cy: m.centre_y, r: ME, fill: '#1d4f7a' }),
    el('text', { x: CX, y: m.centre_y + 6, 'font-size': 18, 'font-weight': 700, fill: '#ffffff', 'text-anchor': 'middle' }, word(w, 'me')));
  if (!m.people.length) root.append(el('text', { x: CX, y: m.centre_y + 70, 'font-size': 18, fill: '#333333', 'text-anchor': 'middle' }, word(w, 'nobody')));
  const halo = { stroke: '#ffffff', 'stroke-width': 4, 'paint-order': 'stroke', 'text-anchor': 'middle' };
  for (const p of m.people) {
    const g = el('g', { class: `person ring-${p.ring} group-${p.group}` }, el('title', {}, describe(p, w)), shape(p.group, p.x, p.y, MARK));
    let y = p.y + MARK + NAME;
    if (p.shown) {
      g.append(el('text', { x: p.label_x, y, 'font-size': NAME, 'font-weight': 700, fill: '#111111', direction: direction(p.shown, dir), ...halo }, p.shown));
      y += LABEL + 2;
    }
    g.append(el('text', { x: p.label_x, y, 'font-size': LABEL, fill: '#333333', ...halo }, p.shown_label));
    root.append(g);
  }
  const legendY = m.height - LEGEND;
  const legend = el('g', { class: 'legend' }, el('text', { x: from(12), y: legendY, 'font-size': 20, 'font-weight': 700, fill: '#111111' }, word(w, 'legend')));
  GROUPS.forEach((g, i) => {
    const x = 24 + (i % 2) * 300; const y = legendY + 34 + Math.floor(i / 2) * 32;
    legend.append(shape(g, from(x), y - 6, 10), el('text', { x: from(x + 20), y, 'font-size': 18, fill: '#111111' }, word(w, `group_${g}`)));
  });
  ['ring_1', 'ring_2', 'ring_3'].forEach((r, i) => legend.append(el('text', { x: from(12), y: legendY + 136 + i * 24, 'font-size': 17, fill: '#333333' }, word(w, r))));
  root.append(legend);
  return root;
}

// item is one person in the list: their name, and a label of their own,
// each in a <bdi>, so that either keeps its own direction in the line.
function item(p, w) {
  const bdi = (s) => { const e = document.createElement('bdi'); e.textContent = s; return e; };
  const group = `(${word(w, `group_${p.group}`)})`;
  const label = p.own_label ? bdi(p.label) : p.label;
  return p.name ? [bdi(p.name), ': ', label, ` ${group}`] : [label, ` ${group}`];
}

/** list is the map as an HTML list, ring by ring: the text beside the picture. */
export function list(m, w = WORDS) {
  const h = (tag, attrs, ...kids) => { const e = document.createElement(tag); Object.assign(e, attrs); e.append(...kids); return e; };
  const out = h('div', { className: 'map-list' });
  if (!m.names) out.append(h('p', { className: 'hint' }, word(w, 'names_hidden')));
  for (const r of [INNER, MIDDLE, OUTER]) {
    const who = m.people.filter((p) => p.ring === r);
    out.append(h('h3', {}, word(w, `ring_${r}`)),
      who.length ? h('ul', {}, ...who.map((p) => h('li', { className: `group-${p.group}` }, ...item(p, w)))) : h('p', {}, word(w, 'nobody')));
  }
  return out;
}

/** caption says which SCT a map is of, as the server's map.svg does. */
export function caption(r, w = WORDS) {
  const when = r.timepoint === 'follow_up' ? word(w, 'follow_up').replace('%d', Math.max(r.wave || 1, 1)) : word(w, 'baseline');
  if (r.status === 'draft') return `${when}, ${word(w, 'draft')}`;
  return r.completed_on ? `${when}, ${r.completed_on}` : when;
}

/** figure is a map with its text list beside it (below, on a phone). */
export function figure(answers, { names = true, caption: cap = '', id = 'map', w = WORDS, dir = 'ltr' } = {}) {
  const m = layout(answers, names, w);
  const f = document.createElement('figure');
  f.className = 'map-figure';
  const pic = document.createElement('div');
  pic.className = 'map-picture scroll';
  // With large text the picture pans sideways: a keyboard reaches it too.
  Object.assign(pic, { tabIndex: 0 });
  pic.setAttribute('role', 'group');
  pic.setAttribute('aria-labelledby', `${id}-title`);
  pic.append(svg(m, { caption: cap, id, w, dir }));
  // With large text the picture is wider than the screen: it pans
  // sideways in its box, and a line above it says so (and describes the box
  // to a screen reader) while it does not fit. Until the reader moves the
  // picture themselves, the box shows its middle, where the young person
  // is, whichever way the page reads (the picture is the same either way):
  // after each change of size, and again if the browser moves it back to
  // the start as it lays the page out once more.
  const hint = document.createElement('p');
  Object.assign(hint, { className: 'hint map-pan', id: `${id}-pan`, hidden: true, textContent: word(w, 'pan_hint') });
  let moved = false;
  for (const e of ['pointerdown', 'touchstart', 'wheel', 'keydown']) pic.addEventListener(e, () => { moved = true; }, { passive: true });
  const middle = () => (pic.scrollWidth - pic.clientWidth) / 2;
  const centre = () => {
    if (!moved && !hint.hidden && Math.abs(pic.scrollLeft - middle()) > 1) pic.scrollLeft = middle();
  };
  // For a second after a change of size, every frame, as the page settles.
  let settleUntil = 0;
  const settle = () => {
    centre();
    if (performance.now() < settleUntil) requestAnimationFrame(settle);
  };
  const fit = () => {
    const over = pic.scrollWidth > pic.clientWidth + 1;
    hint.hidden = !over;
    if (over) pic.setAttribute('aria-describedby', hint.id); else pic.removeAttribute('aria-describedby');
    if (over && !moved) {
      settleUntil = performance.now() + 1000;
      settle();
    }
  };
  pic.addEventListener('scroll', centre, { passive: true });
  if (typeof ResizeObserver === 'function') {
    const watch = new ResizeObserver(fit);
    watch.observe(pic); // the screen's width
    watch.observe(pic.firstChild); // the picture's, which grows with the text
  }
  const details = document.createElement('details');
  details.className = 'map-text';
  details.open = true;
  const summary = document.createElement('summary');
  summary.textContent = word(w, 'as_list');
  details.append(summary, list(m, w));
  f.append(hint, pic, details);
  return f;
}

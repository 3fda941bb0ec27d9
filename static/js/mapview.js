// The staff's pages of maps: one SCT's map of the young person's people,
// and then and now, a child's baseline and latest follow-up side by side
// with what changed between them.

import { get, form, session, APIError } from './api.js';
import { h, show, field, scale } from './ui.js';
import { figure, caption, GROUPS } from './map.js';
import { WORDS as w } from './mapwords.js';

// Names are drawn for the staff of the child's site, as the server's map
// does: roles that reach every site see relationships only.
const seesNames = () => ['coordinator', 'site_lead'].includes(session.role());

const fill = (s, v) => s.replace(/%[sd]/, v);

function backButton(done) {
  return done ? h('button', { type: 'button', class: 'secondary', onclick: done }, w.back_to_child) : null;
}

// saveButton saves a drawn map as an SVG file, made on the device.
function saveButton(fig, name) {
  return h('button', {
    type: 'button', class: 'secondary', onclick: () => {
      const svg = fig.querySelector('svg');
      const blob = new Blob([new XMLSerializer().serializeToString(svg)], { type: 'image/svg+xml' });
      const a = h('a', { href: URL.createObjectURL(blob), download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    },
  }, w.save_map);
}

const printButton = () => h('button', { type: 'button', class: 'secondary print-hide', onclick: () => window.print() }, w.print_map);

/** open shows the map of one SCT. */
export async function open({ id, done }) {
  const r = await get(`/api/v1/responses/${id}`);
  const cap = caption(r);
  const fig = figure(r.answers || {}, { names: seesNames(), caption: cap, id: 'map' });
  show(`${w.map_of}: ${r.child_id}`,
    h('h1', {}, `${w.map_of}: child ${r.child_id}`),
    h('p', {}, cap),
    fig,
    h('div', { class: 'actions print-hide' }, backButton(done), h('div', { class: 'row' }, printButton(), saveButton(fig, `sct-map-${r.child_id}-${r.id}.svg`))));
}

/** change shows then and now for a child. */
export async function change({ child, done }) {
  let c;
  try {
    c = await get(`/api/v1/children/${encodeURIComponent(child)}/change`);
  } catch (e) {
    if (e instanceof APIError && e.status === 404) {
      return show(fill(w.then_and_now_of, child), h('h1', {}, fill(w.then_and_now_of, child)), h('p', {}, e.message), backButton(done));
    }
    throw e;
  }
  const title = fill(w.then_and_now_of, child);
  if (!c.follow_up) {
    return show(title, h('h1', {}, title), h('p', {}, w.no_follow_up), backButton(done));
  }
  const [base, now, def] = await Promise.all([get(`/api/v1/responses/${c.baseline.response_id}`), get(`/api/v1/responses/${c.follow_up.response_id}`),
    form('sct', '1')]);
  const names = seesNames();
  const side = (r, label, id) => h('section', { class: 'then-now-side', 'aria-label': `${label}: ${caption(r)}` },
    h('h2', {}, `${label}: ${caption(r)}`), figure(r.answers || {}, { names, caption: caption(r), id }));
  show(title,
    h('h1', {}, title),
    h('p', { class: 'notice', id: 'matching' }, w.matching_note),
    changeTable(c, def),
    h('div', { class: 'then-now' }, side(base, w.then, 'map-then'), side(now, w.now, 'map-now')),
    h('div', { class: 'actions print-hide' }, backButton(done), printButton()));
  document.getElementById('main').classList.add('wide');
}

// changeTable is what changed: counts in rows of then, now and the change;
// the "enough people" answers in a table of their own, then and now.
function changeTable(c, def) {
  const ch = c.changes;
  const signed = (n) => (n > 0 ? `+${n}` : String(n));
  const supports = Object.fromEntries((field(def, 'key_people.support').fields || []).map((f) => [f.name, f.label]));
  const answers = Object.fromEntries(scale(def, 'adequacy').map((p) => [['no_one', 'too_few', 'enough'][p.value - 1], p.label]));
  // Each figure is named by its column too: on a narrow screen the rows
  // stand as blocks, each figure on a line of its own (see app.css).
  const rowOf = (cols) => (label, ...cells) => h('tr', {}, h('th', { scope: 'row' }, label), cells.map((v, i) => h('td', { 'data-col': cols[i] }, v)));
  const row = rowOf([w.then, w.now, w.change]);
  const section = (label, span) => h('tr', { class: 'section' }, h('th', { scope: 'colgroup', colspan: span }, label));
  const kept = ch.kept.names && ch.kept.names.length ? `${ch.kept.count}: ${ch.kept.names.join(', ')}` : String(ch.kept.count);
  const head = (...cols) => h('thead', {}, h('tr', {}, h('td', {}), cols.map((col) => h('th', { scope: 'col' }, col))));
  // A table that is still too wide scrolls sideways in its box, not the page.
  return h('div', {},
    h('div', { class: 'scroll' }, h('table', { class: 'change', id: 'change-counts' },
      h('caption', {}, w.what_changed),
      head(w.then, w.now, w.change),
      h('tbody', {},
        row(w.network_size, c.baseline.network_size, c.follow_up.network_size, signed(ch.network_size)),
        row(w.key_people, c.baseline.key_people.length, c.follow_up.key_people.length, signed(ch.key_people)),
        section(w.by_group, 4),
        ch.by_group.filter((g) => GROUPS.includes(g.group)).map((g) => row(w[`group_${g.group}`], g.baseline, g.follow_up, signed(g.change))),
        section(w.support_people, 4),
        ch.support.map((s) => row(supports[s.support] || s.support, s.baseline, s.follow_up, signed(s.change))),
        section(w.people_section, 4),
        h('tr', {}, h('th', { scope: 'row' }, w.kept), h('td', { colspan: 3 }, kept)),
        h('tr', {}, h('th', { scope: 'row' }, w.new_people), h('td', { colspan: 3 }, ch.new)),
        h('tr', {}, h('th', { scope: 'row' }, w.not_named_again), h('td', { colspan: 3 }, ch.not_named_again))))),
    h('div', { class: 'scroll' }, h('table', { class: 'change', id: 'change-adequacy' },
      h('caption', {}, w.adequacy),
      head(w.then, w.now),
      h('tbody', {}, ch.adequacy.map((a) => rowOf([w.then, w.now])(supports[a.support] || a.support, answers[a.baseline] || w.not_answered,
        `${answers[a.follow_up] || w.not_answered} (${w[a.direction] || a.direction})`))))));
}

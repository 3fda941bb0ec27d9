// A submitted response as staff read it: the people, the key people with
// every rating, and the adequacy answers, in the form's own words; and the
// way to revise it, with a reason.

import { get, form } from './api.js';
import { h, show, field, codes, scale } from './ui.js';

export async function open({ id, done }) {
  const r = await get(`/api/v1/responses/${id}`);
  const def = await form(r.form, r.version);
  const a = r.answers || {};
  const relLabel = (code) => (codes(def, field(def, 'nominees.relationship').codes).find((c) => c.value === code) || { label: code || '' }).label;
  const reasonLabel = (code) => (codes(def, field(def, 'key_people.reason').codes).find((c) => c.value === code) || { label: code || '' }).label;
  const valueLabel = (f, v) => (v === undefined ? 'not answered' : `${v} ${(scale(def, f.scale).find((p) => p.value === v) || { label: '' }).label}`);
  const people = a.nominees || [];
  const who = (k) => (k.nominee !== undefined && people[k.nominee]
    ? `${people[k.nominee].name || relLabel(people[k.nominee].relationship)}`
    : `${k.name || relLabel(k.relationship)}`);
  const supports = field(def, 'key_people.support').fields;
  const letDown = field(def, 'key_people.let_down');
  const when = r.timepoint === 'follow_up' ? `follow-up ${r.wave}` : (r.timepoint || '');
  show(`SCT of child ${r.child_id}`,
    h('h1', {}, `SCT: child ${r.child_id}, ${when}`),
    h('p', {}, [r.completed_on ? `Completed ${r.completed_on}` : null, r.mode === 'paper' ? 'on paper' : 'online',
      r.language && r.language !== 'en' ? `in ${((def.languages || []).find((l) => l.code === r.language) || { english_name: r.language }).english_name}` : null,
      r.status === 'submitted' ? `submitted, revision ${r.revision}` : 'draft'].filter(Boolean).join(' · ')),
    r.revision_reason ? h('p', { class: 'notice' }, `Last changed because: ${r.revision_reason}`) : null,
    h('h2', {}, `${field(def, 'nominees').label} (${people.length})`),
    people.length ? h('ol', {}, people.map((p) => h('li', {}, h('strong', {}, p.name || '(no name)'), ` · ${p.relationship === 'other' && p.other_text ? p.other_text : relLabel(p.relationship)}`)))
      : h('p', {}, 'Nobody named.'),
    h('h2', {}, field(def, 'key_people').label),
    (a.key_people || []).map((k, i) => h('div', { class: 'card' },
      h('h3', {}, `${i + 1}. ${who(k)}`), h('p', { class: 'hint' }, reasonLabel(k.reason)),
      h('table', { class: 'answers' }, h('tbody', {},
        supports.map((f) => h('tr', {}, h('th', { scope: 'row' }, f.label), h('td', {}, valueLabel(f, (k.support || {})[f.name])))),
        h('tr', {}, h('th', { scope: 'row' }, letDown.label), h('td', {}, valueLabel(letDown, k.let_down))))))),
    h('h2', {}, field(def, 'adequacy').label),
    h('table', { class: 'answers' }, h('tbody', {}, field(def, 'adequacy').fields.map((f) => h('tr', {}, h('th', { scope: 'row' }, f.label), h('td', {}, valueLabel(f, (a.adequacy || {})[f.name])))))),
    h('div', { class: 'actions' },
      done ? h('button', { type: 'button', class: 'secondary', onclick: done }, 'Back to the child') : h('span'),
      r.status === 'submitted' ? h('a', { class: 'button', id: 'revise', href: `#/paper/${id}?child=${encodeURIComponent(r.child_id)}&revise=1` }, 'Revise') : null));
}

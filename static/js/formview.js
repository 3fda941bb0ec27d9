// A plain form for any form definition: every field type of the definition
// language has an input here, so a new form version needs no new page. Used
// for the coordinators' practice summaries.

import { form, get, APIError, Offline } from './api.js';
import * as outbox from './outbox.js';
import { h, show, faults, today, keptWords } from './ui.js';

export async function open({ id, meta, done }) {
  const kept = await outbox.load(id);
  let body = kept ? kept.body : null;
  if (!body) {
    try {
      const r = await get(`/api/v1/responses/${id}`);
      body = { form: r.form, version: r.version, child_id: r.child_id, mode: r.mode, status: r.status, completed_on: r.completed_on, answers: r.answers };
    } catch (e) {
      if (!(e instanceof APIError && e.status === 404) && !(e instanceof Offline)) throw e;
    }
  }
  body = body || { ...meta, mode: 'online', status: 'draft', answers: {} };
  const def = await form(body.form, body.version);
  render(id, def, body, done);
}

let seq = 0;
const uid = (p) => `${p}-${++seq}`;

/** input returns an element for field f holding value v, and a way to read it back. */
function input(def, f, v) {
  const id = uid(f.name || 'item');
  const label = (el) => h('div', {}, h('label', { for: id }, f.label || f.name, f.required ? ' (required)' : ''), f.help ? h('p', { class: 'hint' }, f.help) : null, el);
  switch (f.type) {
    case 'date': {
      const el = h('input', { id, type: 'date', value: v || '' });
      return { node: label(el), read: () => el.value || undefined };
    }
    case 'integer': {
      const el = h('input', { id, type: 'number', inputmode: 'numeric', step: '1', min: f.min ?? '', max: f.max ?? '', value: v ?? '' });
      return { node: label(el), read: () => (el.value === '' ? undefined : Number(el.value)) };
    }
    case 'text': {
      const el = f.max_length > 100 ? h('textarea', { id, maxlength: String(f.max_length), rows: '3' }, v || '') : h('input', { id, type: 'text', maxlength: String(f.max_length), value: v || '' });
      return { node: label(el), read: () => el.value.trim() || undefined };
    }
    case 'boolean': {
      const el = h('input', { id, type: 'checkbox', checked: v === true });
      return { node: h('label', { class: 'row' }, el, f.label || f.name), read: () => el.checked };
    }
    case 'code':
    case 'rating': {
      const opts = f.type === 'code'
        ? def.code_lists[f.codes].map((c) => ({ value: c.code, label: c.label }))
        : def.scales[f.scale].map((p) => ({ value: p.value, label: `${p.value} ${p.label}` }));
      const el = h('select', { id }, h('option', { value: '' }, '–'), opts.map((o) => h('option', { value: String(o.value), selected: String(v ?? '') === String(o.value) }, o.label)));
      return { node: label(el), read: () => (el.value === '' ? undefined : f.type === 'rating' ? Number(el.value) : el.value) };
    }
    case 'codes': {
      const boxes = def.code_lists[f.codes].map((c) => {
        const el = h('input', { type: 'checkbox', value: c.code, checked: (v || []).includes(c.code) });
        return { el, node: h('label', { class: 'row' }, el, c.label) };
      });
      return {
        node: h('fieldset', {}, h('legend', {}, f.label || f.name), f.help ? h('p', { class: 'hint' }, f.help) : null, boxes.map((b) => b.node)),
        read: () => { const out = boxes.filter((b) => b.el.checked).map((b) => b.el.value); return out.length ? out : undefined; },
      };
    }
    case 'object': {
      const parts = f.fields.map((c) => ({ name: c.name, ...input(def, c, (v || {})[c.name]) }));
      return {
        node: h('div', {}, parts.map((p) => p.node)),
        read: () => {
          const out = {};
          for (const p of parts) { const x = p.read(); if (x !== undefined) out[p.name] = x; }
          return Object.keys(out).length ? out : undefined;
        },
      };
    }
    case 'list': {
      const items = [];
      const holder = h('div');
      const add = (val) => {
        if (items.length >= f.max_items) return;
        const part = input(def, f.item, val);
        const box = h('div', { class: 'card' }, part.node,
          h('button', { type: 'button', class: 'danger', onclick: () => { items.splice(items.indexOf(entry), 1); box.remove(); } }, 'Remove'));
        const entry = { ...part, box };
        items.push(entry);
        holder.append(box);
      };
      for (const val of v || []) add(val);
      return {
        node: h('fieldset', {}, h('legend', {}, f.label || f.name), holder,
          h('button', { type: 'button', class: 'secondary', onclick: () => add(undefined) }, `Add ${(f.label || 'an entry').toLowerCase().replace(/s$/, '')}`)),
        read: () => { const out = items.map((i) => i.read()).filter((x) => x !== undefined); return out.length ? out : undefined; },
      };
    }
    default:
      return { node: h('p', { class: 'error' }, `This page cannot show a ${f.type} field.`), read: () => undefined };
  }
}

function render(id, def, body, done) {
  const root = input(def, def.answers, body.answers);
  const date = h('input', { id: 'completed-on', type: 'date', value: body.completed_on || today(), max: today() });
  const errors = h('div');
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const collect = (status) => ({ ...body, status, completed_on: date.value || undefined, answers: root.read() || {} });
  const save = async (st) => {
    errors.replaceChildren();
    await outbox.keep(id, collect(st), {});
    const kept = await outbox.settle(id);
    if (kept && kept.error) { errors.replaceChildren(faults(kept.error, def)); errors.firstChild.focus(); return false; }
    status.textContent = kept && kept.pending ? keptWords() : 'Saved.';
    return !(kept && kept.pending);
  };
  show(def.title,
    h('h1', {}, `${def.title}: child ${body.child_id}`),
    def.description ? h('p', { class: 'hint' }, def.description) : null,
    h('form', { onsubmit: async (e) => { e.preventDefault(); if (await save('submitted')) { await outbox.forget(id); if (done) done(); } } },
      h('label', { for: 'completed-on' }, 'Date completed'), date,
      root.node, errors, status,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => save('draft') }, 'Save as draft'),
        h('button', { type: 'submit' }, 'Submit'))));
}

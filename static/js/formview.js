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

/**
 * input returns an element for field f holding value v, a way to read it
 * back, and a place beside it for what is wrong with it. path is the
 * field's path as the server names it; every field with a place is noted
 * in marks, by path.
 */
function input(def, f, v, path, marks) {
  const id = uid(f.name || 'item');
  const err = h('p', { class: 'error field-error', id: `${id}-error`, hidden: true });
  if (path && marks) marks.set(path, { id, err, field: f });
  const label = (el) => {
    el.setAttribute('aria-describedby', `${id}-error`);
    return h('div', {}, h('label', { for: id }, f.label || f.name, f.required ? ' (required)' : ''), f.help ? h('p', { class: 'hint' }, f.help) : null, el, err);
  };
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
        node: h('fieldset', {}, h('legend', {}, f.label || f.name), f.help ? h('p', { class: 'hint' }, f.help) : null, boxes.map((b) => b.node), err),
        read: () => { const out = boxes.filter((b) => b.el.checked).map((b) => b.el.value); return out.length ? out : undefined; },
      };
    }
    case 'object': {
      const parts = f.fields.map((c) => ({ name: c.name, field: c, ...input(def, c, (v || {})[c.name], path ? `${path}.${c.name}` : c.name, marks) }));
      // A field that applies only when another has a value is hidden, and
      // not sent, otherwise (FGC attendees without an FGC).
      const applies = (p) => !p.field.only_if || Object.entries(p.field.only_if).every(([k, want]) => {
        const other = parts.find((q) => q.name === k);
        return other && other.read() === want;
      });
      const node = h('div', {}, parts.map((p) => p.node));
      const refresh = () => { for (const p of parts) p.node.hidden = !applies(p); };
      node.addEventListener('change', refresh);
      refresh();
      return {
        node,
        read: () => {
          const out = {};
          for (const p of parts) { const x = applies(p) ? p.read() : undefined; if (x !== undefined) out[p.name] = x; }
          return Object.keys(out).length ? out : undefined;
        },
      };
    }
    case 'list': {
      const items = [];
      const holder = h('div');
      const add = (val) => {
        if (items.length >= f.max_items) return;
        const part = input(def, f.item, val, `${path}[${items.length}]`, marks);
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

/**
 * check makes, before sending, the checks the definition states of its
 * top-level fields: required answers, limits, one date not before another,
 * one number not more than another.
 */
function check(def, answers) {
  const out = [];
  const label = (name) => (def.answers.fields.find((x) => x.name === name) || { label: name }).label;
  for (const f of def.answers.fields) {
    const v = answers[f.name];
    const at = `answers.${f.name}`;
    if (f.required && (v === undefined || v === '')) out.push({ path: at, reason: 'is required' });
    if (v === undefined) continue;
    if (f.type === 'integer' && f.min !== undefined && v < f.min) out.push({ path: at, reason: `must be at least ${f.min}` });
    if (f.type === 'integer' && f.max !== undefined && v > f.max) out.push({ path: at, reason: `must be at most ${f.max}` });
    if (f.not_more_than && answers[f.not_more_than] !== undefined && v > answers[f.not_more_than]) {
      out.push({ path: at, reason: `must not be more than "${label(f.not_more_than)}" (${answers[f.not_more_than]})` });
    }
    if (f.not_before && answers[f.not_before] && v < answers[f.not_before]) {
      out.push({ path: at, reason: `must not be before "${label(f.not_before)}" (${answers[f.not_before]})` });
    }
  }
  return out;
}

function render(id, def, body, done) {
  const marks = new Map();
  const root = input(def, def.answers, body.answers, 'answers', marks);
  // showFaults puts each fault beside its field and the whole list above
  // the buttons, and moves focus to the first field at fault.
  const showFaults = (problem) => {
    for (const m of marks.values()) { m.err.hidden = true; m.err.textContent = ''; }
    errors.replaceChildren(faults(problem, def));
    let first = null;
    for (const f of problem.fields || []) {
      const m = marks.get(f.path);
      if (!m) continue;
      m.err.textContent = f.reason;
      m.err.hidden = false;
      first = first || document.getElementById(m.id);
    }
    (first || errors.firstChild).focus();
  };
  const date = h('input', { id: 'completed-on', type: 'date', value: body.completed_on || today(), max: today() });
  const errors = h('div');
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const collect = (status) => ({ ...body, status, completed_on: date.value || undefined, answers: root.read() || {} });
  // What is typed is kept on the device as it is typed, and goes to the
  // server as a draft, as on the paper SCT: leaving the page loses nothing.
  // A form sent already is changed only by sending it again.
  let sending = false;
  let timer = null;
  const keepDraft = () => {
    if (body.status === 'submitted') return;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (sending || !page.isConnected) return;
      await outbox.keep(id, collect('draft'), {});
      status.textContent = 'Draft kept on this device.';
    }, 400);
  };
  const save = async (st) => {
    sending = st === 'submitted';
    clearTimeout(timer);
    errors.replaceChildren();
    const b = collect(st);
    const found = st === 'submitted' ? check(def, b.answers) : [];
    if (found.length) {
      sending = false;
      keepDraft(); // what was typed stays a draft while it is put right
      showFaults({ message: 'Some answers need changing before this can be submitted.', fields: found });
      return false;
    }
    await outbox.keep(id, b, {});
    const kept = await outbox.settle(id);
    if (kept && kept.error) { sending = false; showFaults(kept.error); return false; }
    status.textContent = kept && kept.pending ? keptWords() : 'Saved.';
    return !(kept && kept.pending);
  };
  const page = h('form', { onsubmit: async (e) => { e.preventDefault(); if (await save('submitted')) { await outbox.forget(id); if (done) done(); } } },
      h('label', { for: 'completed-on' }, 'Date completed'), date,
      root.node, errors, status,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => save('draft') }, 'Save as draft'),
        h('button', { type: 'submit' }, 'Submit')));
  page.addEventListener('input', keepDraft);
  page.addEventListener('change', keepDraft);
  show(def.title,
    h('h1', {}, `${def.title}: child ${body.child_id}`),
    def.description ? h('p', { class: 'hint' }, def.description) : null,
    page);
}

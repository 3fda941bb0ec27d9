// Paper transcription: the whole SCT on one dense page for fast keyboard
// entry of a paper form (mode "paper"). Built from the form definition.

import { form, get, APIError, Offline } from './api.js';
import * as outbox from './outbox.js';
import { h, show, faults, today, field, codes, scale, keptWords } from './ui.js';

export async function open({ id, meta, done, revise = false }) {
  const kept = revise ? null : await outbox.load(id);
  let body = kept ? kept.body : null;
  let revision = 0;
  if (!body) {
    try {
      const r = await get(`/api/v1/responses/${id}`);
      // A revision keeps how the SCT was taken (online or on paper).
      body = { form: r.form, version: r.version, child_id: r.child_id, timepoint: r.timepoint, wave: r.wave, mode: revise ? r.mode : 'paper', language: r.language, status: r.status, completed_on: r.completed_on, answers: r.answers };
      revision = r.revision;
    } catch (e) {
      if (!(e instanceof APIError && e.status === 404) && !(e instanceof Offline)) throw e;
    }
  }
  body = body || { ...meta, mode: 'paper', status: 'draft', answers: {} };
  const def = await form(body.form, body.version);
  render(id, def, body, done, revise && body.status === 'submitted' ? revision : 0);
}

function select(id, options, value, label) {
  return h('select', { id, 'aria-label': label },
    h('option', { value: '' }, '–'),
    options.map((o) => h('option', { value: String(o.value), selected: String(value ?? '') === String(o.value) }, o.label)));
}

// render draws the form; revise is the revision being changed (0: a new
// transcription or a draft).
function render(id, def, body, done, revise) {
  const a = body.answers;
  const fNom = field(def, 'nominees');
  const fRel = field(def, 'nominees.relationship');
  const fKey = field(def, 'key_people');
  const fReason = field(def, 'key_people.reason');
  const supports = field(def, 'key_people.support').fields;
  const fLet = field(def, 'key_people.let_down');
  const adequacy = field(def, 'adequacy').fields;
  const rel = codes(def, fRel.codes);
  const numbers = (name) => scale(def, name).map((p) => ({ value: p.value, label: `${p.value} ${p.label}` }));

  const nomRows = [];
  for (let i = 0; i < fNom.max_items; i++) {
    const p = (a.nominees || [])[i] || {};
    nomRows.push(h('tr', {},
      h('th', { scope: 'row', class: 'n' }, String(i + 1)),
      h('td', {}, h('input', { id: `n${i}-name`, type: 'text', value: p.name || '', 'aria-label': `Person ${i + 1} name`, maxlength: '60' })),
      h('td', {}, select(`n${i}-rel`, rel, p.relationship, `Person ${i + 1} relationship`)),
      h('td', {}, h('input', { id: `n${i}-other`, type: 'text', value: p.other_text || '', 'aria-label': `Person ${i + 1} other relationship`, maxlength: '80' }))));
  }
  const nomineeOptions = () => {
    const out = [];
    for (let i = 0; i < fNom.max_items; i++) {
      const name = document.getElementById(`n${i}-name`);
      const r = document.getElementById(`n${i}-rel`);
      if (name && (name.value.trim() || (r && r.value))) out.push({ value: i, label: `${i + 1}. ${name.value.trim() || r.value}` });
    }
    return out;
  };
  const keyRows = [];
  for (let i = 0; i < fKey.max_items; i++) {
    const k = (a.key_people || [])[i] || {};
    keyRows.push(h('tr', {},
      h('th', { scope: 'row', class: 'n' }, String(i + 1)),
      h('td', {}, select(`k${i}-reason`, codes(def, fReason.codes), k.reason, `Key person ${i + 1} reason`)),
      h('td', {}, h('select', { id: `k${i}-nominee`, 'aria-label': `Key person ${i + 1}: person from the list`, 'data-value': k.nominee ?? '' })),
      h('td', {}, h('input', { id: `k${i}-name`, type: 'text', value: k.name || '', 'aria-label': `Key person ${i + 1}: new person's name`, maxlength: '60' })),
      h('td', {}, select(`k${i}-rel`, rel, k.relationship, `Key person ${i + 1}: new person's relationship`)),
      supports.map((s) => h('td', {}, select(`k${i}-${s.name}`, numbers(s.scale), (k.support || {})[s.name], `Key person ${i + 1} ${s.label}`))),
      h('td', {}, select(`k${i}-let_down`, numbers(fLet.scale), k.let_down, `Key person ${i + 1} ${fLet.label}`))));
  }
  const refreshNomineeSelects = () => {
    const opts = nomineeOptions();
    for (let i = 0; i < fKey.max_items; i++) {
      const sel = document.getElementById(`k${i}-nominee`);
      const keep = sel.value || sel.dataset.value;
      sel.replaceChildren(h('option', { value: '' }, '–'), ...opts.map((o) => h('option', { value: String(o.value), selected: String(keep) === String(o.value) }, o.label)));
      sel.dataset.value = '';
    }
  };
  const adequacyRows = adequacy.map((q) => h('tr', {},
    h('th', { scope: 'row' }, q.label),
    h('td', {}, select(`a-${q.name}`, numbers(q.scale), (a.adequacy || {})[q.name], q.label))));

  const date = h('input', { id: 'completed-on', type: 'date', value: body.completed_on || '', max: today(), required: true });
  // The language the paper form was printed in: the answers' codes are the
  // same in every language; the response records which it was.
  const langs = def.languages || [];
  const language = langs.length > 1 ? h('select', { id: 'paper-language' }, langs.map((l) => h('option', {
    value: l.code, selected: (body.language || 'en') === l.code,
  }, l.code === 'en' ? l.name : `${l.english_name} (${l.name})`))) : null;
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const errors = h('div');
  const reason = h('textarea', { id: 'revision-reason', rows: '2', maxlength: '500', 'aria-required': revise ? 'true' : undefined });

  const collect = () => {
    const val = (id) => document.getElementById(id).value;
    const num = (id) => (val(id) === '' ? undefined : Number(val(id)));
    const nominees = [];
    const map = {}; // row number → nominee index
    for (let i = 0; i < fNom.max_items; i++) {
      const name = val(`n${i}-name`).trim(); const r = val(`n${i}-rel`); const other = val(`n${i}-other`).trim();
      if (!name && !r) continue;
      const p = {};
      if (name) p.name = name;
      if (r) p.relationship = r;
      if (other && r === 'other') p.other_text = other;
      map[i] = nominees.length;
      nominees.push(p);
    }
    const key = [];
    for (let i = 0; i < fKey.max_items; i++) {
      const k = {};
      const reason = val(`k${i}-reason`); const nom = val(`k${i}-nominee`);
      const name = val(`k${i}-name`).trim(); const r = val(`k${i}-rel`);
      if (nom !== '' && map[Number(nom)] !== undefined) k.nominee = map[Number(nom)];
      else { if (name) k.name = name; if (r) k.relationship = r; }
      const support = {};
      for (const s of supports) { const v = num(`k${i}-${s.name}`); if (v !== undefined) support[s.name] = v; }
      const ld = num(`k${i}-let_down`);
      if (!reason && k.nominee === undefined && !k.relationship && !Object.keys(support).length && ld === undefined) continue;
      if (reason) k.reason = reason;
      if (Object.keys(support).length) k.support = support;
      if (ld !== undefined) k.let_down = ld;
      key.push(k);
    }
    const adequacyAnswers = {};
    for (const q of adequacy) { const v = num(`a-${q.name}`); if (v !== undefined) adequacyAnswers[q.name] = v; }
    return { ...body, mode: body.mode || 'paper', language: language ? language.value : body.language, completed_on: date.value || undefined, answers: { nominees, key_people: key, adequacy: adequacyAnswers } };
  };

  let timer = null;
  let sending = false;
  const autosave = () => {
    // A revision is sent whole, with its reason: a submitted SCT cannot go
    // back to being a draft.
    if (revise) return;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      // Once the form is being sent (or has gone), a late draft must not
      // overwrite the submitted body on the device.
      if (sending || !page.isConnected) return;
      const b = collect();
      b.status = 'draft';
      if (!b.completed_on) delete b.completed_on;
      await outbox.keep(id, b, {});
      status.textContent = 'Draft kept on this device.';
    }, 400);
  };
  // A body kept on the device and refused later, once it is sent, is shown
  // here (a refusal while Submit waits is Submit's to show); the page, once
  // left, stops listening.
  let settling = false;
  const unlisten = outbox.onChange((s) => {
    if (!page.isConnected) { unlisten(); return; }
    if (s.id === id && s.state === 'refused' && !settling) { sending = false; errors.replaceChildren(faults(s.error, def)); errors.firstChild.focus(); }
  });
  const submit = async () => {
    errors.replaceChildren();
    const b = collect();
    if (!b.completed_on) { errors.replaceChildren(faults({ message: 'Enter the date the paper form was completed.', fields: [] })); date.focus(); return; }
    if (revise) {
      b.revision_reason = reason.value.trim();
      if (!b.revision_reason) { errors.replaceChildren(faults({ message: 'Say why the SCT is being changed.', fields: [] })); reason.focus(); return; }
    }
    b.status = 'submitted';
    clearTimeout(timer);
    sending = true;
    await outbox.keep(id, b, {});
    // Waits for an autosave under way, then sends this body: its fate is
    // known before the page says anything.
    settling = true;
    const kept = await outbox.settle(id).finally(() => { settling = false; });
    if (kept && kept.error) { sending = false; errors.replaceChildren(faults(kept.error, def)); errors.firstChild.focus(); return; }
    if (kept && kept.pending) { status.textContent = keptWords(); return; }
    await outbox.forget(id);
    show(revise ? 'Revised' : 'Submitted', h('h1', {}, revise ? 'SCT revised' : 'Paper SCT submitted'),
      h('p', {}, `Child ${body.child_id}, ${body.timepoint}.${revise ? ' The earlier answers are kept in its history.' : ''}`),
      done ? h('button', { type: 'button', onclick: done }, 'Back to the child') : null);
  };

  const page = h('form', { class: 'paper', onsubmit: (e) => { e.preventDefault(); submit(); }, oninput: autosave, onchange: (e) => { if (e.target.id.startsWith('n')) refreshNomineeSelects(); autosave(); } },
    h('h1', {}, `${revise ? 'Revise the SCT' : 'Type in a paper SCT'}: child ${body.child_id}, ${body.timepoint === 'follow_up' ? `follow-up ${body.wave || 1}` : 'baseline'}`),
    h('p', { class: 'hint' }, revise ? `Revision ${revise}, ${body.mode === 'paper' ? 'typed in from paper' : 'completed online'}. Change what needs changing and say why; the answers as they are now stay in its history.`
      : 'Tab moves between boxes. Leave a box empty where the paper form has no answer.'),
    revise ? h('div', {}, h('label', { for: 'revision-reason' }, 'Why is it being changed?'), reason) : null,
    h('label', { for: 'completed-on' }, 'Date the paper form was completed'), date,
    language ? h('div', {}, h('label', { for: 'paper-language' }, 'Language of the paper form'), language) : null,
    // Each table's title sits above its scrolling box, so it stays in view
    // while a narrow screen scrolls the table sideways.
    h('h2', { id: 'paper-nominees' }, `${fNom.label} (up to ${fNom.max_items})`),
    h('div', { class: 'scroll' }, h('table', { 'aria-labelledby': 'paper-nominees' },
      h('thead', {}, h('tr', {}, h('th', { class: 'n' }, '#'), h('th', {}, 'Name'), h('th', {}, 'Relationship'), h('th', {}, 'Other: who'))),
      h('tbody', {}, nomRows))),
    h('h2', { id: 'paper-key' }, `${fKey.label}: up to ${fKey.max_by.max.important} most important and ${fKey.max_by.max.support} more supporters`),
    h('div', { class: 'scroll' }, h('table', { 'aria-labelledby': 'paper-key' },
      h('thead', {}, h('tr', {}, h('th', { class: 'n' }, '#'), h('th', {}, 'Reason'), h('th', {}, 'From the list'), h('th', {}, 'Or new: name'), h('th', {}, 'New: relationship'),
        supports.map((s) => h('th', {}, s.label)), h('th', {}, fLet.label))),
      h('tbody', {}, keyRows))),
    h('h2', { id: 'paper-adequacy' }, field(def, 'adequacy').label),
    h('div', { class: 'scroll' }, h('table', { 'aria-labelledby': 'paper-adequacy' }, h('tbody', {}, adequacyRows))),
    errors, status,
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'submit-paper' }, revise ? 'Save the revision' : 'Submit the SCT')));
  const main = show('Paper SCT', page);
  main.className = 'wide';
  refreshNomineeSelects();
}

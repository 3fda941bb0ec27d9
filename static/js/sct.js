// The SCT wizard: one question at a time, big targets, read aloud, every
// change kept on the device at once and sent to the server when it can be.
// Questions, codes, scales, limits and wording all come from the form
// definition; this file only knows the order of the steps.

import { form, get, session, APIError, Offline } from './api.js';
import * as outbox from './outbox.js';
import { h, show, tiles, sayButton, faults, today, field, codes, scale } from './ui.js';

/**
 * open runs the wizard for response id. meta names the form version, child,
 * timepoint and wave of a new response; a kept or saved draft resumes where
 * it stopped.
 */
export async function open({ id, meta, young = false, done }) {
  // A young person's answers go with their own link's grant; what this
  // phone kept under another link is not theirs to see.
  const grant = young ? (session.young() || {}).grant : undefined;
  let kept = await outbox.load(id);
  if (kept && (kept.grant || undefined) !== grant) kept = undefined;
  let body = kept ? kept.body : null;
  let step = kept && kept.place ? kept.place.step || 0 : 0;
  if (!body) {
    try {
      const saved = await get(`/api/v1/responses/${id}`);
      body = { ...pick(saved), answers: saved.answers };
    } catch (e) {
      if (!(e instanceof APIError && e.status === 404) && !(e instanceof Offline)) throw e;
    }
  }
  body = body || { ...meta, mode: 'online', status: 'draft', answers: {} };
  // Sent and refused: the answers go back to being a draft, to be changed.
  if (kept && kept.error && body.status === 'submitted') body.status = 'draft';
  if (body.status === 'submitted' && !(kept && kept.pending)) {
    show('Already sent', h('h1', {}, 'These answers have been sent'),
      h('p', {}, 'Thank you. Nothing more is needed here.'));
    return;
  }
  const def = await form(body.form, body.version);
  const wizard = new Wizard({ id, def, body, step, young, done, grant });
  if (body.status === 'submitted') {
    // Sent from this phone before, and still waiting on it: say what
    // becomes of it rather than ask again.
    show('Sending', h('h1', {}, 'Sending your answers…'), wizard.status);
    const kept = await outbox.settle(id);
    if (kept && kept.error) {
      body.status = 'draft';
      wizard.step = wizard.steps().length - 1;
      wizard.render();
    } else {
      wizard.finished(!(kept && kept.pending));
    }
    return;
  }
  wizard.render();
}

// nameIn puts a person's name into a question about "them", so that the
// question says who on screen and aloud: "Would you talk to Nan about how
// you feel?", "Does Nan believe in you?".
function nameIn(q, who) {
  return q.replace(/\bDo they\b/, `Does ${who}`).replace(/\bAre they\b/, `Is ${who}`)
    .replace(/\bthey\b/, who).replace(/\bthem\b/, who);
}

function pick(r) {
  const { form: f, version, child_id: child, timepoint, wave, mode, status, completed_on: completed } = r;
  const out = { form: f, version, child_id: child, timepoint, wave, mode, status };
  if (completed) out.completed_on = completed;
  return out;
}

class Wizard {
  constructor({ id, def, body, step, young, done, grant }) {
    Object.assign(this, { id, def, body, step, young, done, grant });
    const a = body.answers;
    a.nominees = a.nominees || [];
    a.key_people = a.key_people || [];
    a.adequacy = a.adequacy || {};
    this.f = {
      nominees: field(def, 'nominees'),
      name: field(def, 'nominees.name'),
      relationship: field(def, 'nominees.relationship'),
      other: field(def, 'nominees.other_text'),
      key: field(def, 'key_people'),
      reason: field(def, 'key_people.reason'),
      support: field(def, 'key_people.support'),
      letDown: field(def, 'key_people.let_down'),
      adequacy: field(def, 'adequacy'),
    };
    this.editing = null; // index of the nominee being changed
    this.status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    this.unlisten = outbox.onChange((s) => { if (s.id === this.id) this.showSaveState(s); });
  }

  get a() { return this.body.answers; }

  steps() {
    const rate = this.a.key_people.map((_, i) => `rate:${i}`);
    return ['intro', 'people', 'important', 'support', ...rate, 'adequacy', 'finish'];
  }

  // ---- saving -------------------------------------------------------------

  async save() {
    const kept = await outbox.keep(this.id, this.body, { step: this.step }, this.grant);
    // Only what a person needs to hear is announced: kept for want of a
    // connection, or a failure; not every save.
    this.status.textContent = navigator.onLine === false
      ? 'Saved on this phone. It will be sent when there is a connection.'
      : '';
    return kept;
  }

  showSaveState(s) {
    // A wizard whose page has been left says nothing more.
    if (!this.status.isConnected) { this.unlisten(); return; }
    const words = {
      saved: '',
      offline: 'Saved on this phone. It will be sent when there is a connection.',
      retry: 'Saved on this phone. Trying to send it again soon.',
      refused: `Not accepted by the server: ${s.error && s.error.message}`,
    };
    this.status.textContent = words[s.state] || '';
    if (s.state === 'saved' && s.status === 'submitted' && !this.sent) this.finished(true);
  }

  change(fn) {
    fn();
    this.save();
  }

  go(step) {
    // A person half-added is never dropped: with who they are picked they
    // are added; with a name alone, the page asks.
    if (step > this.step && this.pendingPerson && !this.pendingPerson()) return;
    this.pendingPerson = null;
    const last = this.steps().length - 1;
    this.step = Math.max(0, Math.min(step, last));
    this.editing = null;
    this.save();
    this.render();
  }

  // ---- frame --------------------------------------------------------------

  render() {
    this.pendingPerson = null; // the people step's form sets it again
    const steps = this.steps();
    const name = steps[this.step];
    const [kind, arg] = name.split(':');
    const content = this[kind](Number(arg));
    // Progress is by part, and the parts never change in number, so the bar
    // only moves forward as people are added; within the ratings, the
    // person being rated is named.
    const parts = ['intro', 'people', 'important', 'support', 'rate', 'adequacy', 'finish'];
    const part = parts.indexOf(kind);
    const keyCount = this.a.key_people.length;
    const within = kind === 'rate' && keyCount ? Number(arg) / keyCount : 0;
    const where = kind === 'rate'
      ? `Part ${part + 1} of ${parts.length} · Person ${Number(arg) + 1} of ${keyCount}: ${this.keyName(this.a.key_people[Number(arg)])}`
      : `Part ${part + 1} of ${parts.length}`;
    const progress = h('div', { class: 'progress sticky-top' },
      h('progress', { max: String(parts.length - 1), value: String(part + within), 'aria-label': 'Progress' }),
      h('p', { class: 'hint', id: 'where' }, where));
    const nav = h('div', { class: 'actions sticky-nav' },
      this.step > 0 ? h('button', { type: 'button', class: 'secondary', onclick: () => this.go(this.step - 1) }, '← Back') : h('span'),
      kind !== 'finish' ? h('button', { type: 'button', id: 'next', onclick: () => this.go(this.step + 1) }, 'Next →') : null);
    show(content.title, progress, content.nodes, nav, this.status);
  }

  // refocus keeps focus on the control just used when the step is redrawn.
  refocus(selector) {
    const el = document.querySelector(selector);
    if (el) el.focus();
  }

  // ---- steps --------------------------------------------------------------

  intro() {
    const who = this.young ? 'you' : 'the young person';
    return {
      title: 'About the people in your life',
      nodes: [
        h('h1', {}, 'The people in your life'),
        h('p', {}, `These questions are about the people who matter to ${who}, and who ${who === 'you' ? 'you' : 'they'} would go to for help.`),
        h('p', {}, 'There are no right or wrong answers. You can skip any question, go back, or stop and carry on later: your answers are kept.'),
        sayButton(() => `The people in your life. These questions are about the people who matter to you, and who you would go to for help. There are no right or wrong answers. You can skip any question.`),
      ],
    };
  }

  personLabel(p) {
    const rel = codes(this.def, this.f.relationship.codes, true).find((c) => c.value === p.relationship);
    return { who: p.name || (rel ? rel.label : 'Someone'), rel: rel ? (p.relationship === 'other' && p.other_text ? p.other_text : rel.label) : '' };
  }

  people() {
    const list = this.a.nominees;
    const max = this.f.nominees.max_items;
    const items = list.map((p, i) => {
      const l = this.personLabel(p);
      return h('li', {},
        h('span', {}, h('span', { class: 'who' }, l.who), h('span', { class: 'rel' }, l.rel)),
        h('span', { class: 'row' },
          h('button', { type: 'button', class: 'secondary', onclick: () => { this.editing = i; this.render(); }, 'aria-label': `Change ${l.who}` }, 'Change'),
          h('button', { type: 'button', class: 'danger', onclick: () => this.removeNominee(i), 'aria-label': `Remove ${l.who}` }, 'Remove')));
    });
    const full = list.length >= max && this.editing === null;
    return {
      title: 'Important people',
      nodes: [
        h('h1', {}, this.f.nominees.prompt),
        sayButton(() => this.f.nominees.prompt),
        h('p', { class: 'hint' }, `${list.length} of up to ${max} people.`),
        // The form stays at the top, where the keyboard is: the list grows
        // below it, not above.
        full ? h('p', { class: 'notice', role: 'status' }, this.f.nominees.limit_message || `That is the most this list can hold (${max}).`) : this.personForm(),
        list.length ? h('ul', { class: 'people', 'aria-label': 'People you have added' }, items) : null,
      ],
    };
  }

  personForm() {
    const editing = this.editing !== null;
    const draft = editing ? { ...this.a.nominees[this.editing] } : {};
    const nameInput = h('input', { id: 'person-name', type: 'text', maxlength: String(this.f.name.max_length), value: draft.name || '', autocomplete: 'off' });
    const otherInput = h('input', { id: 'person-other', type: 'text', maxlength: String(this.f.other.max_length), value: draft.other_text || '' });
    const otherBox = h('div', { hidden: draft.relationship !== 'other' }, h('label', { for: 'person-other' }, this.f.other.prompt), otherInput);
    const err = h('p', { class: 'error', role: 'alert' });
    // With a name typed, picking who they are adds the person at once (one
    // tap a person); "someone else" waits for its words, and a change waits
    // for Save.
    const rel = tiles({
      name: 'relationship', legend: this.f.relationship.prompt, value: draft.relationship, cls: 'compact',
      options: codes(this.def, this.f.relationship.codes, true),
      onpick: (v) => {
        draft.relationship = v; otherBox.hidden = v !== 'other'; err.textContent = '';
        if (!editing && v !== 'other' && nameInput.value.trim()) commit();
      },
    });
    const commit = () => {
      if (!draft.relationship) { err.textContent = 'Please pick who they are to you.'; return; }
      const p = { relationship: draft.relationship };
      if (nameInput.value.trim()) p.name = nameInput.value.trim();
      if (draft.relationship === 'other' && otherInput.value.trim()) p.other_text = otherInput.value.trim();
      this.change(() => {
        if (editing) this.a.nominees[this.editing] = p; else this.a.nominees.push(p);
      });
      this.editing = null;
      this.render();
      this.status.textContent = `Added ${this.personLabel(p).who}.`;
      // Back to the name box, scrolled to the top, so that who they are to
      // the young person is in view below it for the next one.
      const again = document.getElementById('person-name');
      if (again) { again.focus(); again.scrollIntoView({ block: 'start' }); }
    };
    this.pendingPerson = () => {
      const named = nameInput.value.trim() !== '';
      if (!named && !draft.relationship) return true;
      if (draft.relationship) { commit(); return true; }
      err.textContent = `Please pick who ${nameInput.value.trim()} is to you, or clear the name to go on.`;
      nameInput.scrollIntoView({ block: 'center' });
      err.scrollIntoView({ block: 'nearest' });
      const first = document.querySelector('input[name="relationship"]');
      if (first) first.focus();
      return false;
    };
    return h('div', { class: 'card' },
      h('h2', {}, editing ? 'Change this person' : 'Add a person'),
      h('label', { for: 'person-name' }, this.f.name.prompt), nameInput,
      rel, otherBox, err,
      h('div', { class: 'row' },
        h('button', { type: 'button', id: 'add-person', onclick: commit }, editing ? 'Save changes' : 'Add this person'),
        editing ? h('button', { type: 'button', class: 'secondary', onclick: () => { this.editing = null; this.render(); } }, 'Cancel') : null));
  }

  // pickKey ticks or unticks nominee i as a key person for reason, saying
  // first how many answers about them go with an untick, and keeps focus
  // on the tile.
  pickKey(reason, max, i, on) {
    const now = this.keyOf(reason);
    const k = now.find((x) => x.nominee === i);
    const n = !on && k ? this.ratingsOf(k) : 0;
    const who = this.personLabel(this.a.nominees[i]).who;
    if (!n || confirm(`Untick ${who}? Your ${n} answer${n === 1 ? '' : 's'} about ${who} will go too.`)) {
      this.change(() => {
        if (on && now.length < max) this.setKey(reason, [...now, { nominee: i, reason }]);
        if (!on) this.setKey(reason, now.filter((x) => x.nominee !== i));
      });
    }
    this.render();
    this.refocus(`input[name="${reason}"][value="${i}"]`);
  }

  // sameForAll answers every question of a step with one tap, each still
  // there to change: most young people give most people the same answer.
  // Its choices are the questions' own, in their order.
  sameForAll({ name, about, options, values, set }) {
    const same = values.every((v) => v !== undefined && v === values[0]) ? values[0] : undefined;
    return h('div', { class: 'card same' }, tiles({
      name, legend: `The same answer for ${about}`, options, value: same, cls: 'scale', say: false,
      onpick: (v) => {
        this.change(() => set(v));
        this.render();
        this.refocus(`input[name="${name}"][value="${v}"]`);
      },
    }), h('p', { class: 'hint' }, 'Then change any that are different.'));
  }

  // ratingsOf counts the answers given about a key person.
  ratingsOf(k) { return Object.keys(k.support || {}).length + (k.let_down !== undefined ? 1 : 0); }

  removeNominee(i) {
    const l = this.personLabel(this.a.nominees[i]);
    const key = this.a.key_people.find((k) => k.nominee === i);
    const n = key ? this.ratingsOf(key) : 0;
    if (!confirm(n ? `Remove ${l.who} from your list? Your ${n} answer${n === 1 ? '' : 's'} about ${l.who} will go too.` : `Remove ${l.who} from your list?`)) return;
    this.change(() => {
      this.a.nominees.splice(i, 1);
      this.a.key_people = this.a.key_people
        .filter((k) => k.nominee !== i)
        .map((k) => (k.nominee !== undefined && k.nominee > i ? { ...k, nominee: k.nominee - 1 } : k));
    });
    this.render();
  }

  reasonLabel(code) {
    const c = codes(this.def, this.f.reason.codes, true).find((x) => x.value === code);
    return c ? c.label : code;
  }

  limit(reason) { return (this.f.key.max_by && this.f.key.max_by.max[reason]) || this.f.key.max_items; }

  keyOf(reason) { return this.a.key_people.filter((k) => k.reason === reason); }

  // Key people: the important ones first, then the extra supporters.
  setKey(reason, list) {
    const others = this.a.key_people.filter((k) => k.reason !== reason);
    const important = reason === 'important' ? list : others.filter((k) => k.reason === 'important');
    const support = reason === 'support' ? list : others.filter((k) => k.reason === 'support');
    this.a.key_people = [...important, ...support];
  }

  important() {
    const max = this.limit('important');
    const chosen = this.keyOf('important');
    const nominees = this.a.nominees;
    const picked = new Set(chosen.map((k) => k.nominee));
    const takenBySupport = new Set(this.keyOf('support').map((k) => k.nominee));
    const note = h('p', { class: 'notice', role: 'status', hidden: picked.size < max },
      `You have picked ${max}. To pick someone else, untick one first.`);
    const options = nominees.map((p, i) => ({ value: i, label: this.personLabel(p).who })).filter((o) => !takenBySupport.has(o.value));
    const group = nominees.length ? tiles({
      name: 'important', multiple: true, legend: `${this.reasonLabel('important')} (up to ${max})`, value: [...picked], options,
      onpick: (i, on) => this.pickKey('important', max, i, on),
    }) : h('p', { class: 'notice' }, 'There is nobody on the list yet. You can go back and add people, or carry on.');
    if (picked.size >= max) {
      for (const input of group.querySelectorAll('input')) if (!input.checked) input.disabled = true;
    }
    // The reason the other tiles cannot be picked sits above them, where
    // it is seen before they are tried.
    return { title: 'Most important people', nodes: [h('h1', {}, this.f.key.prompt), note, group] };
  }

  support() {
    const max = this.limit('support');
    const chosen = this.keyOf('support');
    const important = new Set(this.keyOf('important').map((k) => k.nominee));
    const listed = new Set(chosen.filter((k) => k.nominee !== undefined).map((k) => k.nominee));
    const full = chosen.length >= max;
    const options = this.a.nominees.map((p, i) => ({ value: i, label: this.personLabel(p).who })).filter((o) => !important.has(o.value));
    const group = options.length ? tiles({
      name: 'support', multiple: true, legend: `${this.reasonLabel('support')}: someone from your list`, value: [...listed], options,
      onpick: (i, on) => this.pickKey('support', max, i, on),
    }) : null;
    if (group && full) for (const input of group.querySelectorAll('input')) if (!input.checked) input.disabled = true;
    const newcomers = chosen.map((k, idx) => ({ k, idx })).filter(({ k }) => k.nominee === undefined);
    return {
      title: 'Other people who help',
      nodes: [
        h('h1', {}, `${this.reasonLabel('support')}?`),
        h('p', {}, `Is there anyone else you would be very likely to go to for help? Up to ${max}.`),
        sayButton(() => `Is there anyone else you would be very likely to go to for help? You can pick up to ${max}.`),
        // Why the other tiles cannot be picked, above them.
        full && group ? h('p', { class: 'notice' }, `You have picked ${max}. To pick someone else, untick one first.`) : null,
        group,
        newcomers.length ? h('ul', { class: 'people', 'aria-label': 'People not on your list' }, newcomers.map(({ k }) => {
          const l = this.personLabel(k);
          return h('li', {},
            h('span', {}, h('span', { class: 'who' }, l.who), h('span', { class: 'rel' }, l.rel)),
            h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${l.who}`, onclick: () => { this.change(() => this.setKey('support', this.keyOf('support').filter((x) => x !== k))); this.render(); } }, 'Remove'));
        })) : null,
        full ? h('p', { class: 'notice', role: 'status' }, this.f.key.limit_message) : this.newSupporterForm(),
      ],
    };
  }

  newSupporterForm() {
    const draft = {};
    const nameInput = h('input', { id: 'support-name', type: 'text', maxlength: String(this.f.name.max_length), autocomplete: 'off' });
    const err = h('p', { class: 'error', role: 'alert' });
    const rel = tiles({
      name: 'support-relationship', legend: this.f.relationship.prompt, options: codes(this.def, this.f.relationship.codes, true),
      onpick: (v) => { draft.relationship = v; err.textContent = ''; },
    });
    return h('details', { class: 'card' },
      h('summary', {}, 'Someone who is not on your list'),
      h('label', { for: 'support-name' }, this.f.name.prompt), nameInput, rel, err,
      h('button', {
        type: 'button', id: 'add-supporter', onclick: () => {
          if (!draft.relationship) { err.textContent = 'Please pick who they are to you.'; return; }
          const k = { reason: 'support', relationship: draft.relationship };
          if (nameInput.value.trim()) k.name = nameInput.value.trim();
          this.change(() => this.setKey('support', [...this.keyOf('support'), k]));
          this.render();
        },
      }, 'Add this person'));
  }

  keyName(k) {
    if (k.nominee !== undefined && this.a.nominees[k.nominee]) return this.personLabel(this.a.nominees[k.nominee]).who;
    return this.personLabel(k).who;
  }

  rate(i) {
    const k = this.a.key_people[i];
    const who = this.keyName(k);
    const named = (k.nominee !== undefined ? (this.a.nominees[k.nominee] || {}).name : k.name) ? (q) => nameIn(q, who) : (q) => q;
    const opts = (f) => scale(this.def, f.scale, true);
    const questions = this.f.support.fields.map((f) => tiles({
      name: `${f.name}-${i}`, legend: named(f.prompt), options: opts(f), value: (k.support || {})[f.name], cls: 'scale',
      onpick: (v) => this.change(() => { k.support = { ...(k.support || {}), [f.name]: v }; }),
    }));
    const letDown = tiles({
      name: `let_down-${i}`, legend: named(this.f.letDown.prompt), options: opts(this.f.letDown), value: k.let_down, cls: 'scale',
      onpick: (v) => this.change(() => { k.let_down = v; }),
    });
    const items = this.f.support.fields.map((f) => f.name);
    const all = this.sameForAll({
      name: `all-${i}`, about: `the ${items.length} questions about ${who} below`, options: opts(this.f.support.fields[0]),
      values: items.map((n) => (k.support || {})[n]),
      set: (v) => { k.support = Object.fromEntries(items.map((n) => [n, v])); },
    });
    return { title: `About ${who}`, nodes: [h('h1', {}, `Think about ${who}`), all, questions, letDown] };
  }

  adequacy() {
    const f = this.f.adequacy;
    return {
      title: 'Enough people?',
      nodes: [
        h('h1', {}, f.prompt),
        this.sameForAll({
          name: 'adequacy-all', about: `all ${f.fields.length} questions below`, options: scale(this.def, f.fields[0].scale, true),
          values: f.fields.map((q) => this.a.adequacy[q.name]),
          set: (v) => { for (const q of f.fields) this.a.adequacy[q.name] = v; },
        }),
        f.fields.map((q) => tiles({
          name: `adequacy-${q.name}`, legend: q.prompt, options: scale(this.def, q.scale, true), value: this.a.adequacy[q.name], cls: 'scale',
          onpick: (v) => this.change(() => { this.a.adequacy[q.name] = v; }),
        })),
      ],
    };
  }

  finish() {
    const date = h('input', { id: 'completed-on', type: 'date', value: this.body.completed_on || today(), max: today() });
    const err = h('div', { tabindex: '-1' });
    const a0 = this.a;
    const nobody = a0.nominees.length === 0 && a0.key_people.length === 0;
    const sure = nobody ? h('input', { id: 'name-nobody', type: 'checkbox' }) : null;
    const send = h('button', {
      type: 'button', id: 'send', onclick: async () => {
        if (sure && !sure.checked) {
          err.replaceChildren(h('p', { class: 'error', role: 'alert' }, 'Nobody is named yet. Tick "I don\'t want to name anyone", or go back and add people.'));
          sure.focus();
          return;
        }
        this.body.completed_on = date.value || today();
        this.body.status = 'submitted';
        send.disabled = true;
        send.textContent = 'Sending…';
        await this.save();
        // Waits for a save already under way, then sends these answers.
        const kept = await outbox.settle(this.id);
        if (kept && kept.error) {
          // Refused: back to a draft, here and on the device, to be changed.
          this.body.status = 'draft';
          await this.save();
          send.disabled = false;
          send.textContent = this.young ? 'Send my answers' : 'Submit the SCT';
          err.replaceChildren(faults(kept.error, this.def));
          err.focus();
        } else if (kept && kept.pending) {
          this.finished(false);
        } else {
          this.finished(true);
        }
      },
    }, this.young ? 'Send my answers' : 'Submit the SCT');
    const a = this.a;
    return {
      title: 'Ready to send',
      nodes: [
        h('h1', {}, 'Ready to send?'),
        h('p', {}, 'Here is what you told us:'),
        h('ul', {},
          h('li', {}, `${a.nominees.length} important ${a.nominees.length === 1 ? 'person' : 'people'}`),
          h('li', {}, `${a.key_people.length} key ${a.key_people.length === 1 ? 'person' : 'people'}`),
          h('li', {}, `${Object.keys(a.adequacy).length} of ${this.f.adequacy.fields.length} questions about having enough people`)),
        this.unanswered(),
        sure ? h('div', { class: 'card' }, h('p', {}, 'You have not named anyone. That is a real answer, if it is yours.'),
          h('label', { class: 'check', for: 'name-nobody' }, sure, " I don't want to name anyone")) : null,
        this.young ? null : h('div', {}, h('label', { for: 'completed-on' }, 'Date completed'), date),
        err, send,
      ],
    };
  }

  // unanswered lists what is left to answer, so that sending with gaps is
  // a choice: each can be skipped, none is skipped by accident.
  unanswered() {
    const perKey = this.f.support.fields.length + 1;
    const gaps = this.a.key_people.map((k) => {
      const missing = perKey - this.ratingsOf(k);
      const who = this.keyName(k);
      return missing > 0 ? `${missing} of ${perKey} questions about ${who}` : null;
    }).filter(Boolean);
    const adequacy = this.f.adequacy.fields.length - Object.keys(this.a.adequacy).length;
    if (adequacy > 0) gaps.push(`${adequacy} of ${this.f.adequacy.fields.length} questions about having enough people`);
    if (!gaps.length) return null;
    return h('div', { class: 'card' }, h('h2', {}, 'Not answered yet'),
      h('p', { class: 'hint' }, 'You can go back to answer these, or send your answers as they are.'),
      h('ul', {}, gaps.map((g) => h('li', {}, g))));
  }

  // finished thanks the young person. Answers still on the phone keep the
  // outbox listener, so the page says so when they reach the server.
  finished(sent) {
    if (sent) {
      this.sent = true;
      this.unlisten();
      outbox.forget(this.id);
    }
    // While they wait, the page keeps the wizard's status line: it is how
    // the wizard hears that they were sent.
    show('Thank you', h('h1', {}, 'Thank you!'),
      h('p', {}, sent ? 'Your answers have been sent.' : 'Your answers are saved on this phone and will be sent as soon as there is a connection. Please keep this page open or come back to it later.'),
      sent ? null : this.status,
      this.done ? h('button', { type: 'button', onclick: this.done }, 'Done') : null);
  }
}

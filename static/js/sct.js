// The SCT wizard: one question at a time, big targets, read aloud, every
// change kept on the device at once and sent to the server when it can be.
// Questions, codes, scales, limits and wording all come from the form
// definition; this file only knows the order of the steps.

import { form, get, session, APIError, Offline } from './api.js';
import * as outbox from './outbox.js';
import { h, show, sentPage, tiles, sayButton, faults, today, field, codes, scale, voicesReady, voiceFor, noVoice, sayLater } from './ui.js';
import * as i18n from './i18n.js';
import { t, tx } from './i18n.js';

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
  // The language: the one these answers were begun in, else the one
  // picked on this device before, else English.
  const def = await inLanguage(body, body.language || i18n.chosen() || 'en');
  if (body.status === 'submitted' && !(kept && kept.pending)) {
    sentPage();
    return;
  }
  const wizard = new Wizard({ id, def, body, step, young, done, grant });
  if (body.status === 'submitted') {
    // Sent from this phone before, and still waiting on it: say what
    // becomes of it rather than ask again.
    show(t('sending.title'), h('h1', {}, t('sending.heading')), wizard.status);
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

/**
 * inLanguage loads the form definition and the page's words in a language
 * the form has (else English), and marks the answers with it.
 */
async function inLanguage(body, code) {
  let def;
  try {
    def = await form(body.form, body.version, code);
  } catch (e) {
    if (!(e instanceof APIError && e.status === 404) || code === 'en') throw e;
    def = await form(body.form, body.version, 'en');
  }
  await i18n.use(def.language || 'en');
  body.language = def.language || 'en';
  return def;
}

// nameIn puts a person's name into a question about "them", so that the
// question says who on screen and aloud: "Would you talk to Nan about how
// you feel?", "Does Nan believe in you?". English only: in another
// language the step's heading names the person.
function nameIn(q, who) {
  if (i18n.lang() !== 'en') return q;
  return q.replace(/\bDo they\b/, `Does ${who}`).replace(/\bAre they\b/, `Is ${who}`)
    .replace(/\bthey\b/, who).replace(/\bthem\b/, who);
}

// upTo is a choice's legend with how many may be picked, unless its words
// say the number already ("One of my 3 most important people").
function upTo(reason, max) {
  return new RegExp(`(^|\\D)${max}(\\D|$)`).test(reason) ? reason : t('important.legend', { reason, max });
}

function pick(r) {
  const { form: f, version, child_id: child, timepoint, wave, mode, status, completed_on: completed, language } = r;
  const out = { form: f, version, child_id: child, timepoint, wave, mode, status, language };
  if (completed) out.completed_on = completed;
  return out;
}

class Wizard {
  constructor({ id, def, body, step, young, done, grant }) {
    Object.assign(this, { id, body, step, young, done, grant });
    const a = body.answers;
    a.nominees = a.nominees || [];
    a.key_people = a.key_people || [];
    a.adequacy = a.adequacy || {};
    this.setDef(def);
    this.editing = null; // index of the nominee being changed
    this.status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    this.unlisten = outbox.onChange((s) => { if (s.id === this.id) this.showSaveState(s); });
  }

  // setDef takes the form definition (in the language being used).
  setDef(def) {
    this.def = def;
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
  }

  // chooseLanguage answers in another of the form's languages: its words
  // and the page's, kept on the device for next time and with the answers.
  async chooseLanguage(code) {
    i18n.remember(code);
    this.setDef(await inLanguage(this.body, code));
    this.save();
    this.render();
    this.refocus(`input[name="language"][value="${code}"]`);
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
    this.status.textContent = navigator.onLine === false ? t('save.offline') : '';
    return kept;
  }

  showSaveState(s) {
    // A wizard whose page has been left says nothing more.
    if (!this.status.isConnected) { this.unlisten(); return; }
    const words = {
      saved: '',
      // Once thanked, the thanks say they are kept on the phone.
      offline: this.thanked ? '' : t('save.offline'),
      retry: t('save.retry'),
      refused: t('save.refused', { message: s.error && s.error.message }),
    };
    this.status.textContent = words[s.state] || '';
    if (s.state === 'saved' && s.status === 'submitted' && !this.sent) this.finished(true);
  }

  change(fn) {
    fn();
    this.save();
  }

  go(step) {
    // A person half-added is never dropped, going on or back: with who
    // they are picked they are added; with a name alone, the page asks.
    if (step !== this.step && this.pendingPerson && !this.pendingPerson()) return;
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
      ? tx('progress.person', { part: part + 1, parts: parts.length, n: Number(arg) + 1, count: keyCount, name: this.keyName(this.a.key_people[Number(arg)]) })
      : tx('progress.part', { part: part + 1, parts: parts.length });
    const progress = h('div', { class: 'progress sticky-top' },
      h('progress', { max: String(parts.length - 1), value: String(part + within), 'aria-label': t('progress.label') }),
      h('p', { class: 'hint', id: 'where' }, where));
    // The arrows point the way the page reads: mirrored right to left.
    const nav = h('div', { class: 'actions sticky-nav' },
      this.step > 0 ? h('button', { type: 'button', class: 'secondary', onclick: () => this.go(this.step - 1) },
        h('span', { class: 'arrow', 'aria-hidden': 'true' }, '←'), ` ${t('nav.back')}`) : h('span'),
      kind !== 'finish' ? h('button', { type: 'button', id: 'next', onclick: () => this.go(this.step + 1) },
        `${t('nav.next')} `, h('span', { class: 'arrow', 'aria-hidden': 'true' }, '→')) : null);
    // A translation no native speaker has checked says so.
    const draft = this.def.languages && (this.def.languages.find((l) => l.code === this.def.language) || {}).draft;
    const note = draft || i18n.draft() ? h('p', { class: 'draft-note', id: 'draft-note' }, t('draft.note')) : null;
    show(content.title, note, progress, content.nodes, nav, this.status);
    // What scrolls into view stops below the bar stuck to the top, however
    // tall the bar is (its words wrap at large text).
    document.documentElement.style.setProperty('--top-h', `${Math.ceil(progress.getBoundingClientRect().height)}px`);
  }

  // refocus keeps focus on the control just used when the step is redrawn.
  refocus(selector) {
    const el = document.querySelector(selector);
    if (el) el.focus();
  }

  // ---- steps --------------------------------------------------------------

  intro() {
    // The young person (or the worker) picks the language first; each
    // language is named in itself.
    const langs = (this.def.languages || []).filter((l) => i18n.PAGE_LANGUAGES.includes(l.code));
    const picker = langs.length > 1 ? tiles({
      name: 'language', legend: t('language.legend'), value: this.def.language, cls: 'compact', say: false,
      options: langs.map((l) => ({ value: l.code, label: l.name, lang: l.code, dir: l.dir })),
      onpick: (code) => this.chooseLanguage(code),
    }) : null;
    // Said at once when the device cannot read aloud in this language.
    const voice = h('div', { id: 'voice-note' });
    voicesReady().then(() => { if (!voiceFor(i18n.lang()) && voice.isConnected) voice.replaceChildren(noVoice()); });
    return {
      title: t('intro.title'),
      nodes: [
        h('h1', {}, t('intro.heading')),
        picker,
        h('p', {}, t(this.young ? 'intro.aboutYou' : 'intro.aboutThem')),
        h('p', {}, t('intro.noWrong')),
        sayButton(() => t('intro.say')),
        voice,
      ],
    };
  }

  personLabel(p) {
    const rel = codes(this.def, this.f.relationship.codes, true).find((c) => c.value === p.relationship);
    return { who: p.name || (rel ? rel.label : t('someone')), rel: rel ? (p.relationship === 'other' && p.other_text ? p.other_text : rel.label) : '' };
  }

  people() {
    const list = this.a.nominees;
    const max = this.f.nominees.max_items;
    const items = list.map((p, i) => {
      const l = this.personLabel(p);
      return h('li', {},
        h('span', {}, h('bdi', { class: 'who' }, l.who), h('span', { class: 'rel' }, l.rel)),
        h('span', { class: 'row' },
          h('button', { type: 'button', class: 'secondary', onclick: () => { this.editing = i; this.render(); }, 'aria-label': t('person.changeName', { name: l.who }) }, t('person.change')),
          h('button', { type: 'button', class: 'danger', onclick: () => this.removeNominee(i), 'aria-label': t('person.removeName', { name: l.who }) }, t('person.remove'))));
    });
    const full = list.length >= max && this.editing === null;
    return {
      title: t('people.title'),
      nodes: [
        h('h1', {}, this.f.nominees.prompt),
        sayButton(() => this.f.nominees.prompt),
        h('p', { class: 'hint' }, tx('people.count', { n: list.length, max })),
        // The form stays at the top, where the keyboard is: the list grows
        // below it, not above.
        full ? h('p', { class: 'notice', role: 'status' }, this.f.nominees.limit_message || t('people.full', { max })) : this.personForm(),
        // What became of the list ("Removed Jo.") is said just above it.
        h('p', { class: 'added', id: 'list-said', role: 'status' }),
        list.length ? h('ul', { class: 'people', 'aria-label': t('people.list') }, items) : null,
      ],
    };
  }

  personForm() {
    const editing = this.editing !== null;
    const draft = editing ? { ...this.a.nominees[this.editing] } : {};
    const nameInput = h('input', { id: 'person-name', type: 'text', maxlength: String(this.f.name.max_length), value: draft.name || '', autocomplete: 'off' });
    const otherInput = h('input', { id: 'person-other', type: 'text', maxlength: String(this.f.other.max_length), value: draft.other_text || '' });
    const otherBox = h('div', { hidden: draft.relationship !== 'other' }, h('label', { for: 'person-other' }, this.f.other.prompt), otherInput);
    const err = h('p', { class: 'error', role: 'alert', id: 'person-error' });
    nameInput.setAttribute('aria-describedby', 'person-error');
    // With a name typed, picking who they are adds the person at once (one
    // tap a person); "someone else" waits for its words, and a change waits
    // for Save.
    const rel = tiles({
      name: 'relationship', legend: this.f.relationship.prompt, value: draft.relationship, cls: 'compact',
      options: codes(this.def, this.f.relationship.codes, true),
      onpick: (v, _, how) => {
        draft.relationship = v; otherBox.hidden = v !== 'other'; err.textContent = ''; nameInput.removeAttribute('aria-invalid');
        // A tap adds them; arrow keys only move the pick (Add, or Next, adds).
        if (!editing && v !== 'other' && nameInput.value.trim() && how.pointer) commit();
      },
    });
    const commit = () => {
      if (!draft.relationship) { err.textContent = t('person.pickWho'); return; }
      const p = { relationship: draft.relationship };
      if (nameInput.value.trim()) p.name = nameInput.value.trim();
      if (draft.relationship === 'other' && otherInput.value.trim()) p.other_text = otherInput.value.trim();
      this.change(() => {
        if (editing) this.a.nominees[this.editing] = p; else this.a.nominees.push(p);
      });
      this.editing = null;
      this.render();
      // Said beside the name box, where the next person is typed, and read
      // out once there (filled in after the page is drawn, so a screen
      // reader hears the change).
      // Unless the next person is being typed already.
      sayLater(document.getElementById('person-added'), t('person.added', { name: this.personLabel(p).who }),
        () => !document.getElementById('person-name')?.value);
      // Back to the name box, scrolled with its heading just below the bar
      // stuck to the top, so that who they are to the young person is in
      // view below it for the next one.
      const again = document.getElementById('person-name');
      if (again) {
        again.focus({ preventScroll: true });
        (document.getElementById('person-heading') || again).scrollIntoView({ block: 'start' });
      }
    };
    this.pendingPerson = () => {
      const named = nameInput.value.trim() !== '';
      if (!named && !draft.relationship) return true;
      if (draft.relationship) { commit(); return true; }
      err.replaceChildren(...tx('person.pickWhoNamed', { name: nameInput.value.trim() }));
      nameInput.setAttribute('aria-invalid', 'true');
      const said = document.getElementById('person-added');
      if (said) said.textContent = ''; // the last one added is not what this is about
      err.scrollIntoView({ block: 'center' });
      const first = document.querySelector('input[name="relationship"]');
      if (first) first.focus();
      return false;
    };
    return h('div', { class: 'card' },
      h('h2', { id: 'person-heading' }, t(editing ? 'person.changeHeading' : 'person.addHeading')),
      h('p', { class: 'added', id: 'person-added', role: 'status' }),
      h('label', { for: 'person-name' }, this.f.name.prompt), nameInput, err,
      rel, otherBox,
      h('div', { class: 'row' },
        h('button', { type: 'button', id: 'add-person', onclick: commit }, t(editing ? 'person.save' : 'person.add')),
        editing ? h('button', { type: 'button', class: 'secondary', onclick: () => { this.editing = null; this.render(); } }, t('person.cancel')) : null));
  }

  // pickKey ticks or unticks nominee i as a key person for reason, saying
  // first how many answers about them go with an untick, and keeps focus
  // on the tile.
  pickKey(reason, max, i, on) {
    const now = this.keyOf(reason);
    const k = now.find((x) => x.nominee === i);
    const n = !on && k ? this.ratingsOf(k) : 0;
    const who = this.personLabel(this.a.nominees[i]).who;
    if (!n || confirm(t('key.untick', { name: who, n }))) {
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
      name, legend: t('same.legend', { about }), options, value: same, cls: 'scale', say: false,
      onpick: (v) => {
        this.change(() => set(v));
        this.render();
        this.refocus(`input[name="${name}"][value="${v}"]`);
      },
    }), h('p', { class: 'hint' }, t('same.hint')));
  }

  // ratingsOf counts the answers given about a key person.
  ratingsOf(k) { return Object.keys(k.support || {}).length + (k.let_down !== undefined ? 1 : 0); }

  removeNominee(i) {
    const l = this.personLabel(this.a.nominees[i]);
    const key = this.a.key_people.find((k) => k.nominee === i);
    const n = key ? this.ratingsOf(key) : 0;
    if (!confirm(n ? t('remove.confirmAnswers', { name: l.who, n }) : t('remove.confirm', { name: l.who }))) return;
    this.change(() => {
      this.a.nominees.splice(i, 1);
      this.a.key_people = this.a.key_people
        .filter((k) => k.nominee !== i)
        .map((k) => (k.nominee !== undefined && k.nominee > i ? { ...k, nominee: k.nominee - 1 } : k));
    });
    this.render();
    // The place is kept: the focus goes to the Remove button of the person
    // now in that place (or the one before, or the name box), and the
    // removal is said just above the list.
    const removes = [...document.querySelectorAll('ul.people button.danger')];
    (removes[Math.min(i, removes.length - 1)] || document.getElementById('person-name'))?.focus();
    sayLater(document.getElementById('list-said'), t('person.removed', { name: l.who }));
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
      tx('picked.full', { max }));
    const options = nominees.map((p, i) => ({ value: i, label: this.personLabel(p).who })).filter((o) => !takenBySupport.has(o.value));
    const group = nominees.length ? tiles({
      name: 'important', multiple: true, legend: upTo(this.reasonLabel('important'), max), value: [...picked], options,
      onpick: (i, on) => this.pickKey('important', max, i, on),
    }) : h('p', { class: 'notice' }, t('important.nobody'));
    if (picked.size >= max) {
      for (const input of group.querySelectorAll('input')) if (!input.checked) input.disabled = true;
    }
    // The reason the other tiles cannot be picked sits above them, where
    // it is seen before they are tried.
    return { title: t('important.title'), nodes: [h('h1', {}, this.f.key.prompt), note, group] };
  }

  support() {
    const max = this.limit('support');
    const chosen = this.keyOf('support');
    const important = new Set(this.keyOf('important').map((k) => k.nominee));
    const listed = new Set(chosen.filter((k) => k.nominee !== undefined).map((k) => k.nominee));
    const full = chosen.length >= max;
    const options = this.a.nominees.map((p, i) => ({ value: i, label: this.personLabel(p).who })).filter((o) => !important.has(o.value));
    const group = options.length ? tiles({
      name: 'support', multiple: true, legend: t('support.legend', { reason: this.reasonLabel('support') }), value: [...listed], options,
      onpick: (i, on) => this.pickKey('support', max, i, on),
    }) : null;
    if (group && full) for (const input of group.querySelectorAll('input')) if (!input.checked) input.disabled = true;
    const newcomers = chosen.map((k, idx) => ({ k, idx })).filter(({ k }) => k.nominee === undefined);
    return {
      title: t('support.title'),
      nodes: [
        h('h1', {}, t('support.heading', { reason: this.reasonLabel('support') })),
        h('p', {}, tx('support.anyone', { max })),
        sayButton(() => t('support.say', { max })),
        // Why the other tiles cannot be picked, above them.
        full && group ? h('p', { class: 'notice' }, tx('picked.full', { max })) : null,
        group,
        h('p', { class: 'added', id: 'support-added', role: 'status' }),
        newcomers.length ? h('ul', { class: 'people', 'aria-label': t('support.notListed') }, newcomers.map(({ k }) => {
          const l = this.personLabel(k);
          return h('li', {},
            h('span', {}, h('bdi', { class: 'who' }, l.who), h('span', { class: 'rel' }, l.rel)),
            h('button', { type: 'button', class: 'danger', 'aria-label': t('person.removeName', { name: l.who }), onclick: () => { this.change(() => this.setKey('support', this.keyOf('support').filter((x) => x !== k))); this.render(); } }, t('person.remove')));
        })) : null,
        full ? h('p', { class: 'notice', role: 'status' }, this.f.key.limit_message) : this.newSupporterForm(),
      ],
    };
  }

  newSupporterForm() {
    const draft = {};
    const nameInput = h('input', { id: 'support-name', type: 'text', maxlength: String(this.f.name.max_length), autocomplete: 'off' });
    const err = h('p', { class: 'error', role: 'alert', id: 'support-error' });
    const add = () => {
      const k = { reason: 'support', relationship: draft.relationship };
      if (nameInput.value.trim()) k.name = nameInput.value.trim();
      this.change(() => this.setKey('support', [...this.keyOf('support'), k]));
      return k;
    };
    // Added and drawn again, saying so above the list (see people).
    const added = () => {
      const who = this.personLabel(add()).who;
      this.render();
      const said = document.getElementById('support-added');
      sayLater(said, t('person.added', { name: who }));
      said?.scrollIntoView({ block: 'nearest' });
    };
    // As on the people step: with a name typed, picking who they are adds
    // the person at once; and a person half-added is never dropped.
    const rel = tiles({
      name: 'support-relationship', legend: this.f.relationship.prompt, options: codes(this.def, this.f.relationship.codes, true),
      onpick: (v, _, how) => {
        draft.relationship = v; err.textContent = ''; nameInput.removeAttribute('aria-invalid');
        if (nameInput.value.trim() && how.pointer) added();
      },
    });
    this.pendingPerson = () => {
      if (draft.relationship) { add(); return true; }
      if (!nameInput.value.trim()) return true;
      err.replaceChildren(...tx('person.pickWhoNamed', { name: nameInput.value.trim() }));
      nameInput.setAttribute('aria-invalid', 'true');
      box.open = true;
      err.scrollIntoView({ block: 'center' });
      const first = document.querySelector('input[name="support-relationship"]');
      if (first) first.focus();
      return false;
    };
    nameInput.setAttribute('aria-describedby', 'support-error');
    const box = h('details', { class: 'card' },
      h('summary', {}, t('support.new')),
      h('label', { for: 'support-name' }, this.f.name.prompt), nameInput, err, rel,
      h('button', {
        type: 'button', id: 'add-supporter', onclick: () => {
          if (!draft.relationship) { err.textContent = t('person.pickWho'); return; }
          added();
        },
      }, t('person.add')));
    return box;
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
      name: `all-${i}`, about: t('rate.all', { n: items.length, name: who }), options: opts(this.f.support.fields[0]),
      values: items.map((n) => (k.support || {})[n]),
      set: (v) => { k.support = Object.fromEntries(items.map((n) => [n, v])); },
    });
    return { title: t('rate.title', { name: who }), nodes: [h('h1', {}, tx('rate.heading', { name: who })), all, questions, letDown] };
  }

  adequacy() {
    const f = this.f.adequacy;
    return {
      title: t('adequacy.title'),
      nodes: [
        h('h1', {}, f.prompt),
        this.sameForAll({
          name: 'adequacy-all', about: t('adequacy.all', { n: f.fields.length }), options: scale(this.def, f.fields[0].scale, true),
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
          err.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('finish.nobodyError')));
          sure.focus();
          return;
        }
        this.body.completed_on = date.value || today();
        this.body.status = 'submitted';
        send.disabled = true;
        send.textContent = t('finish.sending');
        await this.save();
        // Waits for a save already under way, then sends these answers.
        const kept = await outbox.settle(this.id);
        if (kept && kept.error) {
          // Refused: back to a draft, here and on the device, to be changed.
          this.body.status = 'draft';
          await this.save();
          send.disabled = false;
          send.textContent = t(this.young ? 'finish.sendYoung' : 'finish.sendStaff');
          err.replaceChildren(faults(kept.error, this.def));
          err.focus();
        } else if (kept && kept.pending) {
          this.finished(false);
        } else {
          this.finished(true);
        }
      },
    }, t(this.young ? 'finish.sendYoung' : 'finish.sendStaff'));
    const a = this.a;
    return {
      title: t('finish.title'),
      nodes: [
        h('h1', {}, t('finish.heading')),
        h('p', {}, t('finish.told')),
        h('ul', {},
          h('li', {}, tx('finish.important', { n: a.nominees.length })),
          h('li', {}, tx('finish.key', { n: a.key_people.filter((k) => this.ratingsOf(k) > 0).length })),
          h('li', {}, tx('finish.adequacyAnswered', { n: Object.keys(a.adequacy).length, total: this.f.adequacy.fields.length }))),
        this.unanswered(),
        sure ? h('div', { class: 'card' }, h('p', {}, t('finish.nobody')),
          h('label', { class: 'check', for: 'name-nobody' }, sure, ` ${t('finish.nobodyTick')}`)) : null,
        this.young ? null : h('div', {}, h('label', { for: 'completed-on' }, t('finish.date')), date),
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
      return missing > 0 ? tx('gaps.person', { n: missing, total: perKey, name: who }) : null;
    }).filter(Boolean);
    const adequacy = this.f.adequacy.fields.length - Object.keys(this.a.adequacy).length;
    if (adequacy > 0) gaps.push(tx('finish.adequacy', { n: adequacy, total: this.f.adequacy.fields.length }));
    if (!gaps.length) return null;
    return h('div', { class: 'card' }, h('h2', {}, t('gaps.heading')),
      h('p', { class: 'hint' }, t('gaps.hint')),
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
    const map = h('section', { class: 'map-end', 'aria-label': t(this.young ? 'map.yours' : 'map.theirs') });
    // Said in a live region. When the answers kept on the phone go later,
    // while this page shows, the words change after the page is drawn
    // again, so that a screen reader hears that they were sent.
    const words = t(sent ? 'thanks.sent' : 'thanks.kept');
    const said = h('p', { role: 'status' }, this.thanked ? '' : words);
    if (this.thanked) sayLater(said, words);
    this.thanked = true;
    // The status line stays on the page: the wizard hears through it when
    // they are sent, and it says so should the server refuse them. That
    // they are kept the line above says already.
    if (this.status.textContent === t('save.offline')) this.status.textContent = '';
    show(t('thanks.title'), h('h1', {}, t('thanks.heading')),
      said,
      sent ? null : this.status,
      this.done ? h('button', { type: 'button', onclick: this.done }, t('thanks.done')) : null,
      map);
    this.showMap(map);
  }

  // showMap draws the young person's map from the answers on this device,
  // so it shows with no signal too.
  async showMap(place) {
    const [m, { pageWords }] = await Promise.all([import('./map.js'), import('./mapwords.js')]);
    // In the language the SCT was answered in.
    const w = pageWords({ young: this.young });
    place.setAttribute('aria-label', this.young ? w.your_map : w.map_of);
    place.replaceChildren(...[h('h2', {}, this.young ? w.your_map : w.map_of),
      this.young ? h('p', { class: 'hint' }, w.your_map_hint) : null,
      m.figure(this.body.answers, { names: true, caption: m.caption(this.body, w), id: 'end-map', w, dir: i18n.dir() })].filter(Boolean));
  }
}

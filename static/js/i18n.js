// The page's own words (buttons, progress, messages) in the language the
// young person picked: static/i18n/<code>.json, only the chosen one loaded.
// The form's own wording comes from the form definition in that language
// (GET /api/v1/forms/{form}/versions/{v}?lang=). The choice is kept on the
// device.

import { h } from './ui.js';

/** PAGE_LANGUAGES are the languages the page's own words are in. */
export const PAGE_LANGUAGES = ['en', 'cy', 'ar'];

const CHOSEN = 'sct.lang';
const state = { code: 'en', dir: 'ltr', name: 'English', draft: false, words: {}, plural: null };
const loaded = new Map();

/** chosen is the language picked on this device before, if any. */
export function chosen() {
  try { return localStorage.getItem(CHOSEN) || null; } catch { return null; }
}

/** remember keeps the language picked, for next time. */
export function remember(code) {
  try { localStorage.setItem(CHOSEN, code); } catch { /* not kept: asked again */ }
}

/** pageLanguage is the page language for a language code: itself, or English. */
export function pageLanguage(code) {
  const base = String(code || '').toLowerCase().split('-')[0];
  return PAGE_LANGUAGES.includes(base) ? base : 'en';
}

/**
 * use loads the page's words in a language and sets the document's lang
 * and dir. Offline, the service worker answers with the kept file.
 */
export async function use(code) {
  const want = pageLanguage(code);
  let file = loaded.get(want);
  if (!file) {
    const res = await fetch(`/i18n/${want}.json`);
    if (!res.ok) throw new Error(`The page's words in ${want} could not be loaded.`);
    file = await res.json();
    loaded.set(want, file);
  }
  Object.assign(state, { code: file.language, dir: file.dir, name: file.name, draft: file.draft, words: file.words, plural: new Intl.PluralRules(file.language) });
  const root = document.documentElement;
  root.lang = state.code;
  root.dir = state.dir;
  const brand = document.querySelector('.brand');
  if (brand) brand.textContent = t('app.name');
  const skip = document.querySelector('.skip');
  if (skip) skip.textContent = t('app.skip');
  return state;
}

/** lang is the page's language code; dir its direction. */
export const lang = () => state.code;
export const dir = () => state.dir;
/** draft says whether the page's words are a draft translation. */
export const draft = () => state.draft;
/** languageName is the page language's name, in that language. */
export const languageName = () => state.name;

function pick(key, vars) {
  let w = state.words[key];
  if (w === undefined) return key;
  if (typeof w === 'object') {
    // Plural forms by the language's own rules (Welsh and Arabic have six).
    const n = vars && typeof vars.n === 'number' ? vars.n : 0;
    w = w[state.plural.select(n)] ?? w.other;
  }
  return w;
}

/** t is a word in the page's language, with {name}s filled in, as text. */
export function t(key, vars = {}) {
  return pick(key, vars).replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/**
 * tx is the same words as nodes, each value isolated in a <bdi>: a name
 * or number keeps its own direction inside a sentence of the other.
 */
export function tx(key, vars = {}) {
  return pick(key, vars).split(/(\{\w+\})/).filter((part) => part !== '').map((part) => {
    const m = part.match(/^\{(\w+)\}$/);
    if (!m || !(m[1] in vars)) return part;
    const v = vars[m[1]];
    return v instanceof Node ? v : h('bdi', {}, String(v));
  });
}

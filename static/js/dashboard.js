// The evaluators' dashboard: Tables 3 and 4 and their companions at baseline
// and follow-up side by side, with the base of every percentage, bar charts
// drawn as inline SVG, and the exports to download.

import { get, form, session } from './api.js';
import { h, show, codes, field } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const pct = (p) => (p === null || p === undefined ? '–' : `${Math.round(p)}%`);
const exact = (p) => (p === null || p === undefined ? 'no base' : `${p.toFixed(2)}%`);

/** bars draws one horizontal bar per series for a row: labels carry the numbers, so colour is never the only cue. */
function bars(series) {
  const width = 220; const rowH = 16; const gap = 4;
  const svg = s('svg', { class: 'bars', width: String(width + 50), height: String(series.length * (rowH + gap)), role: 'img',
    'aria-label': series.map((x) => `${x.name} ${pct(x.percent)}`).join(', ') });
  series.forEach((x, i) => {
    const w = x.percent ? (x.percent / 100) * width : 0;
    const y = i * (rowH + gap);
    svg.append(s('rect', { x: '0', y: String(y), width: String(width), height: String(rowH), fill: '#eef2f5' }));
    svg.append(s('rect', { x: '0', y: String(y), width: String(w), height: String(rowH), fill: x.color }));
    svg.append(s('text', { x: String(width + 4), y: String(y + rowH - 3) }, `${x.short} ${pct(x.percent)}`));
  });
  return svg;
}

/** stacked draws Table 4's no one / too few / enough as one stacked bar with its numbers. */
function stacked(row) {
  const width = 240; const parts = [['no_one', '#8a1c1c', 'none'], ['too_few', '#e39b3b', 'few'], ['enough', '#0b6e4f', 'enough']];
  const svg = s('svg', { class: 'bars', width: String(width), height: '18', role: 'img',
    'aria-label': parts.map(([k, , l]) => `${l} ${pct(row[k].percent)}`).join(', ') });
  let x = 0;
  for (const [k, color] of parts) {
    const w = row[k].percent ? (row[k].percent / 100) * width : 0;
    svg.append(s('rect', { x: String(x), y: '0', width: String(w), height: '18', fill: color }));
    x += w;
  }
  return svg;
}

function labeler(def, list) {
  const m = new Map(codes(def, list).map((c) => [c.value, c.label]));
  return (code) => m.get(code) || code;
}

function supportLabel(def) {
  const f = field(def, 'key_people.support');
  const m = new Map(f.fields.map((x) => [x.name, x.label]));
  return (code) => m.get(code) || code;
}

export async function open() {
  const def = await form('sct', '1');
  const me = session.staff();
  const filters = h('form', { id: 'filters' });
  const out = h('div', { id: 'tables' });
  const input = (name, label, type = 'text', extra = {}) => h('div', {}, h('label', { for: `f-${name}` }, label), h('input', { id: `f-${name}`, name, type, ...extra }));
  const choice = (name, label, options) => h('div', {}, h('label', { for: `f-${name}` }, label),
    h('select', { id: `f-${name}`, name }, options.map(([v, l]) => h('option', { value: v }, l))));
  // Sites and versions are choices, from the server: nothing to mistype.
  const mine = me && me.sites && me.sites.length ? me.sites : [];
  const [siteList, formList] = await Promise.all([get('/api/v1/sites').catch(() => ({ sites: [] })), get('/api/v1/forms').catch(() => ({ forms: [] }))]);
  const sites = (siteList.sites || []).filter((x) => !mine.length || mine.includes(x.code));
  const versions = ((formList.forms || []).find((f) => f.form === 'sct') || { versions: [] }).versions;
  filters.append(
    h('div', { class: 'grid2' },
      mine.length === 1 ? null : choice('site', 'Site', [['', mine.length ? 'All my sites' : 'All sites'], ...sites.map((x) => [x.code, `${x.code} · ${x.name}`])]),
      choice('group', 'Group', [['', 'Both groups'], ['lifelong_links', 'Lifelong Links'], ['comparison', 'Comparison']]),
      choice('version', 'SCT version', [['', 'All versions'], ...versions.map((v) => [v.version, `Version ${v.version}${v.title ? ` · ${v.title}` : ''}`])]),
      input('from', 'Completed from', 'date'), input('to', 'Completed to', 'date')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Show the tables')));
  // Once applied, the filters fold away under a line that says what they are.
  const applied = h('span', {}, 'Filters');
  const fold = h('details', { class: 'card filters', open: true }, h('summary', {}, applied), filters);
  filters.addEventListener('submit', (e) => { e.preventDefault(); load(); });

  async function load() {
    const q = new URLSearchParams();
    for (const el of filters.elements) if (el.name && el.value) q.set(el.name, el.value);
    const said = [...filters.elements].filter((el) => el.name && el.value).map((el) => (el.tagName === 'SELECT' ? el.selectedOptions[0].textContent : `${el.previousSibling ? el.previousSibling.textContent : el.name} ${el.value}`));
    applied.textContent = `Filters: ${said.length ? said.join(', ') : 'everything'} (change)`;
    fold.open = false;
    out.replaceChildren(h('p', { role: 'status' }, 'Loading…'));
    try {
      const [base, fu] = await Promise.all(['baseline', 'follow_up'].map((tp) => get(`/api/v1/summaries/sct?timepoint=${tp}&${q}`)));
      // Practice summaries and the exports take the site and the dates only:
      // the SCT version is not theirs, and they have no group (the server
      // refuses a filter it does not know, which would empty the page).
      const pq = new URLSearchParams(q);
      pq.delete('version');
      pq.delete('group');
      const [paired, practice] = await Promise.all([
        get(`/api/v1/summaries/sct/paired?${q}`),
        get(`/api/v1/summaries/practice?${pq}`),
      ]);
      const ps = await form('practice-summary', '2');
      out.replaceChildren(...tables(def, base, fu), ...pairedTables(def, paired), ...practiceTables(ps, practice, q.has('group')), downloads(pq));
    } catch (e) {
      out.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message));
    }
  }

  const main = show('Dashboard', h('h1', {}, 'Social Connections Tool: baseline and follow-up'),
    h('p', { class: 'hint' }, 'Percentages are rounded here; hover or focus a cell for the exact figure. Each table says what its percentages are of.'),
    fold, out);
  main.className = 'wide';
  await load();
}

function tables(def, b, f) {
  const rel = labeler(def, field(def, 'nominees.relationship').codes);
  const sup = supportLabel(def);
  const key = h('p', { class: 'hint' }, h('span', { class: 'legend-key k-base' }), 'Baseline (B) ', h('span', { class: 'legend-key k-fu' }), 'Follow-up (F)');
  const cell = (count, p) => h('td', { class: 'n', title: exact(p), tabindex: '0' }, `${count} (${pct(p)})`);
  const byRel = (rows) => new Map(rows.map((r) => [r.relationship, r]));
  const t3b = byRel(b.nominees.by_relationship); const t3f = byRel(f.nominees.by_relationship);
  const mean = (n) => (n.mean === null ? '–' : `${n.mean.toFixed(1)} (SD ${n.sd === null ? '–' : n.sd.toFixed(1)})`);

  const table3 = h('table', { id: 'table3', 'aria-labelledby': 'table3-title' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Relationship'), h('th', { class: 'n' }, 'Baseline'), h('th', { class: 'n' }, 'Follow-up'), h('th', {}, 'Chart'))),
    h('tbody', {}, b.nominees.by_relationship.map((r) => {
      const x = t3f.get(r.relationship) || { count: 0, percent: null };
      return h('tr', {}, h('th', { scope: 'row' }, rel(r.relationship)), cell(r.count, r.percent), cell(x.count, x.percent),
        h('td', {}, bars([{ name: 'Baseline', short: 'B', percent: r.percent, color: '#1d4f7a' }, { name: 'Follow-up', short: 'F', percent: x.percent, color: '#c9a227' }])));
    })),
    h('tfoot', {},
      h('tr', {}, h('th', { scope: 'row' }, 'Respondents who named anyone (the base)'), h('td', { class: 'n', id: 'base-b' }, String(b.nominees.base)), h('td', { class: 'n', id: 'base-f' }, String(f.nominees.base)), h('td')),
      h('tr', {}, h('th', { scope: 'row' }, 'Mean number of important people'), h('td', { class: 'n' }, mean(b.nominees)), h('td', { class: 'n' }, mean(f.nominees)), h('td')),
      h('tr', {}, h('th', { scope: 'row' }, 'SCTs counted'), h('td', { class: 'n' }, String(b.respondents)), h('td', { class: 'n' }, String(f.respondents)), h('td'))));

  const kb = byRel(b.key_people.by_relationship); const kf = byRel(f.key_people.by_relationship);
  const keyTable = h('table', { id: 'key-people', 'aria-labelledby': 'key-people-title' },
    h('tbody', {}, [...kb.keys()].map((r) => h('tr', {}, h('th', { scope: 'row' }, rel(r)), cell(kb.get(r).count, kb.get(r).percent), cell((kf.get(r) || {}).count || 0, (kf.get(r) || {}).percent)))));

  const avf = new Map(f.availability.map((r) => [r.support, r]));
  const availability = h('table', { id: 'availability', 'aria-labelledby': 'availability-title' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Support'), h('th', { class: 'n' }, 'Baseline'), h('th', { class: 'n' }, 'Follow-up'), h('th', {}, 'Chart'))),
    h('tbody', {}, b.availability.map((r) => {
      const x = avf.get(r.support);
      return h('tr', {}, h('th', { scope: 'row' }, sup(r.support)),
        h('td', { class: 'n', title: exact(r.percent) }, `${r.probably_or_definitely} of ${r.base} (${pct(r.percent)})`),
        h('td', { class: 'n', title: exact(x.percent) }, `${x.probably_or_definitely} of ${x.base} (${pct(x.percent)})`),
        h('td', {}, bars([{ name: 'Baseline', short: 'B', percent: r.percent, color: '#1d4f7a' }, { name: 'Follow-up', short: 'F', percent: x.percent, color: '#c9a227' }])));
    })),
    h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, 'Strain: likely to let them down (probably or definitely)'),
      h('td', { class: 'n', title: exact(b.strain.probably_or_definitely_percent) }, `${b.strain.probably_or_definitely} of ${b.strain.base} (${pct(b.strain.probably_or_definitely_percent)})`),
      h('td', { class: 'n', title: exact(f.strain.probably_or_definitely_percent) }, `${f.strain.probably_or_definitely} of ${f.strain.base} (${pct(f.strain.probably_or_definitely_percent)})`), h('td'))));

  const adf = new Map(f.adequacy.map((r) => [r.support, r]));
  const t4row = (label, r) => [h('td', { class: 'n' }, String(r.total)), ...['no_one', 'too_few', 'enough'].map((k) => cell(r[k].count, r[k].percent)), h('td', {}, stacked(r))];
  const table4 = h('table', { id: 'table4', 'aria-labelledby': 'table4-title' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Support'), h('th', {}, 'When'), h('th', { class: 'n' }, 'Total responses'), h('th', { class: 'n' }, 'No one'), h('th', { class: 'n' }, 'Too few'), h('th', { class: 'n' }, 'Enough'), h('th', {}, 'Chart (none · few · enough)'))),
    h('tbody', {}, b.adequacy.flatMap((r) => [
      h('tr', {}, h('th', { scope: 'row', rowspan: '2' }, sup(r.support)), h('td', {}, 'Baseline'), ...t4row('B', r)),
      h('tr', {}, h('td', {}, 'Follow-up'), ...t4row('F', adf.get(r.support))),
    ])));

  // Titles sit above the scrolling boxes, not in captions, so a narrow
  // screen that scrolls a table sideways still shows the whole title.
  const titled = (table, title) => h('div', {}, h('h2', { class: 'caption', id: `${table.id}-title` }, title), h('div', { class: 'scroll' }, table));
  return [key,
    titled(table3, 'Table 3: people who are important, by relationship type'),
    h('div', { class: 'grid2' },
      titled(keyTable, `Key people by relationship (of respondents naming any key person: ${b.key_people.base} baseline, ${f.key_people.base} follow-up)`),
      titled(availability, 'Availability: key-person ratings "probably" or "definitely" (of all answered ratings of that type)')),
    titled(table4, 'Table 4: adequacy of support (of those who answered each item)')];
}

const num = (x, d = 1) => (x === null || x === undefined ? '–' : Number(x).toFixed(d));
const pval = (p) => (p === null || p === undefined ? '–' : p < 0.001 ? '< 0.001' : p.toFixed(3));

function section(id, title, ...content) {
  return h('section', { 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), ...content);
}

/** pairedTables shows the same children at baseline and follow-up. */
function pairedTables(def, p) {
  const sup = supportLabel(def);
  const ns = p.network_size;
  const row = (label, d) => h('tr', {}, h('th', { scope: 'row' }, label), h('td', { class: 'n' }, String(d.n)),
    h('td', { class: 'n' }, num(d.mean)), h('td', { class: 'n' }, num(d.sd)), h('td', { class: 'n' }, num(d.median)));
  const size = h('table', { id: 'paired-size' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Number of important people'), h('th', { class: 'n' }, 'n'), h('th', { class: 'n' }, 'Mean'), h('th', { class: 'n' }, 'SD'), h('th', { class: 'n' }, 'Median'))),
    h('tbody', {}, row('Baseline', ns.baseline), row(`Follow-up ${p.wave}`, ns.follow_up), row('Change', ns.change)),
    h('tfoot', {}, h('tr', {}, h('th', { scope: 'row', colspan: '5' },
      `Wilcoxon signed-rank: z = ${num(ns.wilcoxon.z, 3)}, two-sided p = ${pval(ns.wilcoxon.p)} (${ns.wilcoxon.zeros} with no change left out)`))));
  const adequacy = h('table', { id: 'paired-adequacy' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Support'), h('th', { class: 'n' }, 'Pairs answering'),
      h('th', { class: 'n' }, 'Enough: baseline'), h('th', { class: 'n' }, 'Enough: follow-up'), h('th', { class: 'n' }, 'Marginal homogeneity p'))),
    h('tbody', {}, p.adequacy.map((r) => h('tr', {}, h('th', { scope: 'row' }, sup(r.support)), h('td', { class: 'n' }, String(r.base)),
      h('td', { class: 'n' }, `${r.baseline.enough} of ${r.base}`), h('td', { class: 'n' }, `${r.follow_up.enough} of ${r.base}`),
      h('td', { class: 'n', title: r.marginal_homogeneity.note || '' }, pval(r.marginal_homogeneity.p))))));
  const availability = h('table', { id: 'paired-availability' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Support'), h('th', { class: 'n' }, 'Pairs'), h('th', { class: 'n' }, 'Baseline'), h('th', { class: 'n' }, 'Follow-up'), h('th', {}, 'Chart'), h('th', { class: 'n' }, 'p'))),
    h('tbody', {}, [...p.availability, { support: 'let_down', ...p.strain }].map((r) => h('tr', {},
      h('th', { scope: 'row' }, r.support === 'let_down' ? 'Strain: would let them down' : sup(r.support)), h('td', { class: 'n' }, String(r.base)),
      h('td', { class: 'n' }, pct(r.baseline_percent)), h('td', { class: 'n' }, pct(r.follow_up_percent)),
      h('td', {}, bars([{ name: 'Baseline', short: 'B', percent: r.baseline_percent, color: '#1d4f7a' }, { name: 'Follow-up', short: 'F', percent: r.follow_up_percent, color: '#c9a227' }])),
      h('td', { class: 'n' }, pval(r.wilcoxon.p))))));
  const g = p.groups;
  const groups = g.network_size_change
    ? h('p', {}, `Change in network size, Lifelong Links (${g.lifelong_links} pairs) against comparison (${g.comparison}): Mann–Whitney U = ${num(g.network_size_change.u)}, z = ${num(g.network_size_change.z, 3)}, p = ${pval(g.network_size_change.p)}.`)
    : h('p', { class: 'hint' }, `Group comparison needs pairs in both groups (Lifelong Links ${g.lifelong_links}, comparison ${g.comparison}).`);
  return [section('paired', `The same children at baseline and follow-up ${p.wave}: ${p.pairs} ${p.pairs === 1 ? 'pair' : 'pairs'}`,
    h('div', { class: 'scroll' }, size), h('div', { class: 'scroll' }, adequacy), h('div', { class: 'scroll' }, availability), groups)];
}

/** practiceTables shows Tables 2, 5 and 6 of the practice summaries. */
function practiceTables(ps, r, grouped) {
  const tool = labeler(ps, 'tool');
  const objective = labeler(ps, 'objective');
  const outcome = labeler(ps, 'outcome');
  const tools = r.tools;
  const codes = Object.keys(tools.total.counts);
  const table2 = h('table', { id: 'table2' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Site'), h('th', { class: 'n' }, 'Cases'), codes.map((c) => h('th', { class: 'n' }, tool(c))), h('th', { class: 'n' }, 'Mean tools'))),
    h('tbody', {}, tools.by_site.map((row) => h('tr', {}, h('th', { scope: 'row' }, row.site), h('td', { class: 'n' }, String(row.cases)),
      codes.map((c) => h('td', { class: 'n' }, String(row.counts[c] ?? 0))), h('td', { class: 'n' }, num(row.mean_tools, 2))))),
    h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, 'Total'), h('td', { class: 'n' }, String(tools.base)),
      codes.map((c) => h('td', { class: 'n' }, `${tools.total.counts[c]} (${pct(tools.percent[c])})`)), h('td', { class: 'n' }, num(tools.total.mean_tools, 2)))));
  const o = r.objectives;
  const table5 = h('table', { id: 'table5' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Objective'), h('th', { class: 'n' }, 'Set'), h('th', { class: 'n' }, 'Met'))),
    h('tbody', {}, o.by_category.map((row) => h('tr', {}, h('th', { scope: 'row' }, objective(row.category)), h('td', { class: 'n' }, String(row.set)), h('td', { class: 'n' }, String(row.met))))),
    h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, `Total (${o.base} children, new format)`), h('td', { class: 'n' }, String(o.total_set)), h('td', { class: 'n' }, String(o.total_met)))));
  const table6 = h('table', { id: 'table6' },
    h('thead', {}, h('tr', {}, h('th', {}, `Outcome (of ${r.outcomes.base} cases)`), h('th', { class: 'n' }, 'Cases'), h('th', {}, 'Chart'))),
    h('tbody', {}, r.outcomes.rows.map((row) => h('tr', {}, h('th', { scope: 'row' }, outcome(row.outcome)),
      h('td', { class: 'n' }, `${row.count} (${pct(row.percent)})`), h('td', {}, bars([{ name: 'Cases', short: '', percent: row.percent, color: '#0b6e4f' }]))))));
  const c = r.connections; const pr = r.process;
  const range = (x, d = 0) => (x.min === null || x.min === undefined ? '–' : `${num(x.min, d)} to ${num(x.max, d)}`);
  const connections = h('table', { id: 'connections' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Measure'), h('th', { class: 'n' }, 'Base'), h('th', { class: 'n' }, 'Figure'), h('th', { class: 'n' }, 'Range'))),
    h('tbody', {},
      h('tr', {}, h('th', { scope: 'row' }, 'Connections found'), h('td', { class: 'n' }, String(c.base)),
        h('td', { class: 'n' }, `${c.identified.total} (mean ${num(c.identified.mean, 1)})`), h('td', { class: 'n' }, range(c.identified))),
      h('tr', {}, h('th', { scope: 'row' }, 'Connections kept, of those found'), h('td', { class: 'n' }, String(c.retained.base)),
        h('td', { class: 'n' }, `${c.retained.total} of ${c.retained.identified_total} (${pct(c.retained.percent)})`), h('td', { class: 'n' }, '')),
      h('tr', {}, h('th', { scope: 'row' }, 'People at the family group conference'), h('td', { class: 'n' }, String(pr.fgc_attendance.base)),
        h('td', { class: 'n' }, `mean ${num(pr.fgc_attendance.mean, 1)} (SD ${num(pr.fgc_attendance.sd, 1)})`), h('td', { class: 'n' }, range(pr.fgc_attendance))),
      h('tr', {}, h('th', { scope: 'row' }, 'Months to completion'), h('td', { class: 'n' }, String(pr.months_to_completion.base)),
        h('td', { class: 'n' }, `mean ${num(pr.months_to_completion.mean, 1)}`), h('td', { class: 'n' }, range(pr.months_to_completion, 1)))));
  return [section('practice', `Practice summaries: ${r.cases} cases`,
    grouped ? h('p', { class: 'hint' }, 'Both groups: practice summaries are not filtered by group.') : null,
    h('h3', {}, 'Table 2: tools used'), h('div', { class: 'scroll' }, table2),
    h('h3', {}, 'Table 5: objectives'), h('p', { class: 'hint' }, `On average ${pct(o.mean_share_met)} of a child's objectives were met; all were met for ${o.all_met.count} (${pct(o.all_met.percent)}).`),
    h('div', { class: 'scroll' }, table5),
    h('h3', {}, 'Table 6: outcomes'), h('div', { class: 'scroll' }, table6),
    h('h3', {}, 'Connections, conferences and time'), h('div', { class: 'scroll' }, connections))];
}

/** downloads fetches an export with the sign-in token and saves it. */
function downloads(q) {
  const files = ['data-return.zip', 'sct_wide.csv', 'sct_long.csv', 'practice_summary_wide.csv', 'participation.csv', 'codebook.md'];
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const save = async (file) => {
    status.textContent = `Preparing ${file}…`;
    try {
      const fetchFile = () => fetch(`/api/v1/exports/${file}?${q}`, { headers: { Authorization: `Bearer ${session.current().access}` } });
      let res = await fetchFile();
      // An access token lasts 15 minutes. A request through the API module
      // signs in again with the refresh token; then the download is retried.
      if (res.status === 401) {
        await get('/api/v1/auth/me');
        res = await fetchFile();
      }
      if (!res.ok) {
        let msg = `The server answered ${res.status}.`;
        try { msg = (await res.json()).error || msg; } catch { /* not JSON */ }
        throw new Error(msg);
      }
      const url = URL.createObjectURL(await res.blob());
      const a = h('a', { href: url, download: file });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      status.textContent = `${file} downloaded.`;
    } catch (e) {
      status.textContent = `Could not download ${file}: ${e.message}`;
    }
  };
  return section('downloads', 'Downloads (pseudonymised: no names, no free text)',
    h('p', { class: 'hint' }, 'Downloads follow the site and date filters only, not the group or the SCT version.'),
    h('div', { class: 'row' }, files.map((f) => h('button', { type: 'button', class: 'secondary', onclick: () => save(f) }, f))), status);
}

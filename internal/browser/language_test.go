package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/static"
)

// words are the wordings the SCT shows in one language: the form's (by
// the keys of its translation file) and the page's own.
type words struct {
	code, dir, name string
	form            map[string]string
	page            map[string]any
}

func wordsIn(t *testing.T, code string) words {
	t.Helper()
	var f struct {
		Dir      string            `json:"dir"`
		Wordings map[string]string `json:"wordings"`
	}
	var p struct {
		Name  string         `json:"name"`
		Dir   string         `json:"dir"`
		Words map[string]any `json:"words"`
	}
	for _, x := range []struct {
		fsys fs.FS
		file string
		into any
	}{{forms.FS(), "sct/1." + code + ".json", &f}, {static.FS(), "i18n/" + code + ".json", &p}} {
		b, err := fs.ReadFile(x.fsys, x.file)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, x.into); err != nil {
			t.Fatalf("%s: %v", x.file, err)
		}
	}
	if f.Dir != p.Dir {
		t.Fatalf("%s: the form's direction is %s, the page's %s", code, f.Dir, p.Dir)
	}
	return words{code: code, dir: f.Dir, name: p.Name, form: f.Wordings, page: p.Words}
}

// say is a page word with its {name}s filled in.
func (w words) say(key string, vars ...string) string {
	s, _ := w.page[key].(string)
	for i := 0; i+1 < len(vars); i += 2 {
		s = strings.ReplaceAll(s, "{"+vars[i]+"}", vars[i+1])
	}
	return s
}

// completeSCTIn has a young person pick a language on the SCT's first
// step and answer the whole SCT in it, checking each step (screenshot, no
// sideways scrolling, every control named), the page's direction and
// language, and that the server holds the same codes as in English.
// each, if not nil, checks more of every step.
func completeSCTIn(t *testing.T, code, child string, each func(w *wizard, step string)) (*wizard, *server, link) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	t.Cleanup(cancel)
	in := wordsIn(t, code)
	s := startServer(t)
	w, l := startYoungPerson(ctx, t, s, child)
	check := func(step string) {
		t.Helper()
		w.check(step)
		if each != nil {
			each(w, step)
		}
	}

	// The choice, each language named in itself.
	w.tap(fmt.Sprintf(`input[name="language"][value=%q]`, code))
	w.heading(in.say("intro.heading"))
	w.waitFor("the document in "+code, fmt.Sprintf(`document.documentElement.lang === %q && document.documentElement.dir === %q`, code, in.dir))
	// The page asks the device for its voices (a moment at most) and says
	// when it has none for the language.
	w.waitFor("the voice check", fmt.Sprintf(`speechSynthesis.getVoices().some((v) => v.lang.toLowerCase().startsWith(%q)) || !!document.querySelector('#voice-note .no-voice')`, code))
	check("intro-" + code)
	if got := eval[string](w.phone, `document.getElementById('draft-note')?.textContent || ''`); got != in.say("draft.note") {
		t.Errorf("draft note %q, want %q: the translation is a draft", got, in.say("draft.note"))
	}
	// Read aloud uses a voice of the language, or says there is none.
	hasVoice := eval[bool](w.phone, fmt.Sprintf(`speechSynthesis.getVoices().some((v) => v.lang.toLowerCase().startsWith(%q))`, code))
	note := eval[string](w.phone, `document.querySelector('#voice-note .no-voice')?.textContent || ''`)
	if !hasVoice && note != in.say("say.noVoice", "language", in.name) {
		t.Errorf("the device has no %s voice and the page does not say so (note %q)", code, note)
	}
	if hasVoice && note != "" {
		t.Errorf("the device has a %s voice, yet the page says %q", code, note)
	}
	if got := eval[string](w.phone, `localStorage.getItem('sct.lang')`); got != code {
		t.Errorf("the language kept on the phone is %q, want %q", got, code)
	}
	// Kept for use with no signal.
	if !eval[bool](w.phone, fmt.Sprintf(`navigator.serviceWorker.ready.then(() => caches.match('/i18n/%s.json')).then((r) => !!r)`, code)) {
		t.Errorf("the page's words in %s are not kept for use offline", code)
	}
	// Remembered: a reload (a closed tab, a restart) carries on in it.
	w.do("reload", chromedp.Reload())
	w.heading(in.say("intro.heading"))
	w.waitFor("the document still in "+code, fmt.Sprintf(`document.documentElement.dir === %q`, in.dir))

	w.next(in.form["answers.nominees:prompt"])
	w.addPeople(sctPeople)
	check("people-" + code)
	w.next(in.form["answers.key_people:prompt"])
	w.pickImportant(sctImportant)
	check("important-" + code)
	w.next(in.say("support.heading", "reason", in.form["code_lists.reason.support:child"]))
	w.clickButton(in.say("support.new"))
	w.typeIn("#support-name", sctSupporter.name)
	w.tap(fmt.Sprintf(`input[name="support-relationship"][value=%q]`, sctSupporter.relationship)) // adds them
	w.waitFor("the supporter added", fmt.Sprintf(`[...document.querySelectorAll('ul.people .who')].some((e) => e.textContent === %q)`, sctSupporter.name))
	check("support-" + code)
	who := []string{sctPeople[sctImportant[0]].name, sctPeople[sctImportant[1]].name, sctSupporter.name}
	for i, rs := range sctRatings {
		w.next(in.say("rate.heading", "name", who[i]))
		w.rate(i, rs)
		check(fmt.Sprintf("rate-%d-%s", i, code))
	}
	w.next(in.form["answers.adequacy:prompt"])
	w.adequacy(sctAdequacy)
	check("adequacy-" + code)
	w.next(in.say("finish.heading"))
	check("finish-" + code)
	w.click("#send")
	w.heading(in.say("thanks.heading"))
	w.waitFor("the page to say the answers were sent", fmt.Sprintf(`document.querySelector('main').innerText.includes(%q)`, in.say("thanks.sent")))
	check("sent-" + code)
	mapIn(t, w, in)

	if err := eventually(ctx, 15*time.Second, func() error {
		r := s.response(t, l.ResponseID)
		if r.Status != "submitted" || r.Language != code {
			return fmt.Errorf("on the server: %s in %q, want submitted in %s", r.Status, r.Language, code)
		}
		// Codes never change with the language.
		if want := wantSCT(); !reflect.DeepEqual(r.Answers, want) {
			got, _ := json.Marshal(r.Answers)
			wanted, _ := json.Marshal(want)
			return fmt.Errorf("answers on the server:\n  %s\nwant\n  %s", got, wanted)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return w, s, l
}

// mapIn checks the map the young person sees at the end of the SCT: their
// people in it, in the language they answered in (every word of the
// picture one of its map words, the list's names each in a bdi), its
// words inside the picture, and the page as check has it.
func mapIn(t *testing.T, w *wizard, in words) {
	t.Helper()
	w.waitFor("the map at the end", `document.querySelector('.map-end svg.map g.person') !== null`)
	w.check("map-" + in.code)
	mapPansSideways(t, w.phone, ".map-end", in.say("map.panHint"))
	// Nan, Mum, Jo and Mr K, the supporter not on the list.
	if problems := mapProblems(w.phone, ".map-end svg.map", 4); len(problems) > 0 {
		t.Errorf("the map at the end in %s: %s", in.code, strings.Join(problems, "; "))
	}
	if got := eval[string](w.phone, `document.querySelector('.map-end h2')?.textContent || ''`); got != in.say("map.yours") {
		t.Errorf("the map's heading is %q, want %q", got, in.say("map.yours"))
	}
	if got := eval[string](w.phone, `document.querySelector('.map-end summary')?.textContent || ''`); got != in.say("map.asList") {
		t.Errorf("the list's summary is %q, want %q", got, in.say("map.asList"))
	}
	if got := eval[string](w.phone, `document.querySelector('.map-end svg.map').getAttribute('direction')`); got != in.dir {
		t.Errorf("the map's words read %s, want %s", got, in.dir)
	}
	// Every word drawn is a map word of the language, but for the people's
	// names and the caption (the first text, when the SCT was done).
	mapWords := map[string]bool{}
	for k, v := range in.page {
		if s, ok := v.(string); ok && strings.HasPrefix(k, "map.") {
			mapWords[s] = true
		}
	}
	names := map[string]bool{sctSupporter.name: true}
	for _, p := range sctPeople {
		names[p.name] = true
	}
	// A long label is cut short with an ellipsis, as on the server's map.
	cut := func(s string) bool {
		short, ok := strings.CutSuffix(s, "…")
		for word := range mapWords {
			if ok && strings.HasPrefix(word, short) {
				return true
			}
		}
		return false
	}
	drawn := eval[[]string](w.phone, `[...document.querySelectorAll('.map-end svg.map text')].slice(1).map((t) => t.textContent)`)
	for _, s := range drawn {
		if !mapWords[s] && !names[s] && !cut(s) {
			t.Errorf("the map draws %q, not a map word in %s", s, in.code)
		}
	}
	// The young person's own map speaks to them ("your people").
	for _, k := range []string{"map.me", "map.legend", "map.rel.grandparent", "map.rel.schoolStaff", "map.group.family", "map.yourInner"} {
		if !slices.Contains(drawn, in.say(k)) {
			t.Errorf("the map does not draw %s, %q: it draws %q", k, in.say(k), drawn)
		}
	}
	if got, want := eval[string](w.phone, `document.querySelector('.map-end .map-list h3')?.textContent || ''`), in.say("map.yourInner"); got != want {
		t.Errorf("the list's first circle is %q, want %q", got, want)
	}
	if got := eval[[]string](w.phone, `[...document.querySelectorAll('.map-end .map-list li > bdi:first-child')].map((b) => b.textContent)`); len(got) != 4 {
		t.Errorf("names in a bdi in the list: %q, want the 4 people's", got)
	}
	if caption := eval[string](w.phone, `document.querySelector('.map-end svg.map text').textContent`); !strings.HasPrefix(caption, in.say("map.baseline")) {
		t.Errorf("the map's caption is %q, want it to start %q", caption, in.say("map.baseline"))
	}
	// Every word inside the picture, none cut off at its edges.
	if out := eval[[]string](w.phone, `(() => { const svg = document.querySelector('.map-end svg.map'); const r = svg.getBoundingClientRect();
		return [...svg.querySelectorAll('text')].filter((t) => { const b = t.getBoundingClientRect(); return b.left < r.left - 0.5 || b.right > r.right + 0.5; })
			.map((t) => t.textContent + ' ' + Math.round(t.getBoundingClientRect().left) + '..' + Math.round(t.getBoundingClientRect().right)); })()`); len(out) > 0 {
		t.Errorf("words outside the map's picture (%s): %q", in.code, out)
	}
}

// TestBrowser_SCTInArabic completes the SCT right to left: the document
// says so, and the page mirrors: Back on the right and Next on the left,
// each question's Read aloud at its left, the arrows turned, names and
// numbers isolated.
func TestBrowser_SCTInArabic(t *testing.T) {
	checked := map[string]bool{}
	completeSCTIn(t, "ar", "AR1", func(w *wizard, step string) {
		t.Helper()
		if got := eval[string](w.phone, `document.documentElement.dir + ' ' + document.documentElement.lang`); got != "rtl ar" {
			t.Errorf("%s: document %q, want rtl ar", step, got)
		}
		if !eval[bool](w.phone, `[...document.querySelectorAll('.q-said')].every((q) => { const b = q.querySelector('.say.small'); return !b || b.getBoundingClientRect().left - q.getBoundingClientRect().left < 8; })`) {
			t.Errorf("%s: a Read aloud button is not at its question's left", step)
		}
		if eval[int](w.phone, `document.querySelectorAll('.q-said .say.small').length`) > 0 {
			checked["read aloud"] = true
		}
		back := eval[string](w.phone, `(() => { const b = [...document.querySelectorAll('.sticky-nav button')]; if (b.length < 2) return ''; return b[0].getBoundingClientRect().left > b[1].getBoundingClientRect().left ? 'mirrored' : 'not mirrored'; })()`)
		if back == "not mirrored" {
			t.Errorf("%s: Back is left of Next; right to left it goes on the right", step)
		} else if back == "mirrored" {
			checked["back and next"] = true
		}
		if !eval[bool](w.phone, `[...document.querySelectorAll('.arrow')].every((a) => getComputedStyle(a).transform.startsWith('matrix(-1'))`) {
			t.Errorf("%s: an arrow points the English way", step)
		}
		if !eval[bool](w.phone, `[...document.querySelectorAll('.who')].every((e) => e.tagName === 'BDI')`) {
			t.Errorf("%s: a name is not isolated in a bdi", step)
		}
		if !eval[bool](w.phone, `[...document.querySelectorAll('#where bdi')].length > 0 || !document.getElementById('where')`) {
			t.Errorf("%s: the progress line's numbers are not isolated", step)
		}
	})
	for _, what := range []string{"read aloud", "back and next"} {
		if !checked[what] {
			t.Errorf("no step showed %s to check", what)
		}
	}
}

// TestBrowser_SCTInWelsh completes the SCT in Welsh, left to right.
func TestBrowser_SCTInWelsh(t *testing.T) {
	completeSCTIn(t, "cy", "CY1", func(w *wizard, step string) {
		t.Helper()
		if got := eval[string](w.phone, `document.documentElement.dir + ' ' + document.documentElement.lang`); got != "ltr cy" {
			t.Errorf("%s: document %q, want ltr cy", step, got)
		}
	})
}

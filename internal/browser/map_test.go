package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/lifelong-links/sct/internal/netmap"
)

// mapProblems says what is wrong with the map on the page as a person sees
// it: labels of different people that overlap, text beyond the screen's
// edges, names drawn smaller than 12 CSS pixels, or people missing.
func mapProblems(p *phone, sel string, wantPeople int) []string {
	p.t.Helper()
	return eval[[]string](p, fmt.Sprintf(`(() => {
		const svg = document.querySelector(%q);
		if (!svg) return ['no map on the page'];
		const out = [];
		const groups = [...svg.querySelectorAll('g.person')];
		if (groups.length !== %d) out.push(groups.length + ' people drawn, want %d');
		const texts = [];
		groups.forEach((g, i) => g.querySelectorAll('text').forEach((t) => texts.push([i, t.textContent, t.getBoundingClientRect()])));
		for (const [i, s, a] of texts) {
			if (a.left < -0.5 || a.right > innerWidth + 0.5) out.push(s + ' runs off the screen (' + Math.round(a.left) + '..' + Math.round(a.right) + ')');
			for (const [j, u, b] of texts) {
				if (i < j && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) out.push(s + ' overlaps ' + u);
			}
		}
		const px = 22 * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
		if (px < 12) out.push('names are drawn at ' + px.toFixed(1) + 'px');
		if (!svg.querySelector('title')?.textContent || !svg.querySelector('desc')?.textContent) out.push('no title or desc');
		return out;
	})()`, sel, wantPeople, wantPeople))
}

// mapPansSideways checks the map under sel (a figure's container) at 320px
// with text at 200%, where it is wider than the screen: a line above it, in
// the page's language (want), says it pans sideways and describes its box,
// and the box shows the picture's middle, the young person, whichever way
// the page reads. At the phone's own size the line is gone.
func mapPansSideways(t *testing.T, p *phone, sel, want string) {
	t.Helper()
	p.setLarge(true)
	p.waitFor("the line saying the map pans", `!document.querySelector('`+sel+` .map-pan').hidden`)
	if got := eval[string](p, `document.querySelector('`+sel+` .map-pan').textContent`); got != want {
		t.Errorf("the line above the map says %q, want %q", got, want)
	}
	problem := func() string {
		return eval[string](p, `(() => {
			const box = document.querySelector('`+sel+` .map-picture');
			const b = box.getBoundingClientRect();
			const me = document.querySelector('`+sel+` svg.map circle[fill="#1d4f7a"]').getBoundingClientRect();
			if (box.scrollWidth <= box.clientWidth) return 'the map fits: nothing to pan';
			if (box.getAttribute('aria-describedby') !== document.querySelector('`+sel+` .map-pan').id) return 'the map is not described by the line';
			const off = me.left + me.width / 2 - (b.left + b.width / 2);
			if (Math.abs(off) > b.width / 10) return 'the young person is ' + off.toFixed(0) + 'px from the middle of the map\'s box';
			return '';
		})()`)
	}
	// The page lays itself out again after the text grows (the browser may
	// move the box back to its start meanwhile, and the page moves it back
	// to the middle): what counts is where it settles.
	got := problem()
	for i := 0; got != "" && i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		got = problem()
	}
	if got != "" {
		t.Errorf("at 320px with text at 200%%: %s", got)
	}
	p.setLarge(false)
	p.waitFor("the line to go at the phone's size", `document.querySelector('`+sel+` .map-pan').hidden`)
}

// TestBrowser_YoungPersonSeesTheirMapAtTheEnd completes an SCT on a phone
// and finds the young person's map under the thanks, drawn on the phone:
// with no signal too.
func TestBrowser_YoungPersonSeesTheirMapAtTheEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	w, l := startYoungPerson(ctx, t, s, "MAPYP")
	w.throughPeople()
	w.waitFor("the pages to be kept on the phone", `navigator.serviceWorker.controller !== null`)
	// The people reach the server as a draft before the signal goes, as in
	// TestBrowser_OfflineMidwayLosesNothing.
	if err := eventually(ctx, 15*time.Second, func() error {
		if list := s.childResponses(t, "MAPYP"); len(list) != 1 || list[0].Status != "draft" {
			return fmt.Errorf("responses %+v, want one draft", list)
		}
		if n := len(s.response(t, l.ResponseID).Answers.Nominees); n != len(sctPeople) {
			return fmt.Errorf("the draft has %d people, want %d", n, len(sctPeople))
		}
		return nil
	}); err != nil {
		t.Fatalf("before going offline: %v", err)
	}
	w.setOffline(true)
	w.throughRatings("-map")
	w.click("#send")
	w.heading("Thank you!")
	w.waitFor("the map", `document.querySelector('.map-end svg.map g.person') !== null`)
	w.check("map-at-the-end-offline")
	mapPansSideways(t, w.phone, ".map-end", "The map is wider than the screen: swipe sideways to see all of it.")
	// Nan, Mum, Jo and Mr K, the supporter not on the list.
	if problems := mapProblems(w.phone, ".map-end svg.map", 4); len(problems) > 0 {
		t.Errorf("the map at the end: %s", strings.Join(problems, "; "))
	}
	w.do("a 360px phone", viewport(commonWidth, phoneHeight))
	if problems := mapProblems(w.phone, ".map-end svg.map", 4); len(problems) > 0 {
		w.shot("map-at-360px")
		t.Errorf("the map at the end on a 360px phone: %s", strings.Join(problems, "; "))
	}
	w.do("back to the phone", viewport(phoneWidth, phoneHeight))
	list := eval[string](w.phone, `document.querySelector('.map-end .map-list').innerText`)
	// The young person's own map speaks to them.
	for _, want := range []string{"Inner circle: the people who matter most to you", "Nan: Grandparent (Family)", "Mum: Birth mother (Family)",
		"Middle circle: others you would go to for help", "Mr K: School staff (School)", "Outer circle: everyone else you named", "Jo: Friend (Friends)"} {
		if !strings.Contains(list, want) {
			t.Errorf("the list beside the map lacks %q:\n%s", want, list)
		}
	}
	if title := eval[string](w.phone, `document.querySelector('.map-end svg.map title').textContent`); !strings.HasPrefix(title, "Map of your people") {
		t.Errorf("the young person's map is called %q; want it to speak to them, as Map of your people", title)
	}
	w.setOffline(false)
}

// fullAnswers are 20 important people with long names, 3 most important,
// one supporter from the list and one not on it.
func fullAnswers() answers {
	names := []string{"Nan", "Mum", "Dad", "Sam", "Auntie Maria", "Pat", "Lee", "Kim", "Ali", "Mrs Bhattacharya",
		"Rae", "Tom", "Grandad William", "Wendy-Mae", "Jo", "Uncle Mohammed", "Zoë", "Mr McAllister", "Priya", "Old Nan"}
	rels := []string{"grandparent", "biological_mother", "biological_father", "sibling", "other_relative", "foster_carer_current",
		"foster_family_member", "friend", "friend", "school_staff", "social_care_professional", "lifelong_links_worker",
		"grandparent", "former_foster_carer", "friend", "other_relative", "step_parent", "former_professional", "other", "grandparent"}
	var a answers
	for i, n := range names {
		a.Nominees = append(a.Nominees, nominee{Name: n, Relationship: rels[i]})
	}
	a.Nominees[18].OtherText = "my neighbour from before"
	a.KeyPeople = []keyPerson{{Nominee: intp(0), Reason: "important", Support: map[string]int{"emotional": 4}},
		{Nominee: intp(1), Reason: "important"}, {Nominee: intp(5), Reason: "important"},
		{Nominee: intp(9), Reason: "support"}, {Name: "Coach Dee", Relationship: "other", Reason: "support"}}
	a.Adequacy = map[string]int{"emotional": 2, "practical": 1}
	return a
}

func (s *server) putSCT(t *testing.T, child, timepoint string, wave int, date string, a answers) string {
	t.Helper()
	id := uuid.NewString()
	body, _ := json.Marshal(map[string]any{"form": "sct", "version": "1", "child_id": child, "timepoint": timepoint, "wave": wave,
		"completed_on": date, "mode": "paper", "status": "submitted", "answers": a})
	s.mustDo(t, "PUT", "/api/v1/responses/"+id, string(body), "coord", 201)
	return id
}

// TestBrowser_StaffSeeEachMapAndThenAndNow opens a child's page as their
// coordinator: the map of the baseline (20 people and a supporter not among them)
// and then and now once a follow-up is in.
func TestBrowser_StaffSeeEachMapAndThenAndNow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	s.createChild(t, "MAPST", "lifelong_links")
	base := fullAnswers()
	baseID := s.putSCT(t, "MAPST", "baseline", 1, "2019-06-14", base)
	fu := answers{Nominees: []nominee{{Name: " nan ", Relationship: "grandparent"}, {Name: "Pat", Relationship: "foster_carer_current"},
		{Name: "Bea", Relationship: "friend"}, {Name: "Mrs Bhattacharya", Relationship: "school_staff"}},
		KeyPeople: []keyPerson{{Nominee: intp(1), Reason: "important", Support: map[string]int{"emotional": 4, "practical": 3}}},
		Adequacy:  map[string]int{"emotional": 3, "practical": 1}}

	p := newPhone(ctx, t)
	p.signIn(s.base, coordEmail)
	p.open(s.base + "/#/child/MAPST")
	p.heading("Child MAPST")
	if eval[bool](p, `document.getElementById('then-and-now') !== null`) {
		t.Error("then and now is offered before there is a follow-up")
	}
	p.click(fmt.Sprintf(`a[href^="#/map/%s"]`, baseID))
	p.heading("Map of their people: child MAPST")
	p.waitFor("the map", `document.querySelector('svg.map g.person') !== null`)
	p.check("staff-map-21-people")
	if problems := mapProblems(p, "svg.map", 21); len(problems) > 0 {
		t.Errorf("the baseline's map: %s", strings.Join(problems, "; "))
	}
	t.Run("the map prints on one A4 page", func(t *testing.T) {
		// An A4 page's width inside 12 mm margins, at 96 px to the inch.
		p.do("print on A4", viewport(703, phoneHeight), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
			return err
		}))
		bottom := eval[float64](p, `(document.querySelector('svg.map').getBoundingClientRect().bottom + scrollY) * 25.4 / 96`)
		bar := eval[string](p, `getComputedStyle(document.querySelector('.bar')).display + ' ' + getComputedStyle(document.querySelector('.actions')).display`)
		p.shot("printed")
		p.do("back to the screen", viewport(phoneWidth, phoneHeight), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""})
			return err
		}))
		if bottom > 297-24 {
			t.Errorf("printed, the map ends %.0f mm down the page; an A4 page holds %d mm inside its margins", bottom, 297-24)
		}
		if bar != "none none" {
			t.Errorf("printed, the menu bar and buttons show (display %s)", bar)
		}
	})

	t.Run("the page draws the map as the server does", func(t *testing.T) {
		b, _ := json.Marshal(base)
		var stored map[string]any
		if err := json.Unmarshal(b, &stored); err != nil {
			t.Fatal(err)
		}
		for _, names := range []bool{true, false} {
			a, err := netmap.Decode(stored)
			if err != nil {
				t.Fatal(err)
			}
			want := netmap.Layout(a, names, netmap.English())
			var got netmap.Map
			js := fmt.Sprintf(`import('/js/map.js').then((m) => JSON.stringify(m.layout(%s, %v)))`, b, names)
			if err := json.Unmarshal([]byte(eval[string](p, js)), &got); err != nil {
				t.Fatal(err)
			}
			if got.Height != want.Height || got.CentreY != want.CentreY || len(got.People) != len(want.People) {
				t.Fatalf("names=%v: the page's map is %v tall with %d people, the server's %v with %d", names, got.Height, len(got.People), want.Height, len(want.People))
			}
			for i, g := range got.People {
				w := want.People[i]
				if g.Name != w.Name || g.Shown != w.Shown || g.Label != w.Label || g.ShownLabel != w.ShownLabel || g.Group != w.Group ||
					g.Ring != w.Ring || g.Slot != w.Slot || g.Nominee != w.Nominee ||
					math.Abs(g.X-w.X) > 0.11 || math.Abs(g.Y-w.Y) > 0.11 || math.Abs(g.LabelX-w.LabelX) > 0.11 {
					t.Errorf("names=%v, person %d: the page has %+v, the server %+v", names, i, g, w)
				}
			}
		}
		// Every relationship code has the same group and label on both.
		var groups map[string][]string
		if err := json.Unmarshal([]byte(eval[string](p, `import('/js/map.js').then((m) => JSON.stringify(m.RELATIONSHIPS))`)), &groups); err != nil {
			t.Fatal(err)
		}
		rels := netmap.Relationships()
		if len(groups) != len(rels) {
			t.Errorf("the page knows %d relationship codes, the server %d", len(groups), len(rels))
		}
		for code, r := range rels {
			if g := groups[code]; len(g) != 2 || g[0] != string(r.Group) || g[1] != r.Short {
				t.Errorf("relationship %s: the page has %v, the server %v", code, g, r)
			}
		}
		var words map[string]string
		if err := json.Unmarshal([]byte(eval[string](p, `import('/js/mapwords.js').then((m) => JSON.stringify(m.WORDS))`)), &words); err != nil {
			t.Fatal(err)
		}
		for k, v := range netmap.English() {
			if words[k] != v {
				t.Errorf("wording %s: the page has %q, the server %q", k, words[k], v)
			}
		}
	})

	s.putSCT(t, "MAPST", "follow_up", 1, "2020-01-10", fu)
	p.open(s.base + "/#/children") // the list, read again, now holds the follow-up
	p.heading("Children in site A")
	p.open(s.base + "/#/child/MAPST")
	p.heading("Child MAPST")
	p.click("#then-and-now")
	p.heading("Then and now: child MAPST")
	p.waitFor("both maps", `document.querySelectorAll('.then-now svg.map').length === 2`)
	p.check("then-and-now")
	table := eval[string](p, `[...document.querySelectorAll("table.change")].map((t) => t.innerText).join("\\n")`)
	for _, want := range []string{"People named as important\t20\t4\t-16", "Named at both\t3: nan, Pat, Mrs Bhattacharya", "Named now, not then\t1", "Named then, not now\t18", "Too few people\tEnough people (better)"} {
		if !strings.Contains(table, want) {
			t.Errorf("what changed lacks %q:\n%s", want, table)
		}
	}
	// At 320px with text at 200% the columns do not fit: each row stands as
	// a block, every figure on screen and named by its column.
	p.setLarge(true)
	p.shot("then-and-now-320px-200pc-table")
	off := eval[string](p, `[...document.querySelectorAll('table.change td, table.change tbody th')].filter((e) => {
		const r = e.getBoundingClientRect(), box = e.closest('.scroll').getBoundingClientRect();
		return r.width > 0 && (r.left < box.left - 0.5 || r.right > box.right + 0.5);
	}).map((e) => e.textContent).join(' | ')`)
	if off != "" {
		t.Errorf("at 320px with text at 200%%, these figures are outside the table's box (scrolled off): %s", off)
	}
	named := eval[string](p, `[...document.querySelectorAll('#change-counts tbody tr')].slice(0, 1).map((tr) => [...tr.querySelectorAll('td')].map((td) => getComputedStyle(td, '::before').content + td.textContent).join(' ')).join('')`)
	if !strings.Contains(named, `"Then: "20`) || !strings.Contains(named, `"Now: "4`) || !strings.Contains(named, `"Change: "-16`) {
		t.Errorf("at 320px with text at 200%%, the first row's figures are not each named by their column: %s", named)
	}
	p.setLarge(false)
	if note := eval[string](p, `document.getElementById('matching').textContent`); !strings.Contains(note, "by name only") {
		t.Errorf("the page does not say how people are matched: %q", note)
	}
	if problems := mapProblems(p, ".then-now-side:last-child svg.map", 4); len(problems) > 0 {
		t.Errorf("the follow-up's map: %s", strings.Join(problems, "; "))
	}
}

package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// person is someone the young person adds on the people step.
type person struct{ name, relationship string }

// rating is one tile to pick on a key person's step.
type rating struct {
	item  string // a support item, or "let_down"
	value int
}

// What the young person does in the wizard, and so what the server must
// hold afterwards.
var sctPeople = []person{{"Nan", "grandparent"}, {"Mum", "biological_mother"}, {"Jo", "friend"}}

var sctImportant = []int{0, 1} // Nan and Mum

var sctSupporter = person{"Mr K", "school_staff"}

var sctRatings = [][]rating{
	{{"emotional", 4}, {"practical", 3}, {"trust", 4}, {"let_down", 1}},
	{{"emotional", 3}, {"advice", 2}, {"let_down", 2}},
	{{"advocacy", 4}, {"positive_feedback", 3}, {"let_down", 1}},
}

var sctAdequacy = []rating{{"emotional", 3}, {"practical", 2}, {"trust", 1}}

// wantSCT is the answers above as the contract spells them.
func wantSCT() answers {
	a := answers{Adequacy: map[string]int{}}
	for _, p := range sctPeople {
		a.Nominees = append(a.Nominees, nominee{Name: p.name, Relationship: p.relationship})
	}
	for _, i := range sctImportant {
		a.KeyPeople = append(a.KeyPeople, keyPerson{Nominee: intp(i), Reason: "important"})
	}
	a.KeyPeople = append(a.KeyPeople, keyPerson{Name: sctSupporter.name, Relationship: sctSupporter.relationship, Reason: "support"})
	for i, rs := range sctRatings {
		k := &a.KeyPeople[i]
		for _, r := range rs {
			if r.item == "let_down" {
				k.LetDown = intp(r.value)
				continue
			}
			if k.Support == nil {
				k.Support = map[string]int{}
			}
			k.Support[r.item] = r.value
		}
	}
	for _, r := range sctAdequacy {
		a.Adequacy[r.item] = r.value
	}
	return a
}

// wizard drives the SCT wizard on a phone, checking the layout of each step.
type wizard struct{ *phone }

// next presses "Next" and waits for the step after.
func (w *wizard) next(wantHeading string) {
	w.t.Helper()
	w.click("#next")
	w.heading(wantHeading)
}

func (w *wizard) addPeople(people []person) {
	w.t.Helper()
	for i, p := range people {
		w.typeIn("#person-name", p.name)
		if i == 0 {
			w.check("people-filled-in")
		}
		// With the name typed, picking who they are adds them.
		w.tap(fmt.Sprintf(`input[name="relationship"][value=%q]`, p.relationship))
		w.waitFor(p.name+" on the list", fmt.Sprintf(
			`document.querySelectorAll('ul.people li').length === %d && document.querySelector('#person-name')?.value === ''`, i+1))
	}
}

func (w *wizard) pickImportant(which []int) {
	w.t.Helper()
	for n, i := range which {
		w.tap(fmt.Sprintf(`input[name="important"][value="%d"]`, i))
		w.waitFor("important person ticked", fmt.Sprintf(`document.querySelectorAll('input[name="important"]:checked').length === %d`, n+1))
	}
}

func (w *wizard) addSupporter(p person) {
	w.t.Helper()
	w.clickButton("Someone who is not on your list")
	w.typeIn("#support-name", p.name)
	w.check("supporter-named")
	// With the name typed, picking who they are adds them, as on the
	// people step.
	w.tap(fmt.Sprintf(`input[name="support-relationship"][value=%q]`, p.relationship))
	w.waitFor(p.name+" added as a supporter", fmt.Sprintf(`[...document.querySelectorAll('ul.people .who')].some((e) => e.textContent === %q)`, p.name))
}

func (w *wizard) rate(key int, ratings []rating) {
	w.t.Helper()
	for _, r := range ratings {
		sel := fmt.Sprintf(`input[name="%s-%d"][value="%d"]`, r.item, key, r.value)
		w.tap(sel)
		w.waitFor("rating ticked", fmt.Sprintf(`document.querySelector(%q).checked`, sel))
	}
}

func (w *wizard) adequacy(ratings []rating) {
	w.t.Helper()
	for _, r := range ratings {
		sel := fmt.Sprintf(`input[name="adequacy-%s"][value="%d"]`, r.item, r.value)
		w.tap(sel)
		w.waitFor("adequacy ticked", fmt.Sprintf(`document.querySelector(%q).checked`, sel))
	}
}

// startYoungPerson registers a child, makes its link and opens the link on a
// phone, up to the first step of the wizard.
func startYoungPerson(ctx context.Context, t *testing.T, s *server, child string) (*wizard, link) {
	t.Helper()
	s.createChild(t, child, "lifelong_links")
	l := s.openLink(t, child)
	w := &wizard{phone: newPhone(ctx, t)}
	w.open(l.Link)
	w.heading("The people in your life")
	w.waitFor("the wizard's address", fmt.Sprintf(`location.hash === '#/sct/%s'`, l.ResponseID))
	w.check("intro")
	return w, l
}

// throughPeople goes from the intro to the important-people step.
func (w *wizard) throughPeople() {
	w.t.Helper()
	w.next("Who are the people who are important to you?")
	w.check("people-empty")
	w.addPeople(sctPeople)
	w.check("people-added")
}

// throughRatings picks the key people, rates them and answers the adequacy
// items, ending on the last step.
func (w *wizard) throughRatings(suffix string) {
	w.t.Helper()
	w.next("Now think about the people who matter most")
	w.pickImportant(sctImportant)
	w.check("important" + suffix)
	w.next("Someone else I would go to for help?")
	w.check("support" + suffix)
	w.addSupporter(sctSupporter)
	w.check("support-added" + suffix)
	who := []string{sctPeople[sctImportant[0]].name, sctPeople[sctImportant[1]].name, sctSupporter.name}
	for i, rs := range sctRatings {
		w.next("Think about " + who[i])
		w.rate(i, rs)
		w.check(fmt.Sprintf("rate-%d%s", i, suffix))
	}
	w.next("Do you have enough people in your life for each of these?")
	w.adequacy(sctAdequacy)
	w.check("adequacy" + suffix)
	w.next("Ready to send?")
	w.check("finish" + suffix)
}

// onlySubmitted checks that the server holds exactly one response for the
// child, submitted online, with every answer given.
func onlySubmitted(s *server, t *testing.T, child, id string) error {
	list := s.childResponses(t, child)
	if len(list) != 1 {
		return fmt.Errorf("child %s has %d responses, want exactly 1: %+v", child, len(list), list)
	}
	if list[0].ID != id || list[0].Status != "submitted" {
		return fmt.Errorf("child %s's response %+v; want %s submitted", child, list[0], id)
	}
	r := s.response(t, id)
	if r.Mode != "online" || r.Form != "sct" || r.Timepoint != "baseline" || r.Revision != 1 {
		return fmt.Errorf("response %s: mode %q form %q timepoint %q revision %d; want online sct baseline 1", id, r.Mode, r.Form, r.Timepoint, r.Revision)
	}
	if want := wantSCT(); !reflect.DeepEqual(r.Answers, want) {
		got, _ := json.Marshal(r.Answers)
		wanted, _ := json.Marshal(want)
		return fmt.Errorf("answers on the server:\n  %s\nwant\n  %s", got, wanted)
	}
	return nil
}

func TestBrowser_YoungPersonCompletesSCT(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	w, l := startYoungPerson(ctx, t, s, "YP1")
	w.throughPeople()
	w.throughRatings("")

	w.click("#send")
	w.heading("Thank you!")
	w.waitFor("the page to say the answers were sent", `document.querySelector('main').innerText.includes('Your answers have been sent.')`)
	w.check("sent")

	if err := onlySubmitted(s, t, "YP1", l.ResponseID); err != nil {
		t.Error(err)
	}

	t.Run("the link is spent", func(t *testing.T) {
		status := eval[int](w.phone, `fetch('/api/v1/auth/me', {headers: {Authorization: 'Bearer ' + JSON.parse(localStorage.getItem('sct.young')).access}}).then((r) => r.status)`)
		if status != 401 {
			t.Errorf("the phone's token after sending: /api/v1/auth/me answered %d, want 401", status)
		}
		if st, b := s.do(t, "POST", "/api/v1/auth/session", fmt.Sprintf(`{"code":%q}`, l.Code), ""); st != 401 {
			t.Errorf("redeeming the code again: %d %s; want 401", st, b)
		}
		w.do("reload the page", chromedp.Reload())
		w.heading("This link has ended")
		w.shot("reloaded-after-sending")
		w.open(l.Link)
		w.heading("This link does not work")
		w.shot("link-again")
	})
}

func TestBrowser_OfflineMidwayLosesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	w, l := startYoungPerson(ctx, t, s, "YP2")
	w.throughPeople()
	// The people reach the server as a draft before the signal goes.
	if err := eventually(ctx, 15*time.Second, func() error {
		list := s.childResponses(t, "YP2")
		if len(list) != 1 || list[0].Status != "draft" {
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
	w.waitFor("the page to say it is offline", `document.getElementById('net').textContent.includes('No connection')`)
	w.throughRatings("-offline")
	w.click("#send")
	w.heading("Thank you!")
	w.waitFor("the page to say the answers are kept on the phone",
		`document.querySelector('main').innerText.includes('saved on this phone') && document.getElementById('net').textContent.includes('1 waiting to send')`)
	w.check("kept-offline")
	if list := s.childResponses(t, "YP2"); len(list) != 1 || list[0].Status != "draft" {
		t.Fatalf("while the phone is offline the server holds %+v; want only the draft from before", list)
	}

	w.setOffline(false)
	if err := eventually(ctx, 30*time.Second, func() error { return onlySubmitted(s, t, "YP2", l.ResponseID) }); err != nil {
		w.shot("never-sent")
		t.Fatalf("30s after the signal came back: %v", err)
	}
	w.waitFor("the page to say the answers were sent", `document.querySelector('main').innerText.includes('Your answers have been sent.')`)
	w.waitFor("the offline notice to go", `document.getElementById('net').textContent === ''`)
	w.check("sent-after-reconnecting")
}

// Answers kept on a young person's phone without signal reach the server
// from a tab opened later at the site's address, once the tab that held
// them has been closed: nothing waits on the phone for a page that is gone.
func TestBrowser_StrandedAnswersAreSentFromANewTab(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	w, l := startYoungPerson(ctx, t, s, "YP3")
	w.setOffline(true)
	w.waitFor("the page to say it is offline", `document.getElementById('net').textContent.includes('No connection')`)
	w.throughPeople()
	w.throughRatings("-stranded")
	w.click("#send")
	w.heading("Thank you!")
	w.waitFor("the page to say the answers are kept on the phone", `document.querySelector('main').innerText.includes('saved on this phone')`)
	w.check("stranded-kept")
	if list := s.childResponses(t, "YP3"); len(list) != 0 {
		t.Fatalf("while the phone is offline the server holds %+v; want nothing", list)
	}

	w.do("close the page", chromedp.Navigate("about:blank"))
	w.setOffline(false)
	tab := w.newTab()
	tab.open(s.base + "/")
	if err := eventually(ctx, 30*time.Second, func() error { return onlySubmitted(s, t, "YP3", l.ResponseID) }); err != nil {
		tab.shot("stranded-never-sent")
		t.Fatalf("30s after a new tab opened: %v", err)
	}
	tab.waitForWithin("the new tab to say the answers were sent",
		`document.querySelector('main').innerText.includes('Your answers have been sent.') || document.querySelector('main').innerText.includes('These answers have been sent')`,
		2*stepTimeout)
	tab.check("stranded-sent-from-a-new-tab")
}

// On a slow connection, pressing Send while a draft is still being saved
// sends the answers and says so: it waits for the save under way rather
// than saying they are kept for a connection the phone has.
func TestBrowser_SendDuringASlowSaveSaysItWasSent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	w, l := startYoungPerson(ctx, t, s, "YP4")
	w.throughPeople()
	w.setLatency(1500)
	w.throughRatings("-slow")
	// The step change above started a save; it takes 1.5 s to answer.
	w.do("let the save start", chromedp.Sleep(800*time.Millisecond))
	// Everything the page says from now on.
	eval[bool](w.phone, `(() => { window.said = []; new MutationObserver(() => window.said.push(document.querySelector('main').innerText))
		.observe(document.body, { subtree: true, childList: true, characterData: true }); return true; })()`)
	w.click("#send")
	w.heading("Thank you!")
	w.waitForWithin("the page to say the answers were sent",
		`document.querySelector('main').innerText.includes('Your answers have been sent.')`, 20*time.Second)
	for _, txt := range eval[[]string](w.phone, `window.said`) {
		if strings.Contains(txt, "connection") {
			t.Errorf("the page spoke of waiting for a connection the phone has: %q", txt)
			break
		}
	}
	w.check("sent-on-a-slow-connection")
	if err := onlySubmitted(s, t, "YP4", l.ResponseID); err != nil {
		t.Error(err)
	}
}

// A person half-added is never dropped: with who they are picked, Next adds
// them; with a name alone, Next stays and asks who they are.
func TestBrowser_HalfTypedPersonIsAddedOrAskedAbout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	w, l := startYoungPerson(ctx, t, s, "YP5")
	w.next("Who are the people who are important to you?")
	w.addPeople(sctPeople[:1])

	w.typeIn("#person-name", "Aunt Jo")
	w.click("#next")
	w.waitFor("the page to ask who Aunt Jo is", `document.querySelector('.error[role="alert"]')?.textContent.includes('Aunt Jo')`)
	w.heading("Who are the people who are important to you?")
	w.check("name-alone-asks")

	w.tap(`input[name="relationship"][value="other_relative"]`)
	w.click("#next")
	w.waitFor("the next step", `document.querySelector('h1').textContent !== 'Who are the people who are important to you?'`)
	w.check("added-by-next")
	if err := eventually(ctx, 15*time.Second, func() error {
		if len(s.childResponses(t, "YP5")) == 0 {
			return fmt.Errorf("nothing on the server yet")
		}
		n := s.response(t, l.ResponseID).Answers.Nominees
		if len(n) != 2 || n[1].Name != "Aunt Jo" || n[1].Relationship != "other_relative" {
			return fmt.Errorf("people on the server %+v; want the first and Aunt Jo", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// Someone typed in as a supporter not on the list is never dropped either:
// picking who they are adds them at once; with a name alone, Next stays
// and asks; and going Back from the people step with a name half-typed
// asks too, rather than clear it.
func TestBrowser_HalfTypedSupporterOrBackIsNeverDropped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	w, l := startYoungPerson(ctx, t, s, "YP12")
	w.next("Who are the people who are important to you?")
	w.addPeople(sctPeople[:1])
	w.typeIn("#person-name", "Uncle Bo")
	w.click(".sticky-nav button.secondary") // Back
	w.waitFor("the page to ask who Uncle Bo is", `document.querySelector('#person-error')?.textContent.includes('Uncle Bo')`)
	w.heading("Who are the people who are important to you?")
	if where := eval[string](w.phone, `(() => { const r = document.getElementById('person-error').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight ? '' : Math.round(r.top) + '..' + Math.round(r.bottom); })()`); where != "" {
		t.Errorf("the question about Uncle Bo is off screen (%spx on a %dpx screen)", where, phoneHeight)
	}
	if said := eval[string](w.phone, `document.getElementById('person-added').textContent`); said != "" {
		t.Errorf("while asking about Uncle Bo the page still says %q", said)
	}
	if v := eval[string](w.phone, `document.getElementById('person-name').value`); v != "Uncle Bo" {
		t.Errorf("after Back, the name box holds %q; want Uncle Bo still", v)
	}
	if inv := eval[string](w.phone, `document.getElementById('person-name').getAttribute('aria-invalid') || ''`); inv != "true" {
		t.Errorf("the name box asked about is not marked invalid for a screen reader (aria-invalid %q)", inv)
	}
	w.check("back-with-a-name-asks")
	w.tap(`input[name="relationship"][value="other_relative"]`)
	w.waitFor("Uncle Bo on the list", `document.querySelectorAll('ul.people li').length === 2`)
	w.waitFor("the page to say Uncle Bo was added, by the name box", `document.getElementById('person-added').textContent.includes('Uncle Bo')`)
	// The name box, its heading and the words saying who was added are on
	// screen, below the bar stuck to the top.
	hidden := eval[string](w.phone, `(() => {
		const bar = document.querySelector('.sticky-top').getBoundingClientRect().bottom;
		return ['person-heading', 'person-added', 'person-name'].filter((id) => {
			const r = document.getElementById(id).getBoundingClientRect();
			return r.top < bar - 0.5 || r.bottom > innerHeight;
		}).join(' ');
	})()`)
	if hidden != "" {
		t.Errorf("after adding a person, these are under the bar or off screen: %s", hidden)
	}
	w.check("added-by-picking")

	w.next("Now think about the people who matter most, and who you would go to for help.")
	w.pickImportant([]int{0})
	w.next("Someone else I would go to for help?")
	w.clickButton("Someone who is not on your list")
	w.typeIn("#support-name", "Coach Dee")
	w.tap(`input[name="support-relationship"][value="other"]`)
	w.waitFor("Coach Dee added at once", `[...document.querySelectorAll('ul.people .who')].some((e) => e.textContent === 'Coach Dee')`)
	w.clickButton("Someone who is not on your list")
	w.typeIn("#support-name", "Aunty Mo")
	w.click("#next")
	w.waitFor("the page to ask who Aunty Mo is", `document.querySelector('#support-error')?.textContent.includes('Aunty Mo')`)
	w.heading("Someone else I would go to for help?")
	w.check("supporter-name-alone-asks")
	w.tap(`input[name="support-relationship"][value="other_relative"]`)
	w.waitFor("Aunty Mo added", `[...document.querySelectorAll('ul.people .who')].some((e) => e.textContent === 'Aunty Mo')`)
	w.next("Think about Nan")
	if err := eventually(ctx, 15*time.Second, func() error {
		if len(s.childResponses(t, "YP12")) == 0 {
			return fmt.Errorf("nothing on the server yet")
		}
		a := s.response(t, l.ResponseID).Answers
		var names []string
		for _, k := range a.KeyPeople {
			if k.Name != "" {
				names = append(names, k.Name)
			}
		}
		if len(a.Nominees) != 2 || a.Nominees[1].Name != "Uncle Bo" || len(names) != 2 || names[0] != "Coach Dee" || names[1] != "Aunty Mo" {
			return fmt.Errorf("people on the server %+v, supporters not on the list %v; want Nan and Uncle Bo, and Coach Dee and Aunty Mo", a.Nominees, names)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// With the keyboard, the arrow keys move through who someone is without
// adding them (each arrow picks a tile on its way); Add adds them as picked.
func TestBrowser_ArrowKeysDoNotAddAPerson(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	w, _ := startYoungPerson(ctx, t, s, "YP14")
	w.next("Who are the people who are important to you?")
	w.typeIn("#person-name", "Nan")
	w.focus(`input[name="relationship"]`)
	w.keys("arrow right", kb.ArrowRight)
	w.waitFor("the second tile picked", `document.querySelector('input[name="relationship"]:checked')?.value === 'biological_father'`)
	if n := eval[int](w.phone, `document.querySelectorAll('ul.people li').length`); n != 0 {
		t.Fatalf("an arrow key added %d people; want none until Add", n)
	}
	w.keys("arrow right again", kb.ArrowRight)
	w.waitFor("the third tile picked", `document.querySelector('input[name="relationship"]:checked')?.value === 'sibling'`)
	w.focus("#add-person")
	w.keys("enter", kb.Enter)
	w.waitFor("Nan added as picked", `[...document.querySelectorAll('ul.people .rel')].length === 1`)
	w.check("added-by-keyboard")
	if rel := eval[string](w.phone, `document.querySelector('ul.people .rel').textContent`); !strings.Contains(strings.ToLower(rel), "brother or sister") {
		t.Errorf("Nan was added as %q; want the tile picked with the keys (brother or sister)", rel)
	}
}

// The same link opened again on the phone that used it, with no signal,
// carries on where the young person stopped, from what the phone kept,
// rather than say the link does not work.
func TestBrowser_OpeningTheLinkAgainWithoutSignalCarriesOn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	w, l := startYoungPerson(ctx, t, s, "YP13")
	w.throughPeople()
	w.next("Now think about the people who matter most, and who you would go to for help.")
	w.pickImportant([]int{0})
	w.waitFor("the pages kept for use offline", `navigator.serviceWorker.controller !== null`)
	w.setOffline(true)
	w.do("leave the page", chromedp.Navigate("about:blank"))
	tab := w // the same tab, still without signal, opening the link afresh
	tab.open(l.Link)
	tab.heading("Now think about the people who matter most, and who you would go to for help.")
	if n := eval[int](tab.phone, `document.querySelectorAll('input[name="important"]:checked').length`); n != 1 {
		t.Errorf("%d most important people ticked after opening the link again without signal; want the 1 ticked before", n)
	}
	// No signal is said, and stays in view as the young person goes on.
	tab.waitFor("the page to say there is no connection", `document.getElementById('net').textContent.includes('No connection')`)
	tab.check("carried-on-offline")
	tab.tap(`input[name="important"][value="1"]`)
	tab.waitFor("a second important person ticked", `document.querySelectorAll('input[name="important"]:checked').length === 2`)
	tab.next("Someone else I would go to for help?")
	// A long page, scrolled to its bottom.
	tab.next("Think about Nan")
	eval[bool](tab.phone, `(window.scrollTo(0, document.body.scrollHeight), true)`)
	if top := eval[float64](tab.phone, `document.getElementById('net').getBoundingClientRect().top`); top < -0.5 || top > 1 {
		t.Errorf("scrolled down with no signal, the line saying so is at %.0fpx; want it stuck at the top", top)
	}
	if bar, net := eval[float64](tab.phone, `document.querySelector('.sticky-top').getBoundingClientRect().top`), eval[float64](tab.phone, `document.getElementById('net').getBoundingClientRect().bottom`); bar < net-0.5 {
		t.Errorf("the progress bar (top %.0fpx) is under the no-signal line (bottom %.0fpx)", bar, net)
	}
	tab.shot("offline-scrolled-down")
	tab.setOffline(false)
	if err := eventually(ctx, 30*time.Second, func() error {
		if len(s.childResponses(t, "YP13")) == 0 {
			return fmt.Errorf("nothing on the server yet")
		}
		if n := len(s.response(t, l.ResponseID).Answers.KeyPeople); n != 2 {
			return fmt.Errorf("%d key people on the server; want the 2 ticked without signal", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// An SCT naming nobody is sent only once the young person says that is
// their answer.
func TestBrowser_EmptySCTNeedsConfirming(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	w, l := startYoungPerson(ctx, t, s, "YP6")
	for !strings.Contains(w.mainText(), "Ready to send?") {
		w.click("#next")
		w.waitFor("a step", `document.querySelector('h1') !== null`)
	}
	w.heading("Ready to send?")
	w.check("nobody-named")
	w.click("#send")
	w.waitFor("the page to ask for the tick", `document.querySelector('.error[role="alert"]')?.textContent.includes("I don't want to name anyone")`)
	if list := s.childResponses(t, "YP6"); len(list) == 1 && list[0].Status == "submitted" {
		t.Fatalf("an empty SCT was sent without the tick: %+v", list)
	}
	w.tap("#name-nobody")
	w.click("#send")
	w.heading("Thank you!")
	w.check("nobody-sent")
	if err := eventually(ctx, 15*time.Second, func() error {
		r := s.response(t, l.ResponseID)
		if r.Status != "submitted" || len(r.Answers.Nominees) != 0 {
			return fmt.Errorf("on the server: %s with %d people", r.Status, len(r.Answers.Nominees))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// A young person without the QR code types theirs: the sign-in page leads
// to a page for it, and the code works typed in any case, without its dash.
func TestBrowser_TypingTheCodeStartsTheSCT(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	s.createChild(t, "YP7", "lifelong_links")
	l := s.openLink(t, "YP7")
	p := newPhone(ctx, t)
	p.open(s.base + "/")
	p.heading("Sign in")
	p.click("#type-code")
	p.heading("Type your code")
	p.check("type-code")
	p.typeIn("#code", strings.ToLower(strings.ReplaceAll(l.Code, "-", "")))
	p.clickButton("Start")
	p.heading("The people in your life")
	p.waitFor("the wizard's address", fmt.Sprintf(`location.hash === '#/sct/%s'`, l.ResponseID))
	if txt := eval[string](p, `document.body.innerText`); strings.Contains(txt, "Sign out") || strings.Contains(txt, "Children") {
		t.Errorf("the young person's screen shows the staff's menu: %q", txt)
	}
	p.check("started-from-a-typed-code")
}

// A worker who has only signed in online can start and finish an SCT on a
// phone with no signal: the pages, the forms and their children were kept
// at sign-in, and the answers go once the signal is back.
func TestBrowser_WorkerStartsAnSCTOfflineAfterSigningIn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	s.createChild(t, "OFF1", "lifelong_links")
	// More children than a page of the list holds: the phone keeps them all.
	for i := range 120 {
		s.createChild(t, fmt.Sprintf("PG%03d", i), "comparison")
	}
	p := newPhone(ctx, t)
	p.signIn(s.base, coordEmail)
	p.heading("Children in site A")
	p.waitFor("the pages and forms to be kept on the phone", `navigator.serviceWorker.controller !== null &&
		localStorage.getItem('sct.form.sct.1') !== null && Object.keys(localStorage).some((k) => k.startsWith('sct.kept.'))`)

	p.setOffline(true)
	p.do("reload with no signal", chromedp.Reload())
	p.heading("Children in site A")
	if n := eval[int](p, `document.querySelectorAll('ul.people a.who').length`); n != 121 {
		t.Fatalf("%d children listed with no signal, want all 121 (two pages of the list)", n)
	}
	p.click(`a[href="#/child/OFF1"]`)
	p.heading("Child OFF1")
	p.check("child-offline")
	p.click("#start-sct")
	w := &wizard{phone: p}
	w.heading("The people in your life")
	w.throughPeople()
	w.throughRatings("-worker-offline")
	w.click("#send")
	w.heading("Thank you!")
	w.waitFor("the page to say the answers are kept", `document.querySelector('main').innerText.includes('saved on this phone')`)
	if list := s.childResponses(t, "OFF1"); len(list) != 0 {
		t.Fatalf("with no signal the server holds %+v", list)
	}
	p.setOffline(false)
	if err := eventually(ctx, 30*time.Second, func() error {
		list := s.childResponses(t, "OFF1")
		if len(list) != 1 || list[0].Status != "submitted" {
			return fmt.Errorf("responses %+v, want one submitted", list)
		}
		if n := len(s.response(t, list[0].ID).Answers.Nominees); n != len(sctPeople) {
			return fmt.Errorf("%d people on the server, want %d", n, len(sctPeople))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w.check("worker-offline-sent")
}

// The SCT the evaluation calls full: 12 people, the 3 most important, 2
// more supporters from the list, every rating of the 5 key people and every
// adequacy answer. Ratings are mostly "definitely", as the evaluation's
// young people gave them.
var (
	effortPeople = []person{{"Nan", "grandparent"}, {"Mum", "biological_mother"}, {"Dad", "biological_father"},
		{"Sam", "sibling"}, {"Aunt Jo", "other_relative"}, {"Pat", "foster_carer_current"}, {"Lee", "foster_family_member"},
		{"Kim", "friend"}, {"Ali", "friend"}, {"Mrs B", "school_staff"}, {"Rae", "social_care_professional"}, {"Tom", "lifelong_links_worker"}}
	effortImportant = []int{0, 1, 5}
	effortSupport   = []int{7, 10}
	effortItems     = []string{"emotional", "practical", "advice", "advocacy", "socialising", "lifelong", "trust", "positive_feedback"}
)

// effortRating is key person k's answer to item i: "definitely" but for a
// few, different for each person.
func effortRating(k, i int) int {
	switch (k + i) % 5 {
	case 0:
		return 3
	case 3:
		if k%2 == 1 {
			return 2
		}
	}
	return 4
}

// quickly answers a step's questions as a person would with the "same
// answer for all" row: the commonest answer for all, then the others one by
// one. name is the row's input name, prefix that of each question's.
func (w *wizard) quickly(name string, question func(item string) string, rs []rating) {
	w.t.Helper()
	count := map[int]int{}
	for _, r := range rs {
		count[r.value]++
	}
	common := rs[0].value
	for v, n := range count {
		if n > count[common] {
			common = v
		}
	}
	w.tap(fmt.Sprintf(`input[name=%q][value="%d"]`, name, common))
	for _, r := range rs {
		sel := fmt.Sprintf(`input[name=%q][value="%d"]`, question(r.item), r.value)
		if r.value != common {
			w.tap(sel)
		}
		w.waitFor("answer ticked", fmt.Sprintf(`document.querySelector(%q).checked`, sel))
	}
}

// TestBrowser_FullSCTEffort completes the full SCT above on a 390x844 phone
// and prints what it cost a person: taps, and screen heights scrolled to
// reach what they tapped. Targets: at most 60 taps and 12 screens.
func TestBrowser_FullSCTEffort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	s := startServer(t)
	w, l := startYoungPerson(ctx, t, s, "EFF1")
	// What the phone fetched to open the SCT: the page, its styles and
	// scripts, the form definition and the link's answers, compressed.
	loaded := eval[float64](w.phone, `[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
		.reduce((n, e) => n + e.transferSize, 0)`)
	t.Logf("first load: %.1f KB over the network", loaded/1024)
	if loaded > 60*1024 || loaded < 5*1024 {
		t.Errorf("the SCT's first load came to %.1f KB; the budget is 60 KB (and it cannot be under 5)", loaded/1024)
	}
	w.taps, w.scrolled = 0, 0
	mark := func(step string) {
		t.Logf("after %s: taps=%d scroll_screens=%.1f", step, w.taps, w.scrolled/phoneHeight)
	}
	w.next("Who are the people who are important to you?")
	w.addPeople(effortPeople)
	w.check("effort-people")
	mark("people")
	w.next("Now think about the people who matter most, and who you would go to for help.")
	w.pickImportant(effortImportant)
	w.next("Someone else I would go to for help?")
	for n, i := range effortSupport {
		w.tap(fmt.Sprintf(`input[name="support"][value="%d"]`, i))
		w.waitFor("supporter ticked", fmt.Sprintf(`document.querySelectorAll('input[name="support"]:checked').length === %d`, n+1))
	}
	keys := append(append([]int{}, effortImportant...), effortSupport...)
	for k, nominee := range keys {
		w.next("Think about " + effortPeople[nominee].name)
		var rs []rating
		for i, item := range effortItems {
			rs = append(rs, rating{item, effortRating(k, i)})
		}
		w.quickly(fmt.Sprintf("all-%d", k), func(item string) string { return fmt.Sprintf("%s-%d", item, k) }, rs)
		w.rate(k, []rating{{"let_down", 1 + k%2}})
		w.check(fmt.Sprintf("effort-rate-%d", k))
		mark(fmt.Sprintf("key person %d", k+1))
	}
	w.next("Do you have enough people in your life for each of these?")
	var adequacy []rating
	for i, item := range effortItems {
		adequacy = append(adequacy, rating{item, 3 - i%3/2})
	}
	w.quickly("adequacy-all", func(item string) string { return "adequacy-" + item }, adequacy)
	w.check("effort-adequacy")
	w.next("Ready to send?")
	w.click("#send")
	w.heading("Thank you!")
	screens := w.scrolled / phoneHeight
	fmt.Printf("taps=%d scroll_screens=%.1f\n", w.taps, screens)
	if w.taps > 60 || screens > 12 {
		t.Errorf("taps=%d scroll_screens=%.1f; the targets are at most 60 taps and 12 screens", w.taps, screens)
	}
	if err := eventually(ctx, 15*time.Second, func() error {
		r := s.response(t, l.ResponseID)
		if r.Status != "submitted" || len(r.Answers.Nominees) != len(effortPeople) || len(r.Answers.KeyPeople) != len(keys) {
			return fmt.Errorf("on the server: %s, %d people, %d key people", r.Status, len(r.Answers.Nominees), len(r.Answers.KeyPeople))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// Opening the same link again on the phone that used it carries on at the
// step where the young person stopped.
func TestBrowser_OpeningTheLinkAgainCarriesOn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	w, l := startYoungPerson(ctx, t, s, "YP8")
	w.throughPeople()
	w.next("Now think about the people who matter most, and who you would go to for help.")
	w.pickImportant([]int{0})
	// A person's tap and their closing the tab are never the same instant:
	// the tick is written on the phone (IndexedDB) in the meantime.
	w.waitFor("the tick to be kept on the phone", `new Promise((done) => {
		const open = indexedDB.open('sct');
		open.onsuccess = () => {
			const all = open.result.transaction('drafts', 'readonly').objectStore('drafts').getAll();
			all.onsuccess = () => { open.result.close(); done(all.result.some((d) => (d.body.answers.key_people || []).length === 1)); };
		};
		open.onerror = () => done(false);
	})`)
	w.do("leave the page", chromedp.Navigate("about:blank"))
	tab := &wizard{phone: w.newTab()}
	tab.open(l.Link)
	tab.heading("Now think about the people who matter most, and who you would go to for help.")
	if n := eval[int](tab.phone, `document.querySelectorAll('input[name="important"]:checked').length`); n != 1 {
		t.Errorf("%d most important people ticked after opening the link again; want the 1 ticked before", n)
	}
	tab.check("carried-on")
}

// A worker can sign in on a phone a young person's link is kept on, and
// the young person's answers still waiting are sent all the same.
func TestBrowser_WorkerSignsInOnAPhoneALinkIsKeptOn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	w, l := startYoungPerson(ctx, t, s, "YP9")
	w.setOffline(true)
	w.throughPeople()
	w.setOffline(false)
	w.signIn(s.base, coordEmail)
	w.heading("Children in site A")
	w.check("worker-back")
	if err := eventually(ctx, 30*time.Second, func() error {
		if len(s.childResponses(t, "YP9")) == 0 {
			return fmt.Errorf("the young person's draft has not arrived")
		}
		if n := len(s.response(t, l.ResponseID).Answers.Nominees); n != len(sctPeople) {
			return fmt.Errorf("the draft has %d people, want %d", n, len(sctPeople))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// On a phone a young person's link is kept on, another code that does not
// work shows that it does not work: never the first young person's SCT.
func TestBrowser_AWrongCodeNeverOpensAnotherChildsSCT(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	w, _ := startYoungPerson(ctx, t, s, "YP10")
	w.throughPeople()
	w.open(s.base + "/#join=ZZZZ2222")
	w.heading("This link does not work")
	w.check("wrong-code")
	if txt := w.mainText(); strings.Contains(txt, sctPeople[0].name) {
		t.Errorf("a wrong code shows the first young person's answers: %q", txt)
	}
}

// The wizard says where the young person is and about whom, steadily: the
// progress bar never falls as people are added; each rating question and its
// Read aloud button name the person; tiles that cannot be picked are
// disabled with the reason above them; a ticked tile keeps the focus; a
// question is named once, and saves are not announced.
func TestBrowser_WizardSaysWhereAndWhoAndKeepsFocus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	w, _ := startYoungPerson(ctx, t, s, "YP11")
	progress := func() float64 {
		return eval[float64](w.phone, `(() => { const p = document.querySelector('progress'); return p ? p.value / p.max : 0; })()`)
	}
	last := progress()
	moved := func(step string) {
		t.Helper()
		if now := progress(); now < last {
			t.Errorf("%s: the progress bar fell from %.2f to %.2f", step, last, now)
		} else {
			last = now
		}
	}
	w.next("Who are the people who are important to you?")
	moved("people")
	four := append(append([]person{}, sctPeople...), person{"Sam", "sibling"})
	w.addPeople(four)
	if said := eval[string](w.phone, `document.querySelector('[role=status]')?.textContent || ''`); strings.Contains(said, "Saving") {
		t.Errorf("the status line announces saving: %q", said)
	}
	w.next("Now think about the people who matter most, and who you would go to for help.")
	moved("most important")
	for n, i := range []int{0, 1, 3} {
		sel := fmt.Sprintf(`input[name="important"][value="%d"]`, i)
		w.tap(sel)
		w.waitFor("important person ticked", fmt.Sprintf(`document.querySelectorAll('input[name="important"]:checked').length === %d`, n+1))
		if !eval[bool](w.phone, fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, sel)) {
			t.Errorf("after ticking tile %d the focus is on %s, not the tile", i, eval[string](w.phone, `document.activeElement.outerHTML.slice(0, 80)`))
		}
	}
	if !eval[bool](w.phone, `document.querySelector('input[name="important"][value="2"]').disabled`) {
		t.Error("a fourth most important person can still be picked")
	}
	if note := eval[string](w.phone, `document.querySelector('main .notice')?.textContent || ''`); !strings.Contains(note, "untick one first") {
		t.Errorf("no reason beside the tiles that cannot be picked: %q", note)
	}
	if n := eval[int](w.phone, `document.querySelectorAll('fieldset [aria-label], fieldset [role=radiogroup], fieldset [role=group]').length`); n != 0 {
		t.Errorf("%d boxes name a question a second time", n)
	}
	w.check("limit-reached")
	w.next("Someone else I would go to for help?")
	moved("support")
	w.next("Think about " + four[0].name)
	moved("first key person")
	where := eval[string](w.phone, `document.getElementById('where').textContent`)
	legend := eval[string](w.phone, `document.querySelector('fieldset legend').textContent`)
	aloud := eval[string](w.phone, `document.querySelector('.q-said .say').getAttribute('aria-label')`)
	if !strings.Contains(where, "Person 1 of 3: "+four[0].name) || !strings.Contains(legend, four[0].name) || !strings.Contains(aloud, four[0].name) {
		t.Errorf("where %q, question %q, read aloud %q; want each to name %s", where, legend, aloud, four[0].name)
	}
	w.next("Think about " + four[1].name)
	moved("second key person")
	w.next("Think about " + four[3].name)
	moved("third key person")
	w.next("Do you have enough people in your life for each of these?")
	moved("adequacy")
}

// Removing a person keeps the young person's place: after the question
// "Remove …?" is answered yes, the focus is on the Remove button of the
// person now in that place (not the top of the page), the removal is said
// just above the list, on screen, and the draft holds the others.
func TestBrowser_RemovingAPersonKeepsThePlace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	w, l := startYoungPerson(ctx, t, s, "YP15")
	// The young person answers yes to "Remove …?".
	_, stop := w.answerDialogs(true)
	defer stop()
	w.next("Who are the people who are important to you?")
	w.addPeople([]person{{"Nan", "grandparent"}, {"Jo", "friend"}, {"Sam", "sibling"}})
	w.click(`ul.people li:nth-child(2) button.danger`)
	w.waitFor("Jo removed", `document.querySelectorAll('ul.people li').length === 2`)
	w.waitFor("the removal said", `document.getElementById('list-said')?.textContent === 'Removed Jo.'`)
	w.check("removed")
	if focus := eval[string](w.phone, `document.activeElement.getAttribute('aria-label') || document.activeElement.id`); focus != "Remove Sam" {
		t.Errorf("after removing Jo the focus is on %q; want Sam's Remove button, in Jo's place", focus)
	}
	w.click(`ul.people li:nth-child(2) button.danger`)
	w.waitFor("Sam removed", `document.querySelectorAll('ul.people li').length === 1`)
	if focus := eval[string](w.phone, `document.activeElement.getAttribute('aria-label') || document.activeElement.id`); focus != "Remove Nan" {
		t.Errorf("after removing the last on the list the focus is on %q; want Nan's Remove button, the one before", focus)
	}
	if err := eventually(ctx, 10*time.Second, func() error {
		if len(s.childResponses(t, "YP15")) == 0 {
			return fmt.Errorf("nothing on the server yet")
		}
		r := s.response(t, l.ResponseID)
		if len(r.Answers.Nominees) != 1 || r.Answers.Nominees[0].Name != "Nan" {
			return fmt.Errorf("the draft holds %+v; want Nan alone", r.Answers.Nominees)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}

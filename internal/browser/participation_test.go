package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// pause is a child-led pause as the API holds it.
type pause struct {
	From string `json:"from"`
	To   string `json:"to,omitempty"`
}

// participationRecord is a child's participation record as the API holds it
// (without updated_at, which the server sets).
type participationRecord struct {
	Eligible               *bool   `json:"eligible"`
	Participating          *bool   `json:"participating"`
	StartedOn              string  `json:"started_on,omitempty"`
	ReasonNotParticipating *int    `json:"reason_not_participating"`
	CeasedOn               string  `json:"ceased_on,omitempty"`
	ReasonCeased           *int    `json:"reason_ceased"`
	PlanCompleted          *int    `json:"plan_completed"`
	FGCCompleted           *int    `json:"fgc_completed"`
	ReviewFGCCompleted     *int    `json:"review_fgc_completed"`
	Pauses                 []pause `json:"pauses"`
}

// participationOf reads a child's participation record over the API: decoded,
// and as the server wrote it (for an exact comparison later).
func (s *server) participationOf(t *testing.T, child string) (*participationRecord, string) {
	t.Helper()
	var c struct {
		ID            string          `json:"id"`
		Participation json.RawMessage `json:"participation"`
	}
	s.getJSON(t, "/api/v1/children/"+child, "coord", &c)
	if len(c.Participation) == 0 || string(c.Participation) == "null" {
		return nil, ""
	}
	var p participationRecord
	if err := json.Unmarshal(c.Participation, &p); err != nil {
		t.Fatalf("child %s's participation: %v in %s", child, err, c.Participation)
	}
	return &p, compact(c.Participation)
}

// readParticipationForm is what the participation form shows: each field's
// value by its id, and the pauses as from/to pairs.
const readParticipationForm = `(() => {
  const d = [...document.querySelectorAll('main details')].find((x) => x.querySelector('summary').textContent.trim() === 'Participation in Lifelong Links');
  const out = {};
  for (const el of d.querySelectorAll('[id^="p-"]')) out[el.id] = el.value;
  out.pauses = [...d.querySelectorAll('fieldset .row')].map((r) => [...r.querySelectorAll('input[type=date]')].map((i) => i.value).join('/'));
  return out;
})()`

// detailsOpen is true when the participation details are open.
const detailsOpen = `[...document.querySelectorAll('main details')].some((x) => x.open && x.querySelector('summary').textContent.trim() === 'Participation in Lifelong Links')`

func TestBrowser_ParticipationForm(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	s.createChild(t, "L1", "lifelong_links")
	if rec, _ := s.participationOf(t, "L1"); rec != nil {
		t.Fatalf("a new child already has a participation record: %+v", rec)
	}
	p := newPhone(ctx, t)

	p.signIn(s.base, coordEmail)
	p.heading("Children in site A")
	p.click(`a[href="#/child/L1"]`)
	p.heading("Child L1")
	p.clickButton("Participation in Lifelong Links")
	p.waitFor("the participation form", detailsOpen+` && document.getElementById('p-participating') !== null`)
	p.check("participation-open")

	// Keyboard, as a coordinator at a desk would: a select takes the first
	// characters of its choice, a date box its parts.
	p.focus("#p-participating")
	p.keys("participating: Yes", "y")
	p.focus("#p-started_on")
	p.keys("the date enrolled", dateKeys(p, "2019", "05", "01"))
	p.focus("#p-reason_not_participating")
	p.keys("reason not participating: 0 Participated", "0")
	p.focus("#p-fgc_completed")
	p.keys("FGC completed: 1 Yes", "1")
	p.clickButton("Add a pause")
	p.waitFor("a pause row", `document.querySelectorAll('main .row.pause input[id$="-from"]').length === 1`)
	p.focus(`main .row.pause input[id$="-from"]`)
	p.keys("the pause's start", dateKeys(p, "2019", "08", "01"))
	p.focus(`main .row.pause input[id$="-to"]`)
	p.keys("the pause's end", dateKeys(p, "2019", "09", "15"))
	p.check("participation-filled-in")

	shownBefore := eval[map[string]any](p, readParticipationForm)
	wantShown := map[string]any{
		"p-eligible": "", "p-participating": "true", "p-started_on": "2019-05-01", "p-reason_not_participating": "0",
		"p-ceased_on": "", "p-reason_ceased": "", "p-plan_completed": "", "p-fgc_completed": "1", "p-review_fgc_completed": "",
		"pauses": []any{"2019-08-01/2019-09-15"},
	}
	if !reflect.DeepEqual(shownBefore, wantShown) {
		t.Fatalf("the form holds %v after typing; want %v", shownBefore, wantShown)
	}

	p.clickButton("Save participation")
	p.waitFor("the page to say it saved", `document.querySelector('main details [role=status]')?.textContent.includes('Participation saved.')`)
	p.check("participation-saved")

	want := participationRecord{
		Participating: new(true), StartedOn: "2019-05-01", ReasonNotParticipating: intp(0), FGCCompleted: intp(1),
		Pauses: []pause{{From: "2019-08-01", To: "2019-09-15"}},
	}
	got, stored := s.participationOf(t, "L1")
	if got == nil || !reflect.DeepEqual(*got, want) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		t.Fatalf("the server holds\n  %s\nwant\n  %s", gj, wj)
	}

	// The page shows the stored record when it is opened again.
	p.do("reload the page", chromedp.Reload())
	p.heading("Child L1")
	p.clickButton("Participation in Lifelong Links")
	p.waitFor("the participation form", detailsOpen)
	if shown := eval[map[string]any](p, readParticipationForm); !reflect.DeepEqual(shown, wantShown) {
		t.Errorf("after a reload the form shows %v; want the stored %v", shown, wantShown)
	}
	p.check("participation-reopened")

	// A bad record: ceased before the child was enrolled, with a reason.
	p.focus("#p-ceased_on")
	p.keys("the date ceased", dateKeys(p, "2019", "04", "01"))
	p.focus("#p-reason_ceased")
	p.keys("reason ceased: 2 Child chose to withdraw", "2")
	if v := eval[string](p, `document.getElementById('p-ceased_on').value + ' ' + document.getElementById('p-reason_ceased').value`); v != "2019-04-01 2" {
		t.Fatalf("the ceased date and reason hold %q, want 2019-04-01 2", v)
	}
	p.clickButton("Save participation")
	p.waitFor("the server's fault on the page",
		`[...document.querySelectorAll('main details [role=alert]')].some((e) => e.textContent.includes('Date participation ceased'))`)
	p.check("participation-fault")
	alert := eval[string](p, `document.querySelector('main details [role=alert]').innerText`)
	if !strings.Contains(alert, "Date participation ceased: is before") || strings.Contains(alert, "ceased_on:") {
		t.Errorf("the alert says %q; want the server's fault in the form's words: Date participation ceased: is before …", alert)
	}
	if strings.Contains(p.mainText(), "Participation saved.") {
		t.Error("the page still says Participation saved. beside the fault")
	}
	// The box at fault is marked for a screen reader and described by the
	// faults; the others are not.
	if marked := eval[[]string](p, `[...document.querySelectorAll('main details [aria-invalid=true]')].map((e) => e.id + ' ' + e.getAttribute('aria-describedby'))`); !reflect.DeepEqual(marked, []string{"p-ceased_on participation-faults"}) {
		t.Errorf("boxes marked at fault: %q; want the date ceased alone, described by the faults", marked)
	}

	after, storedAfter := s.participationOf(t, "L1")
	if storedAfter != stored {
		t.Errorf("the refused record changed what the server holds:\n  before %s\n  after  %s", stored, storedAfter)
	}
	if after == nil || !reflect.DeepEqual(*after, want) {
		t.Errorf("after the refused save the server holds %+v; want %+v", after, want)
	}

	// What was typed and refused is not lost by leaving the page: opened
	// again, the form is open by itself with it, and says it is not saved.
	p.do("reload the page", chromedp.Reload())
	p.heading("Child L1")
	p.waitFor("the participation form, open by itself", detailsOpen)
	if v := eval[string](p, `document.getElementById('p-ceased_on').value`); v != "2019-04-01" {
		t.Errorf("opened again, the date ceased typed before reads %q; want 2019-04-01, kept on the device", v)
	}
	if !strings.Contains(p.mainText(), "Not saved yet") {
		t.Error("the form does not say its changes are not saved yet")
	}
	p.check("participation-kept")
	// The coordinator takes the date ceased and its reason out again.
	eval[bool](p, `(() => { for (const id of ['p-ceased_on', 'p-reason_ceased']) { const el = document.getElementById(id); el.value = ''; el.dispatchEvent(new Event('change', { bubbles: true })); } return true; })()`)

	// A pause with an end and no start is the coordinator's slip, not an
	// empty row: the server says what is missing instead of the page
	// dropping the row without a word.
	p.clickButton("Add a pause")
	p.waitFor("a second pause row", `document.querySelectorAll('main .row.pause input[id$="-to"]').length === 2`)
	p.focus(`main fieldset .row.pause:nth-of-type(2) input[id$="-to"]`)
	p.keys("the second pause's end only", dateKeys(p, "2019", "10", "20"))
	p.clickButton("Save participation")
	p.waitFor("the page's answer to a pause without a start",
		`(document.querySelector('main details [role=status]')?.textContent || '').includes('Participation saved.') || document.querySelector('main details [role=alert]') !== null`)
	p.check("participation-pause-without-start")
	if said := eval[string](p, `document.querySelector('main details [role=status]').innerText`); !strings.Contains(said, "Child-led pause, number 2 › From: is required") {
		t.Errorf("a pause with only an end date: the page says %q; want the server's fault in the form's words: Child-led pause, number 2 › From: is required", said)
	}
	if marked := eval[[]string](p, `[...document.querySelectorAll('main details [aria-invalid=true]')].map((e) => e.id)`); !reflect.DeepEqual(marked, []string{"pause-2-from"}) {
		t.Errorf("boxes marked at fault: %q; want the second pause's start alone", marked)
	}
	if _, storedNow := s.participationOf(t, "L1"); storedNow != stored {
		t.Errorf("the pause without a start changed what the server holds:\n  before %s\n  after  %s", stored, storedNow)
	}

	// Put right and saved, nothing is marked at fault any more.
	p.focus("#pause-2-from")
	p.keys("the second pause's start", dateKeys(p, "2019", "10", "01"))
	p.clickButton("Save participation")
	p.waitFor("the page to say it saved", `document.querySelector('main details [role=status]')?.textContent.includes('Participation saved.')`)
	if marked := eval[[]string](p, `[...document.querySelectorAll('main details [aria-invalid], main details [aria-describedby~="participation-faults"]')].map((e) => e.id)`); len(marked) != 0 {
		t.Errorf("after a save that was put right, boxes still marked at fault: %q", marked)
	}
	saved, _ := s.participationOf(t, "L1")
	if saved == nil || saved.CeasedOn != "" || len(saved.Pauses) != 2 || saved.Pauses[1] != (pause{From: "2019-10-01", To: "2019-10-20"}) {
		t.Errorf("the server holds %+v; want no date ceased and a second pause 2019-10-01 to 2019-10-20", saved)
	}
	// Saved, nothing is kept: the form opens closed, with what the server holds.
	p.do("reload the page", chromedp.Reload())
	p.heading("Child L1")
	if eval[bool](p, detailsOpen) || strings.Contains(p.mainText(), "Not saved yet") {
		t.Error("after the save the form still opens by itself as not saved")
	}

	// A change can be thrown away: the notice at the top of the form offers
	// it, and the form shows what the server holds again.
	p.clickButton("Participation in Lifelong Links")
	p.waitFor("the participation form", detailsOpen)
	p.focus("#p-plan_completed")
	p.keys("plan completed: 0 No", "0")
	p.waitFor("the notice at the top", `document.querySelector('main details form > :first-child')?.textContent.includes('Not saved yet')`)
	p.clickButton("Discard these changes")
	p.waitFor("the form as stored", `document.getElementById('p-plan_completed')?.value === '' && !document.querySelector('main').innerText.includes('Not saved yet')`)
	p.do("reload the page", chromedp.Reload())
	p.heading("Child L1")
	if eval[bool](p, detailsOpen) {
		t.Error("after discarding, the form still opens by itself")
	}

	// A change not saved yet stays on the device only while someone is
	// signed in: signing out takes it away, with the rest the pages kept,
	// so the next person to use the phone or computer finds none of it.
	p.clickButton("Participation in Lifelong Links")
	p.waitFor("the participation form", detailsOpen)
	p.focus("#p-plan_completed")
	p.keys("plan completed: 0 No", "0")
	keptChange := `Object.keys(localStorage).some((k) => k === 'sct.kept.participation.L1' && JSON.parse(localStorage.getItem(k)).plan_completed == 0)`
	p.waitFor("the change kept on the device", keptChange)
	signOut := `[...document.querySelectorAll('#nav button')].find((b) => b.textContent.trim() === 'Sign out')`
	p.reach(signOut)
	p.do("click Sign out", chromedp.Click(chromedp.JSPath(signOut)))
	p.waitFor("the sign-in page", `location.hash.startsWith('#/login')`)
	if left := eval[[]string](p, `Object.keys(localStorage).filter((k) => k.startsWith('sct.kept.'))`); len(left) != 0 {
		t.Errorf("after signing out the device still keeps %q", left)
	}
}

// A practice summary is checked on the page before it is sent, by what its
// definition says (a date required, kept not more than found), each fault
// beside its field with focus on the first; a field that does not apply
// (conference attendees without a conference) is hidden and not sent.
func TestBrowser_PracticeSummaryChecksBeforeSending(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	s.createChild(t, "PS1", "lifelong_links")
	p := newPhone(ctx, t)
	p.signIn(s.base, coordEmail)
	p.open(s.base + "/#/child/PS1")
	p.heading("Child PS1")
	p.click("#start-practice")
	p.waitFor("the practice summary", `[...document.querySelectorAll('main label')].some((l) => l.textContent.startsWith('Date Lifelong Links started'))`)
	label := func(text string) string {
		return fmt.Sprintf(`[...document.querySelectorAll('main label')].find((l) => l.textContent.startsWith(%q))`, text)
	}
	control := func(text string) string { return fmt.Sprintf(`document.getElementById((%s).htmlFor)`, label(text)) }
	visible := func(text string) bool { return eval[bool](p, fmt.Sprintf(`!(%s).closest('[hidden]')`, label(text))) }
	if visible("Number of people attending") {
		t.Error("conference attendees are asked before any conference is chosen")
	}
	eval[bool](p, fmt.Sprintf(`(() => { const el = %s; el.value = 'fgc'; el.dispatchEvent(new Event('change', { bubbles: true })); return true; })()`, control("How the work concluded")))
	if !visible("Number of people attending") {
		t.Error("conference attendees are not asked once a conference is chosen")
	}
	for text, value := range map[string]string{"People identified at discovery": "4", "Of those, still connections": "6"} {
		eval[bool](p, fmt.Sprintf(`(() => { const el = %s; el.value = %q; el.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`, control(text), value))
	}
	p.clickButton("Submit")
	p.waitFor("the faults beside their fields", `[...document.querySelectorAll('.field-error')].filter((e) => !e.hidden).length === 2`)
	p.check("practice-faults")
	beside := eval[[]string](p, `[...document.querySelectorAll('.field-error')].filter((e) => !e.hidden).map((e) => e.previousElementSibling.id + ': ' + e.textContent)`)
	if len(beside) != 2 || !strings.Contains(strings.Join(beside, "\n"), "is required") || !strings.Contains(strings.Join(beside, "\n"), "must not be more than") {
		t.Errorf("faults beside the fields: %q; want the start date required and kept more than found", beside)
	}
	if focused := eval[string](p, `document.activeElement.getAttribute('aria-describedby') || ''`); focused == "" {
		t.Error("focus is not on a field at fault")
	}
	for _, r := range s.childResponses(t, "PS1") {
		if r.Status == "submitted" {
			t.Errorf("a practice summary the page found faults in was sent: %+v", r)
		}
	}

	// What was typed is kept: leaving the page and coming back to it finds
	// it there.
	here := eval[string](p, `location.hash`)
	p.waitFor("the draft kept", `document.querySelector('main .status')?.textContent.includes('Draft kept') || document.querySelector('main .status')?.textContent.includes('Saved')`)
	p.open(s.base + "/#/children")
	p.heading("Children in site A")
	p.open(s.base + "/" + here)
	p.waitFor("the practice summary again", `[...document.querySelectorAll('main label')].some((l) => l.textContent.startsWith('People identified at discovery'))`)
	if got := eval[string](p, control("People identified at discovery")+`.value`); got != "4" {
		t.Errorf("after leaving the page and coming back, People identified at discovery holds %q; want the 4 typed", got)
	}
}

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
)

// signIn signs a member of staff in on the sign-in page.
func (p *phone) signIn(base, email string) {
	p.t.Helper()
	p.open(base + "/#/login")
	p.heading("Sign in")
	p.check("sign-in")
	p.typeIn("#email", email)
	p.typeIn("#password", userPassword)
	p.click(`main button[type="submit"]`)
	p.waitFor("signed in", `document.getElementById('nav').textContent.includes('Sign out')`)
}

// dateKeys is what to type into a date box for a date: its parts in the
// order of the browser's locale (Debian's chromium often has only en-US).
func dateKeys(p *phone, year, month, day string) string {
	p.t.Helper()
	order := eval[string](p, `new Intl.DateTimeFormat(navigator.language).formatToParts(new Date(2019, 5, 14)).map((x) => x.type[0]).filter((c) => 'ymd'.includes(c)).join('')`)
	if len(order) != 3 {
		p.t.Fatalf("the browser's date order is %q", order)
	}
	var keys string
	for _, c := range order {
		keys += map[rune]string{'y': year, 'm': month, 'd': day}[c]
	}
	return keys
}

// A wrong password: the fault is said, both boxes are marked and described
// by it (which of the two was wrong is not said), and the password box takes
// the focus with its text selected, to be typed again.
func TestBrowser_WrongPasswordMarksTheBoxes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	p := newPhone(ctx, t)
	p.open(s.base + "/#/login")
	p.heading("Sign in")
	p.typeIn("#email", coordEmail)
	p.typeIn("#password", "not the password at all")
	p.click(`main button[type="submit"]`)
	p.waitFor("the fault", `document.getElementById('sign-in-faults') !== null`)
	p.check("sign-in-fault")
	state := eval[string](p, `['email', 'password'].map((id) => { const el = document.getElementById(id); return id + ':' + el.getAttribute('aria-invalid') + ':' + el.getAttribute('aria-describedby'); }).join(' ') + ' focus:' + document.activeElement.id + ' selected:' + (document.activeElement.selectionEnd - document.activeElement.selectionStart)`)
	if want := "email:true:sign-in-faults password:true:sign-in-faults focus:password selected:23"; state != want {
		t.Errorf("after a wrong password: %s; want %s", state, want)
	}
	// What is typed now takes the place of the selected text.
	p.keys("the right password", userPassword)
	p.click(`main button[type="submit"]`)
	p.waitFor("signed in", `document.getElementById('nav').textContent.includes('Sign out')`)
}

func TestBrowser_PaperTranscription(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	s.createChild(t, "P1", "comparison")
	p := newPhone(ctx, t)

	p.signIn(s.base, coordEmail)
	p.heading("Children in site A")
	p.check("children")
	// The child ID box checks its spelling on the page too (its pattern is
	// one the browser can read).
	for id, bad := range map[string]bool{"CA-1.b_2": false, "bad id!": true, "-CA1": true} {
		js := fmt.Sprintf(`(() => { const el = document.getElementById('child-id'); el.value = %q; const m = el.validity.patternMismatch; el.value = ''; return m; })()`, id)
		if got := eval[bool](p, js); got != bad {
			t.Errorf("child ID %q: the page says it does not match: %v; want %v", id, got, bad)
		}
	}
	// Registering a child ID already used: the fault names the box as the
	// form does, marks it, and puts the focus on it.
	p.typeIn("#child-id", "P1")
	p.clickButton("Register")
	p.waitFor("the fault about the child ID", `document.getElementById('child-error').textContent.includes('Child ID:')`)
	if state := eval[string](p, `document.getElementById('child-id').getAttribute('aria-invalid') + ' ' + (document.activeElement.id)`); state != "true child-id" {
		t.Errorf("after the fault, the child ID box is (aria-invalid, focused) %q; want marked and focused", state)
	}
	p.check("child-id-used")
	p.click(`a[href="#/child/P1"]`)
	p.heading("Child P1")
	p.check("child")
	p.click("#start-paper")
	p.heading("Type in a paper SCT")
	p.check("paper-empty")

	// Keyboard only from here: the date, then Tab from box to box; a select
	// takes the first letters of its choice, as a typist would use it.
	p.focus("#completed-on")
	p.keys("the date", dateKeys(p, "2019", "06", "14"))
	// The paper form was the Welsh one.
	p.focus("#paper-language")
	p.keys("the language", "W")
	p.focus("#n0-name")
	p.keys("the people",
		"Nan\tgr\t\t"+
			"Mum\tbiological m\t\t"+
			"Dave\tfo\t\t")
	p.focus("#k0-reason")
	p.keys("the key people",
		"o\t1\t\t\t"+"4\t3\t\t\t\t\t4\t\t"+"1\t"+ // Nan: emotional 4, practical 3, trust 4; let down 1
			"o\t3\t\t\t"+"2\t\t\t\t\t\t\t\t"+"3\t"+ // Dave: emotional 2; let down 3
			"s\t\tMr K\tsc\t"+"\t\t\t4\t") // Mr K, new: advocacy 4
	p.focus("#a-emotional")
	p.keys("the adequacy items", "3\t2\t\t1")
	p.check("paper-filled-in")
	if got := eval[string](p, `document.getElementById('completed-on').value`); got != "2019-06-14" {
		t.Errorf("the date box holds %q after typing 14 June 2019, want 2019-06-14", got)
	}

	p.click("#submit-paper")
	p.heading("Paper SCT submitted")
	p.check("submitted")

	list := s.childResponses(t, "P1")
	if len(list) != 1 || list[0].Status != "submitted" || list[0].Mode != "paper" {
		t.Fatalf("child P1 has %+v; want one submitted paper response", list)
	}
	r := s.response(t, list[0].ID)
	if r.Mode != "paper" || r.CompletedOn != "2019-06-14" || r.Timepoint != "baseline" || r.Form != "sct" || r.Language != "cy" {
		t.Errorf("response: mode %q completed_on %q timepoint %q form %q language %q; want paper 2019-06-14 baseline sct cy",
			r.Mode, r.CompletedOn, r.Timepoint, r.Form, r.Language)
	}
	want := answers{
		Nominees: []nominee{{"Nan", "grandparent", ""}, {"Mum", "biological_mother", ""}, {"Dave", "foster_carer_current", ""}},
		KeyPeople: []keyPerson{
			{Nominee: intp(0), Reason: "important", Support: map[string]int{"emotional": 4, "practical": 3, "trust": 4}, LetDown: intp(1)},
			{Nominee: intp(2), Reason: "important", Support: map[string]int{"emotional": 2}, LetDown: intp(3)},
			{Name: "Mr K", Relationship: "school_staff", Reason: "support", Support: map[string]int{"advocacy": 4}},
		},
		Adequacy: map[string]int{"emotional": 3, "practical": 2, "advocacy": 1},
	}
	if !reflect.DeepEqual(r.Answers, want) {
		got, _ := json.Marshal(r.Answers)
		wanted, _ := json.Marshal(want)
		t.Errorf("answers on the server:\n  %s\nwant\n  %s", got, wanted)
	}
}

// Staff open a submitted SCT from the child's page, read it in the form's
// words, and revise it with a reason; the server keeps both revisions.
func TestBrowser_StaffReadAndReviseASubmittedSCT(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	s.createChild(t, "R1", "lifelong_links")
	id := "4c5d6e7f-8091-4a2b-9c3d-4e5f60718293"
	s.mustDo(t, "PUT", "/api/v1/responses/"+id, `{"form":"sct","version":"1","child_id":"R1","timepoint":"baseline","completed_on":"2019-06-14","mode":"online","status":"submitted",
		"answers":{"nominees":[{"name":"Nan","relationship":"grandparent"},{"name":"Jo","relationship":"friend"}],
		"key_people":[{"nominee":0,"reason":"important","support":{"emotional":4,"trust":3},"let_down":1}],"adequacy":{"emotional":3}}}`, "coord", 201)
	p := newPhone(ctx, t)
	p.signIn(s.base, coordEmail)
	p.open(s.base + "/#/child/R1")
	p.heading("Child R1")
	p.click(`a[href^="#/response/` + id + `"]`)
	p.heading("SCT: child R1, baseline")
	p.check("read")
	if txt := p.mainText(); !strings.Contains(txt, "Nan") || !strings.Contains(txt, "Jo") || !strings.Contains(txt, "revision 1") {
		t.Fatalf("the SCT as staff read it: %q", txt)
	}
	p.click("#revise")
	p.heading("Revise the SCT: child R1, baseline")
	p.focus("#k0-trust")
	p.keys("trust: 4", "4")
	p.clickButton("Save the revision")
	p.waitFor("the page to ask why", `document.querySelector('.errors[role=alert]')?.textContent.includes('Say why')`)
	p.typeIn("#revision-reason", "Trust was typed as 3; the form says 4")
	p.check("revise")
	p.clickButton("Save the revision")
	p.heading("SCT revised")
	p.check("revised")
	var r struct {
		Mode           string `json:"mode"`
		Revision       int    `json:"revision"`
		RevisionReason string `json:"revision_reason"`
		Answers        struct {
			KeyPeople []struct {
				Support map[string]int `json:"support"`
			} `json:"key_people"`
		} `json:"answers"`
	}
	s.getJSON(t, "/api/v1/responses/"+id, "coord", &r)
	if r.Revision != 2 || r.Mode != "online" || r.RevisionReason != "Trust was typed as 3; the form says 4" || r.Answers.KeyPeople[0].Support["trust"] != 4 {
		t.Errorf("after the revision the server holds %+v", r)
	}
}

// On a slow connection, a paper SCT the server refuses while a draft of it
// is still being saved is refused with its reasons on the page, in the
// form's words, and focus on them.
func TestBrowser_PaperRefusalOnASlowConnectionIsShown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	s.createChild(t, "P9", "comparison")
	p := newPhone(ctx, t)
	p.signIn(s.base, coordEmail)
	p.open(s.base + "/#/child/P9")
	p.heading("Child P9")
	p.click("#start-paper")
	p.heading("Type in a paper SCT")
	p.setLatency(1500)
	// A most important person who is not from the list: the form allows
	// only people from the list there.
	set := func(id, value string) {
		eval[bool](p, fmt.Sprintf(`(() => { const el = document.getElementById(%q); el.value = %q; el.dispatchEvent(new Event('input', { bubbles: true })); el.dispatchEvent(new Event('change', { bubbles: true })); return true; })()`, id, value))
	}
	set("completed-on", "2019-06-14")
	set("n0-name", "Nan")
	set("n0-rel", "grandparent")
	set("k0-reason", "important")
	set("k0-name", "Mr K")
	set("k0-rel", "school_staff")
	p.do("let the draft start saving", chromedp.Sleep(700*time.Millisecond))
	p.click("#submit-paper")
	p.waitForWithin("the refusal on the page", `document.querySelector('main .errors[role=alert]') !== null`, 20*time.Second)
	p.check("refused-on-a-slow-connection")
	said := eval[string](p, `document.querySelector('main .errors[role=alert]').innerText`)
	if !strings.Contains(said, "Key people, number 1") || strings.Contains(said, "answers.") {
		t.Errorf("the refusal says %q; want it in the form's words", said)
	}
	if eval[bool](p, `!document.activeElement.closest('.errors')`) {
		t.Error("focus is not on the refusal")
	}
	for _, r := range s.childResponses(t, "P9") {
		if r.Status == "submitted" {
			t.Errorf("the refused SCT is held as submitted: %+v", r)
		}
	}
}

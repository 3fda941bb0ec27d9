package browser

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
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

func TestBrowser_PaperTranscription(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	s.createChild(t, "P1", "comparison")
	p := newPhone(ctx, t)

	p.signIn(s.base, coordEmail)
	p.heading("Children in site A")
	p.check("children")
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
	if r.Mode != "paper" || r.CompletedOn != "2019-06-14" || r.Timepoint != "baseline" || r.Form != "sct" {
		t.Errorf("response: mode %q completed_on %q timepoint %q form %q; want paper 2019-06-14 baseline sct", r.Mode, r.CompletedOn, r.Timepoint, r.Form)
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

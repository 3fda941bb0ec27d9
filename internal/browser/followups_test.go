package browser

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A coordinator's follow-ups page lists the site's due list in its parts
// (overdue, due now, no baseline; not due and ended folded away), each
// child a link to their page, and makes a calendar address that a calendar
// program can read.
func TestBrowser_FollowUpsPageListsWhoIsDue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	for _, id := range []string{"OV1", "OV2", "NB1", "ND1"} {
		s.createChild(t, id, "lifelong_links")
	}
	s.putSCT(t, "OV1", "baseline", 1, "2019-06-14", fullAnswers())
	s.putSCT(t, "OV2", "baseline", 1, "2020-01-20", fullAnswers())
	s.putSCT(t, "ND1", "baseline", 1, time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly), fullAnswers())

	p := newPhone(ctx, t)
	p.signIn(s.base, coordEmail)
	p.click(`#nav a[href="#/followups"]`)
	p.heading("Follow-ups in site A")
	p.check("followups")
	section := func(id string) []string {
		return eval[[]string](p, `[...(document.getElementById('`+id+`')?.closest('section')?.querySelectorAll('a.who') || [])].map((a) => a.textContent)`)
	}
	if got := section("fu-overdue"); !slices.Equal(got, []string{"OV1", "OV2"}) {
		t.Errorf("overdue: %q; want OV1 then OV2 (the longest overdue first)", got)
	}
	if got := section("fu-no_baseline"); !slices.Equal(got, []string{"NB1"}) {
		t.Errorf("no baseline: %q; want NB1", got)
	}
	if got := section("fu-due"); len(got) != 0 {
		t.Errorf("due now: %q; want none", got)
	}
	headings := eval[string](p, `[...document.querySelectorAll('main h2, main summary')].map((e) => e.textContent).join(' | ')`)
	for _, want := range []string{"Overdue (2)", "Due now (0)", "No baseline SCT yet (1)", "Not due yet (1)", "Participation ended (0)"} {
		if !strings.Contains(headings, want) {
			t.Errorf("the page's parts read %q; want %q among them", headings, want)
		}
	}
	if eval[bool](p, `[...document.querySelectorAll('main details')].some((d) => d.open)`) {
		t.Error("the children not due yet are shown unfolded")
	}
	p.clickButton("Not due yet (1)")
	if got := eval[string](p, `[...document.querySelectorAll('main details a.who')].map((a) => a.textContent).join(' ')`); got != "ND1" {
		t.Errorf("not due yet: %q; want ND1", got)
	}

	p.clickButton("Make a calendar address")
	p.waitFor("the address", `document.getElementById('calendar-url') !== null`)
	p.check("followups-calendar")
	url := eval[string](p, `document.getElementById('calendar-url').value`)
	if !strings.HasPrefix(url, s.base+"/api/v1/calendar/") || !strings.HasSuffix(url, ".ics") {
		t.Fatalf("the calendar address is %q", url)
	}
	if focused := eval[string](p, `document.activeElement.id`); focused != "calendar-url" {
		t.Errorf("the focus is on %q; want the address, selected to copy", focused)
	}
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	feed, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(feed), "BEGIN:VCALENDAR") || !strings.Contains(string(feed), "OV1") {
		t.Errorf("the calendar address answers %d:\n%s", res.StatusCode, feed)
	}

	// Come back another time: the page knows an address works, and asks
	// before making one that would end it; saying no keeps it.
	p.do("reload the page", chromedp.Reload())
	p.heading("Follow-ups in site A")
	p.waitFor("the page to say an address works", `document.querySelector('main').innerText.includes('You made an address on')`)
	asked, stop := p.answerDialogs(false)
	defer stop()
	p.clickButton("Make a calendar address")
	select {
	case q := <-asked:
		if !strings.Contains(q, "stops working") {
			t.Errorf("the page asked %q; want it to say the address before stops working", q)
		}
	case <-time.After(stepTimeout):
		t.Fatal("a second address was made without asking")
	}
	stop()
	if res, err := http.Get(url); err != nil || res.StatusCode != 200 {
		t.Errorf("after saying no, the address made before answers %v %v; want 200", res, err)
	} else {
		res.Body.Close()
	}

	p.click(`main a.who[href="#/child/OV1"]`)
	p.heading("Child OV1")
	// The child's page says the follow-up is overdue, and since when.
	p.waitFor("the due line", `(document.getElementById('due-line')?.textContent || '') !== ''`)
	if line := eval[string](p, `document.getElementById('due-line').textContent`); line != "Overdue: it was due on 14 Dec 2019." {
		t.Errorf("OV1's page says %q; want Overdue: it was due on 14 Dec 2019.", line)
	}
	// The date is spelt as people read it, and kept whole for machines.
	if at := eval[string](p, `document.querySelector('#due-line time')?.getAttribute('datetime') || ''`); at != "2019-12-14" {
		t.Errorf("the due date's datetime is %q; want 2019-12-14", at)
	}

	// The code for the young person's phone stays on screen, whole, at
	// every width: at 320px with text at 200% its two halves go one under
	// the other (the check fails a page wider than the screen).
	p.click("#make-link")
	p.waitFor("the code", `document.getElementById('session-code') !== null`)
	p.check("link-code")
	code := eval[string](p, `document.getElementById('session-code').textContent`)
	if len(code) != 9 || code[4] != '-' {
		t.Errorf("the code reads %q; want four characters, a hyphen and four more", code)
	}
	p.setLarge(true)
	if lines := eval[[]string](p, `[...document.querySelectorAll('#session-code span')].map((s) => s.textContent + '@' + Math.round(s.getBoundingClientRect().right <= document.documentElement.clientWidth))`); len(lines) != 2 || !strings.HasSuffix(lines[0], "@1") || !strings.HasSuffix(lines[1], "@1") {
		t.Errorf("at 320px with text at 200%% the code's halves are %q; want both whole and inside the screen", lines)
	}
	p.setLarge(false)
}

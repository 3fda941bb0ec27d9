package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
)

// pairedSeed: three children with a baseline and a first follow-up each,
// and so three pairs. Network sizes 3 → 5, 4 → 1 and 1 → 2: baseline mean
// 2.7, median 3; follow-up mean 2.7, median 2; change +2, −3, +1 (mean 0,
// median 1). Three, so that no median is also a mean.
var pairedSeed = []struct {
	child, group, timepoint, completed string
	people                             int
	adequacy                           string
}{
	{"Q1", "lifelong_links", "baseline", "2019-06-14", 3, `{"emotional":2,"practical":1}`},
	{"Q1", "lifelong_links", "follow_up", "2020-01-10", 5, `{"emotional":3,"practical":3}`},
	{"Q2", "comparison", "baseline", "2019-07-01", 4, `{"emotional":3}`},
	{"Q2", "comparison", "follow_up", "2020-01-20", 1, `{"emotional":1}`},
	{"Q3", "comparison", "baseline", "2019-08-01", 1, `{"emotional":1}`},
	{"Q3", "comparison", "follow_up", "2020-02-01", 2, `{"emotional":2}`},
}

// practiceSeed: a new-format summary for Q1 (two tools, two objectives) and
// an old-format one for Q2 (one tool).
var practiceSeed = []struct{ child, version, answers string }{
	{"Q1", "2", `{"started_on":"2019-05-01","ended_on":"2019-12-01","tools_used":["genogram","ask_family"],
		"connections_identified":10,"connections_retained":9,"route":"fgc","fgc_attendees":12,"outcomes":["direct_contact"],
		"objectives":[{"category":"siblings","met":true},{"category":"mother","met":false,"description":"Find Mum"}]}`},
	{"Q2", "1", `{"started_on":"2018-05-01","tools_used":["genogram"],"connections_identified":5,"connections_retained":5,"route":"plan_without_fgc"}`},
}

type description struct {
	N      int      `json:"n"`
	Mean   *float64 `json:"mean"`
	SD     *float64 `json:"sd"`
	Median *float64 `json:"median"`
}

type pairedReport struct {
	Pairs       int `json:"pairs"`
	Wave        int `json:"wave"`
	NetworkSize struct {
		Baseline description `json:"baseline"`
		FollowUp description `json:"follow_up"`
		Change   description `json:"change"`
	} `json:"network_size"`
}

type practiceReport struct {
	Cases int `json:"cases"`
	Tools struct {
		Base  int `json:"base"`
		Total struct {
			Counts    map[string]int `json:"counts"`
			MeanTools *float64       `json:"mean_tools"`
		} `json:"total"`
		Percent map[string]*float64 `json:"percent"`
	} `json:"tools"`
}

// fixed is how the dashboard writes a number: d decimals, or a dash.
func fixed(x *float64, d int) string {
	if x == nil {
		return "–"
	}
	return fmt.Sprintf("%.*f", d, *x)
}

// pct is how the dashboard writes a percentage: rounded, or a dash.
func pct(x *float64) string {
	if x == nil {
		return "–"
	}
	return fmt.Sprintf("%d%%", int(*x+0.5))
}

// readPaired is #paired-size, row label → cells (n, mean, SD, median).
const readPaired = `Object.fromEntries([...document.querySelectorAll('#paired-size tbody tr')].map((tr) =>
  [tr.querySelector('th').textContent.trim(), [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())]))`

// readTable2Total is #table2's total row, column heading → cell.
const readTable2Total = `(() => {
  const heads = [...document.querySelectorAll('#table2 thead th')].map((th) => th.textContent.trim());
  const cells = [...document.querySelectorAll('#table2 tfoot tr th, #table2 tfoot tr td')].map((c) => c.textContent.trim());
  return Object.fromEntries(heads.map((h, i) => [h, cells[i]]));
})()`

// practiceToolLabels are the tool codes' labels in the newest practice
// summary definition, as the dashboard heads its columns.
func practiceToolLabels(t *testing.T, s *server) map[string]string {
	t.Helper()
	var def struct {
		CodeLists struct {
			Tool []struct{ Code, Label string } `json:"tool"`
		} `json:"code_lists"`
	}
	s.getJSON(t, "/api/v1/forms/practice-summary/versions/2", "", &def)
	labels := map[string]string{}
	for _, c := range def.CodeLists.Tool {
		labels[c.Code] = c.Label
	}
	if len(labels) == 0 {
		t.Fatal("the practice summary definition has no tool labels")
	}
	return labels
}

func TestBrowser_DashboardShowsPairedAndPractice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	made := map[string]bool{}
	for _, r := range pairedSeed {
		if !made[r.child] {
			s.createChild(t, r.child, r.group)
			made[r.child] = true
		}
		var people []string
		for i := range r.people {
			people = append(people, fmt.Sprintf(`{"name":"N%d","relationship":"friend"}`, i))
		}
		body := fmt.Sprintf(`{"form":"sct","version":"1","child_id":%q,"timepoint":%q,"completed_on":%q,"mode":"paper","status":"submitted","answers":{"nominees":[%s],"adequacy":%s}}`,
			r.child, r.timepoint, r.completed, strings.Join(people, ","), r.adequacy)
		s.mustDo(t, "PUT", "/api/v1/responses/"+uuid.NewString(), body, "coord", 201)
	}
	for _, x := range practiceSeed {
		body := fmt.Sprintf(`{"form":"practice-summary","version":%q,"child_id":%q,"completed_on":"2019-12-02","mode":"online","status":"submitted","answers":%s}`,
			x.version, x.child, x.answers)
		s.mustDo(t, "PUT", "/api/v1/responses/"+uuid.NewString(), body, "coord", 201)
	}

	var paired pairedReport
	s.getJSON(t, "/api/v1/summaries/sct/paired", "evaluator", &paired)
	ns := paired.NetworkSize
	if paired.Pairs != 3 || ns.Baseline.N != 3 || fixed(ns.Baseline.Mean, 1) != "2.7" || fixed(ns.FollowUp.Median, 1) != "2.0" || fixed(ns.Change.Median, 1) != "1.0" {
		t.Fatalf("the API's paired summary: %d pairs, baseline n %d mean %s, follow-up median %s, change median %s; the seed makes 3, 3, 2.7, 2.0 and 1.0",
			paired.Pairs, ns.Baseline.N, fixed(ns.Baseline.Mean, 1), fixed(ns.FollowUp.Median, 1), fixed(ns.Change.Median, 1))
	}
	var practice practiceReport
	s.getJSON(t, "/api/v1/summaries/practice", "evaluator", &practice)
	if practice.Cases != 2 || practice.Tools.Base != 2 || practice.Tools.Total.Counts["genogram"] != 2 {
		t.Fatalf("the API's practice summary: %d cases, tools base %d, genogram %d; the seed makes 2, 2, 2",
			practice.Cases, practice.Tools.Base, practice.Tools.Total.Counts["genogram"])
	}
	toolLabel := practiceToolLabels(t, s)

	p := newPhone(ctx, t)
	p.signIn(s.base, evalEmail)
	p.heading("Social Connections Tool: baseline and follow-up")
	p.waitFor("the paired and practice tables", `document.querySelector('#paired-size tbody tr') !== null && document.querySelector('#table2 tfoot tr') !== null`)
	p.check("dashboard")

	// Worked by hand from practiceSeed: 10 and 5 connections found, 9 and
	// 5 kept; 12 at Q1's conference; Q1 took 214 days (7.0 months).
	t.Run("connections, conferences and time", func(t *testing.T) {
		rows := eval[map[string]string](p, `Object.fromEntries([...document.querySelectorAll('#connections tbody tr')].map((r) => [r.cells[0].textContent, [...r.cells].slice(1).map((c) => c.textContent).join(' | ')]))`)
		for label, want := range map[string]string{
			"Connections found":                     "2 | 15 (mean 7.5) | 5 to 10",
			"Connections kept, of those found":      "2 | 14 of 15 (93%) | ",
			"People at the family group conference": "1 | mean 12.0 (SD –) | 12 to 12",
			"Months to completion":                  "1 | mean 7.0 | 7.0 to 7.0",
		} {
			if got := rows[label]; got != want {
				t.Errorf("%s: the dashboard shows %q, want %q", label, got, want)
			}
		}
	})

	t.Run("paired", func(t *testing.T) {
		title := eval[string](p, `document.getElementById('paired-title').textContent`)
		if want := fmt.Sprintf("The same children at baseline and follow-up %d: %d pairs", paired.Wave, paired.Pairs); title != want {
			t.Errorf("the paired section is titled %q, want %q", title, want)
		}
		shown := eval[map[string][]string](p, readPaired)
		rows := map[string]description{"Baseline": ns.Baseline, fmt.Sprintf("Follow-up %d", paired.Wave): ns.FollowUp, "Change": ns.Change}
		for label, d := range rows {
			want := []string{fmt.Sprint(d.N), fixed(d.Mean, 1), fixed(d.SD, 1), fixed(d.Median, 1)}
			if got := shown[label]; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("#paired-size row %q shows n, mean, SD, median %q; the API says %q", label, got, want)
			}
		}
		if len(shown) != len(rows) {
			t.Errorf("#paired-size has rows %v, want %d", shown, len(rows))
		}
	})

	t.Run("table 2", func(t *testing.T) {
		shown := eval[map[string]string](p, readTable2Total)
		tools := practice.Tools
		want := map[string]string{"Site": "Total", "Cases": fmt.Sprint(tools.Base), "Mean tools": fixed(tools.Total.MeanTools, 2)}
		for code, n := range tools.Total.Counts {
			label, ok := toolLabel[code]
			if !ok {
				label = code
			}
			want[label] = fmt.Sprintf("%d (%s)", n, pct(tools.Percent[code]))
		}
		if fmt.Sprint(shown) != fmt.Sprint(want) {
			t.Errorf("#table2's total row shows\n  %v\nthe API says\n  %v", shown, want)
		}
		// A spot check that the comparison means something: both cases
		// drew a genogram.
		if g := shown[toolLabel["genogram"]]; g != "2 (100%)" {
			t.Errorf("#table2 total for %s is %q, want 2 (100%%)", toolLabel["genogram"], g)
		}
	})

	t.Run("download", func(t *testing.T) {
		dir := t.TempDir()
		// The iterators end with waitCtx, so a download that never comes
		// fails the test rather than hanging it.
		waitCtx, stop := context.WithTimeout(p.ctx, 2*stepTimeout)
		defer stop()
		began := chromedp.Events(waitCtx, browser.DownloadWillBegin)
		progress := chromedp.Events(waitCtx, browser.DownloadProgress)
		p.do("allow downloads", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true),
			})
			return err
		}))
		p.clickButton("sct_wide.csv")
		p.waitFor("the page to say the file was downloaded", `document.querySelector('#downloads-title')?.parentElement.querySelector('[role=status]')?.textContent === 'sct_wide.csv downloaded.'`)
		p.check("downloaded")

		var name string
		for ev, err := range began {
			if err != nil {
				t.Fatalf("no download began: %v", err)
			}
			name = ev.SuggestedFilename
			break
		}
		if name != "sct_wide.csv" {
			t.Errorf("the browser saved the download as %q, want sct_wide.csv", name)
		}
		var file string
		for ev, err := range progress {
			if err != nil {
				t.Fatalf("the download did not finish: %v", err)
			}
			if ev.State == browser.DownloadProgressStateCompleted {
				file = filepath.Join(dir, ev.GUID)
				break
			}
			if ev.State == browser.DownloadProgressStateCanceled {
				t.Fatal("the download was cancelled")
			}
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		want := s.mustDo(t, "GET", "/api/v1/exports/sct_wide.csv", "", "evaluator", 200)
		if string(got) != string(want) || !strings.HasPrefix(string(got), "response_id,") {
			t.Errorf("the downloaded sct_wide.csv (%d bytes) differs from the API's (%d bytes):\n%.300s", len(got), len(want), got)
		}
		if rows := strings.Count(strings.TrimSpace(string(got)), "\n"); rows != len(pairedSeed) {
			t.Errorf("the downloaded sct_wide.csv has %d rows, want the %d seeded SCTs", rows, len(pairedSeed))
		}
	})

	// An access token lives 15 minutes; a dashboard left open longer must
	// still download, signing in again with the refresh token as every
	// other request of the page does. (A spoilt token stands in for an
	// expired one: the server refuses both alike.)
	t.Run("download after the access token expired", func(t *testing.T) {
		old := eval[string](p, `(() => { const s = JSON.parse(localStorage.getItem('sct.staff')); const a = s.access; s.access = 'expired'; localStorage.setItem('sct.staff', JSON.stringify(s)); return a; })()`)
		p.clickButton("sct_long.csv")
		p.waitFor("the page's answer to the download", `/sct_long.csv (downloaded|: )|Could not download sct_long.csv/.test(document.querySelector('#downloads-title')?.parentElement.querySelector('[role=status]')?.textContent || '')`)
		if status := eval[string](p, `document.querySelector('#downloads-title').parentElement.querySelector('[role=status]').textContent`); status != "sct_long.csv downloaded." {
			p.shot("download-with-expired-token")
			t.Errorf("downloading with an expired access token: the page says %q, want sct_long.csv downloaded.", status)
		}
		if now := eval[string](p, `JSON.parse(localStorage.getItem('sct.staff')).access`); now == "expired" || now == old || now == "" {
			t.Errorf("the page's access token after the download is %.20q; want a fresh one", now)
		}
	})

	// The group filter narrows the SCT tables; the practice tables and the
	// exports take no group, so choosing one must not break the page.
	t.Run("filtered by group", func(t *testing.T) {
		var llPaired pairedReport
		s.getJSON(t, "/api/v1/summaries/sct/paired?group=lifelong_links", "evaluator", &llPaired)
		if llPaired.Pairs != 1 {
			t.Fatalf("the API counts %d Lifelong Links pairs; the seed has 1", llPaired.Pairs)
		}
		// The filters folded away once applied; they open again to change.
		if open := eval[bool](p, `document.querySelector('details.filters').open`); open {
			t.Error("the filters stay open after the tables are shown")
		}
		p.click("details.filters > summary")
		p.focus("#f-group")
		p.keys("group: Lifelong Links", "l")
		if g := eval[string](p, `document.getElementById('f-group').value`); g != "lifelong_links" {
			t.Fatalf("the group filter holds %q, want lifelong_links", g)
		}
		p.clickButton("Show the tables")
		p.waitFor("the filtered tables", `document.querySelector('#tables [role=alert]') !== null || (document.getElementById('paired-title')?.textContent || '').endsWith(': 1 pair')`)
		p.check("filtered-by-group")
		if said := eval[string](p, `document.querySelector('details.filters > summary').textContent`); !strings.Contains(said, "Lifelong Links") {
			t.Errorf("the folded filters say %q; want the group chosen", said)
		}
		if alert := eval[string](p, `document.querySelector('#tables [role=alert]')?.textContent || ''`); alert != "" {
			t.Fatalf("with the group filter the dashboard says %q instead of the tables", alert)
		}
		shown := eval[map[string][]string](p, readPaired)
		if d := llPaired.NetworkSize.Baseline; fmt.Sprint(shown["Baseline"]) != fmt.Sprint([]string{fmt.Sprint(d.N), fixed(d.Mean, 1), fixed(d.SD, 1), fixed(d.Median, 1)}) {
			t.Errorf("#paired-size Baseline for Lifelong Links shows %q; the API says n %d mean %s median %s", shown["Baseline"], d.N, fixed(d.Mean, 1), fixed(d.Median, 1))
		}
		if cases := eval[string](p, `document.querySelector('#table2 tfoot td')?.textContent || ''`); cases != fmt.Sprint(practice.Tools.Base) {
			t.Errorf("#table2's total cases with the group filter: %q, want all %d (practice summaries take no group)", cases, practice.Tools.Base)
		}
		p.clickButton("participation.csv")
		p.waitFor("the page's answer to the download", `/participation.csv (downloaded)|Could not download participation.csv/.test(document.querySelector('#downloads-title')?.parentElement.querySelector('[role=status]')?.textContent || '')`)
		if status := eval[string](p, `document.querySelector('#downloads-title').parentElement.querySelector('[role=status]').textContent`); status != "participation.csv downloaded." {
			t.Errorf("downloading with the group filter: the page says %q", status)
		}
	})
}

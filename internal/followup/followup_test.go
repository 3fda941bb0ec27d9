package followup

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var today = time.Date(2020, 1, 15, 10, 0, 0, 0, time.UTC)

// By hand, with site A on 6 months and site B on 3:
//
//	C1 baseline 2019-06-14 → due 2019-12-14, before today → overdue, wave 1
//	C2 baseline 2019-07-20 → due 2020-01-20, 5 days ahead → due
//	C3 baseline 2019-09-01, follow-up 1 2019-12-01 → due 2020-06-01 → not due, wave 2
//	C4 nothing → no baseline;  C5 ceased → ceased
//	C6 (B) baseline 2019-10-20 → due 2020-01-20 → due
var children = []Child{
	{ID: "C3", Site: "A", SCTs: []SCT{{"baseline", 1, "2019-09-01"}, {"follow_up", 1, "2019-12-01"}}},
	{ID: "C5", Site: "A", Ceased: true, SCTs: []SCT{{"baseline", 1, "2019-02-01"}}},
	{ID: "C1", Site: "A", SCTs: []SCT{{"baseline", 1, "2019-06-14"}}},
	{ID: "C6", Site: "B", SCTs: []SCT{{"baseline", 1, "2019-10-20"}}},
	{ID: "C4", Site: "A"},
	{ID: "C2", Site: "A", SCTs: []SCT{{"baseline", 1, "2019-07-20"}}},
}

var months = map[string]int{"A": 6, "B": 3}

func TestList_OrdersByUrgencyWithDueDates(t *testing.T) {
	got := List(children, months, today)
	want := []struct {
		id, status, due string
		wave            int
	}{
		{"C1", Overdue, "2019-12-14", 1},
		{"C2", Due, "2020-01-20", 1},
		{"C6", Due, "2020-01-20", 1},
		{"C4", NoBaseline, "", 0},
		{"C3", NotDue, "2020-06-01", 2},
		{"C5", Ceased, "", 0},
	}
	if len(got) != len(want) {
		t.Fatalf("%d items, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.ChildID != w.id || g.Status != w.status || g.DueOn != w.due || g.NextWave != w.wave {
			t.Errorf("item %d = %+v, want %s %s due %s wave %d", i, g, w.id, w.status, w.due, w.wave)
		}
	}
}

func TestList_WindowEdges(t *testing.T) {
	tests := []struct {
		name, baseline, want string
	}{
		{"due today is due", "2019-07-15", Due},
		{"due yesterday is overdue", "2019-07-14", Overdue},
		{"due in 28 days is due", "2019-08-12", Due},
		{"due in 29 days is not yet due", "2019-08-13", NotDue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := List([]Child{{ID: "X", Site: "A", SCTs: []SCT{{"baseline", 1, tt.baseline}}}}, months, today)
			if got[0].Status != tt.want {
				t.Errorf("status %s (due %s), want %s", got[0].Status, got[0].DueOn, tt.want)
			}
		})
	}
}

func TestReturns_CountsBySiteAndTimepoint(t *testing.T) {
	items := List(children, months, today)
	records := []Record{
		{Site: "A", Form: "sct", Timepoint: "baseline", Status: "submitted", Wave: 1},
		{Site: "A", Form: "sct", Timepoint: "baseline", Status: "submitted", Wave: 1},
		{Site: "A", Form: "sct", Timepoint: "follow_up", Status: "submitted", Wave: 1},
		{Site: "A", Form: "sct", Timepoint: "follow_up", Status: "draft", Wave: 2},
		{Site: "A", Form: "practice-summary", Version: "2", Status: "submitted", Wave: 1},
		{Site: "B", Form: "sct", Timepoint: "baseline", Status: "submitted", Wave: 1},
	}
	got := Returns(map[string]int{"A": 5, "B": 1, "C": 0}, records, items)
	if len(got) != 3 || got[0].Site != "A" || got[2].Site != "C" {
		t.Fatalf("sites %+v, want A, B, C", got)
	}
	a := got[0]
	if a.Children != 5 || a.Baseline != 2 || a.FollowUp["1"] != 1 || a.Drafts != 1 || a.PracticeSummary["2"] != 1 ||
		a.DueOrOverdue != 2 || a.WithoutBaseline != 1 {
		t.Errorf("site A %+v", a)
	}
	if b := got[1]; b.Baseline != 1 || b.DueOrOverdue != 1 {
		t.Errorf("site B %+v", b)
	}
}

func TestCalendar_OneAllDayEventPerDueChild(t *testing.T) {
	var b bytes.Buffer
	if err := Calendar(&b, "SCT follow-ups, site A", List(children, months, today), today); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "BEGIN:VCALENDAR\r\n") || !strings.HasSuffix(out, "END:VCALENDAR\r\n") {
		t.Fatalf("not a calendar:\n%s", out)
	}
	if n := strings.Count(out, "BEGIN:VEVENT"); n != 4 {
		t.Errorf("%d events, want 4 (C1, C2, C3, C6)", n)
	}
	for _, want := range []string{"DTSTART;VALUE=DATE:20191214", "SUMMARY:SCT follow-up 1 due: child C1 (site A)", "X-WR-CALNAME:SCT follow-ups\\, site A", "DTSTAMP:20200115T100000Z"} {
		if !strings.Contains(out, want) {
			t.Errorf("calendar lacks %q", want)
		}
	}
	for _, l := range strings.Split(out, "\r\n") {
		if len(l) > 75 {
			t.Errorf("line longer than 75 octets: %q", l)
		}
	}
}

func TestFold_KeepsUTF8Whole(t *testing.T) {
	s := "SUMMARY:" + strings.Repeat("é", 60)
	folded := fold(s)
	if strings.ReplaceAll(folded, "\r\n ", "") != s {
		t.Errorf("unfolding gives %q", folded)
	}
	for _, part := range strings.Split(folded, "\r\n ") {
		if len(part) > 75 || !strings.HasPrefix(s[strings.Index(s, part):], part) {
			t.Errorf("bad fold part %q", part)
		}
	}
}

// Package followup works out which SCTs are due: a child's baseline, then a
// follow-up a site's interval after their last SCT, and again after each
// follow-up. It also counts each site's returns by timepoint and writes the
// due dates as an iCalendar feed. Pure Go: the caller supplies the records.
package followup

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/lifelong-links/sct/internal/catalog"
)

// Statuses of a child's next SCT.
const (
	NoBaseline = "no_baseline" // no baseline SCT submitted yet
	NotDue     = "not_due"     // the next follow-up is more than Window away
	Due        = "due"         // the next follow-up falls within Window from today
	Overdue    = "overdue"     // the due date has passed
	Ceased     = "ceased"      // the child's participation has ended: nothing due
)

// Window is how far ahead of its due date a follow-up shows as due.
const Window = 28 * 24 * time.Hour

// SCT is one submitted SCT of a child.
type SCT struct {
	Timepoint   string // baseline or follow_up
	Wave        int
	CompletedOn string // YYYY-MM-DD
}

// Child is what the due list needs to know of a child.
type Child struct {
	ID, Site, Group string
	Ceased          bool
	SCTs            []SCT
}

// Item is one child's line in the due list.
type Item struct {
	ChildID  string `json:"child_id"`
	Site     string `json:"site"`
	Group    string `json:"group"`
	Status   string `json:"status"`
	Baseline string `json:"baseline,omitempty"` // date of the baseline SCT
	LastSCT  string `json:"last_sct,omitempty"` // date of the latest SCT
	NextWave int    `json:"next_wave,omitempty"`
	DueOn    string `json:"due_on,omitempty"`
}

// List returns every child's line, overdue first, then due, by due date.
func List(children []Child, months map[string]int, today time.Time) []Item {
	out := make([]Item, 0, len(children))
	for _, c := range children {
		out = append(out, ItemFor(c, months[c.Site], today))
	}
	rank := map[string]int{Overdue: 0, Due: 1, NoBaseline: 2, NotDue: 3, Ceased: 4}
	slices.SortStableFunc(out, func(a, b Item) int {
		if rank[a.Status] != rank[b.Status] {
			return rank[a.Status] - rank[b.Status]
		}
		if a.DueOn != b.DueOn {
			return strings.Compare(a.DueOn, b.DueOn)
		}
		return strings.Compare(a.ChildID, b.ChildID)
	})
	return out
}

// ItemFor is one child's line: their status today and, once they have a
// baseline, when their next follow-up is due (months after their last SCT).
func ItemFor(c Child, months int, today time.Time) Item {
	it := Item{ChildID: c.ID, Site: c.Site, Group: c.Group}
	waves := 0
	for _, s := range c.SCTs {
		switch s.Timepoint {
		case "baseline":
			it.Baseline = s.CompletedOn
		case "follow_up":
			waves = max(waves, s.Wave)
		}
		if s.CompletedOn > it.LastSCT {
			it.LastSCT = s.CompletedOn
		}
	}
	switch {
	case c.Ceased:
		it.Status = Ceased
		return it
	case it.Baseline == "":
		it.Status = NoBaseline
		return it
	}
	last, err := time.Parse(time.DateOnly, it.LastSCT)
	if err != nil {
		it.Status = NoBaseline
		return it
	}
	due := last.AddDate(0, months, 0)
	it.NextWave, it.DueOn = waves+1, due.Format(time.DateOnly)
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	switch {
	case day.After(due):
		it.Status = Overdue
	case due.Sub(day) <= Window:
		it.Status = Due
	default:
		it.Status = NotDue
	}
	return it
}

// Counts tallies a site's statuses.
func Counts(items []Item) map[string]int {
	out := map[string]int{NoBaseline: 0, NotDue: 0, Due: 0, Overdue: 0, Ceased: 0}
	for _, it := range items {
		out[it.Status]++
	}
	return out
}

// Return is one site's returns: like the report's Table 14, but live.
type Return struct {
	Site            string         `json:"site"`
	Children        int            `json:"children"`
	Baseline        int            `json:"baseline"`
	FollowUp        map[string]int `json:"follow_up"`        // by wave
	PracticeSummary map[string]int `json:"practice_summary"` // by form version
	Drafts          int            `json:"drafts"`
	DueOrOverdue    int            `json:"due_or_overdue"`
	WithoutBaseline int            `json:"without_baseline"`
}

// Record is one response as the returns count it.
type Record struct {
	Site, Form, Version, Timepoint, Status string
	Wave                                   int
}

// Returns counts each site's submitted forms by timepoint, with the due
// list's counts beside them.
func Returns(children map[string]int, records []Record, items []Item) []Return {
	by := map[string]*Return{}
	get := func(site string) *Return {
		if by[site] == nil {
			by[site] = &Return{Site: site, FollowUp: map[string]int{}, PracticeSummary: map[string]int{}}
		}
		return by[site]
	}
	for site, n := range children {
		get(site).Children = n
	}
	for _, r := range records {
		ret := get(r.Site)
		switch {
		case r.Status != "submitted":
			ret.Drafts++
		case r.Form == catalog.SCT && r.Timepoint == "baseline":
			ret.Baseline++
		case r.Form == catalog.SCT && r.Timepoint == "follow_up":
			ret.FollowUp[fmt.Sprint(r.Wave)]++
		case r.Form == catalog.PracticeSummary:
			ret.PracticeSummary[r.Version]++
		}
	}
	for _, it := range items {
		ret := get(it.Site)
		switch it.Status {
		case Due, Overdue:
			ret.DueOrOverdue++
		case NoBaseline:
			ret.WithoutBaseline++
		}
	}
	out := make([]Return, 0, len(by))
	for _, r := range by {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Return) int { return strings.Compare(a.Site, b.Site) })
	return out
}

// Calendar writes the due and overdue follow-ups and missing baselines as an
// iCalendar feed (RFC 5545): one all-day event per child on its due date.
// Child IDs are pseudonymous; the feed carries nothing else about a child.
func Calendar(w io.Writer, name string, items []Item, now time.Time) error {
	var b strings.Builder
	line := func(s string) { b.WriteString(fold(s)); b.WriteString("\r\n") }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Lifelong Links//Social Connections Tool//EN")
	line("CALSCALE:GREGORIAN")
	line("X-WR-CALNAME:" + escape(name))
	stamp := now.UTC().Format("20060102T150405Z")
	for _, it := range items {
		if it.DueOn == "" || it.Status == Ceased {
			continue
		}
		day := strings.ReplaceAll(it.DueOn, "-", "")
		line("BEGIN:VEVENT")
		line(fmt.Sprintf("UID:sct-followup-%s-%d@lifelong-links", escape(it.ChildID), it.NextWave))
		line("DTSTAMP:" + stamp)
		line("DTSTART;VALUE=DATE:" + day)
		line("SUMMARY:" + escape(fmt.Sprintf("SCT follow-up %d due: child %s (site %s)", it.NextWave, it.ChildID, it.Site)))
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	_, err := io.WriteString(w, b.String())
	return err
}

func escape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`)
	return r.Replace(s)
}

// fold splits a content line longer than 75 octets, as RFC 5545 asks.
func fold(s string) string {
	if len(s) <= 75 {
		return s
	}
	var b strings.Builder
	for len(s) > 75 {
		cut := 75
		for cut > 0 && s[cut]&0xC0 == 0x80 { // never split a UTF-8 sequence
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
	}
	b.WriteString(s)
	return b.String()
}

// Package evaluation is the evaluators' and coordinators' service: the SCT
// summaries (Tables 3 and 4) and their paired comparisons, the practice
// tables, participation, the follow-up due list and each site's returns. It
// reads what is held in memory (the SCT sums, the practice summaries'
// inputs, the caseload) and the store; the rules of each table live in the
// summary, practice, participation and followup packages.
package evaluation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/lifelong-links/sct/internal/caseload"
	"github.com/lifelong-links/sct/internal/catalog"
	"github.com/lifelong-links/sct/internal/followup"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/participation"
	"github.com/lifelong-links/sct/internal/practice"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/summary"
	"github.com/lifelong-links/sct/internal/sums"
)

// Store is what the service reads.
type Store interface {
	sums.Source
	caseload.Source
	Sites(ctx context.Context) ([]store.Site, error)
	Site(ctx context.Context, code string) (store.Site, error)
	OnCommit(fn func(id string, next *store.Response))
	OnChildCommit(fn func(id string, next *store.Child))
	EachResponse(ctx context.Context, f store.Filter, fn func(store.Response) error) error
}

// Query holds a table's filters; empty fields match all.
type Query struct {
	Timepoint, Site, Group, Version string
	Wave                            int
	From, To                        string // completed on, inclusive, YYYY-MM-DD
}

func (q Query) filter(form string) store.Filter {
	return store.Filter{Form: form, Timepoint: q.Timepoint, Site: q.Site, Group: q.Group,
		Version: q.Version, Wave: q.Wave, From: q.From, To: q.To}
}

func (q Query) sums() summary.Query {
	return summary.Query{Timepoint: q.Timepoint, Site: q.Site, Group: q.Group, Version: q.Version, Wave: q.Wave, From: q.From, To: q.To}
}

// Service builds the tables.
type Service struct {
	store    Store
	forms    *form.Registry
	sums     *sums.Sums
	practice *sums.Practice
	caseload *caseload.Caseload
	exports  []exportPart
	now      func() time.Time
}

// New makes the service and has the SCT sums follow the store's commits.
func New(st Store, forms *form.Registry, now func() time.Time) (*Service, error) {
	if now == nil {
		now = time.Now
	}
	exports, err := exportParts(forms)
	if err != nil {
		return nil, err
	}
	m := sums.New(st, catalog.SCT, summary.SchemeOfAll(forms.Versions(catalog.SCT)))
	st.OnCommit(m.Committed)
	pv := forms.Versions(catalog.PracticeSummary)
	p := sums.NewPractice(st, catalog.PracticeSummary, practice.SchemeOf(pv[len(pv)-1]))
	st.OnCommit(p.Committed)
	cl := caseload.New(st)
	st.OnCommit(cl.Committed)
	st.OnChildCommit(cl.ChildCommitted)
	return &Service{store: st, forms: forms, sums: m, practice: p, caseload: cl, exports: exports, now: now}, nil
}

// Warm builds the SCT sums, the practice tables, the caseload and the
// paired comparison's pairs now rather than at their first read.
func (s *Service) Warm(ctx context.Context) error {
	if err := s.sums.Warm(ctx); err != nil {
		return err
	}
	if err := s.practice.Warm(ctx); err != nil {
		return err
	}
	if err := s.caseload.Warm(ctx); err != nil {
		return err
	}
	// Last: Tables 3 and 4 and the rest answer before the pairs are made.
	return s.sums.WarmPairs(ctx)
}

// CheckSums recounts the SCT summary inputs from the responses and lists
// the responses whose part the sums hold differently.
func (s *Service) CheckSums(ctx context.Context) ([]string, error) { return s.sums.Check(ctx) }

// RebuildSums builds the sums again from the responses and says how many
// responses they hold.
func (s *Service) RebuildSums(ctx context.Context) (int, error) { return s.sums.Rebuild(ctx) }

// sctScheme takes the rows of the SCT tables from a form version: the one
// asked for, or else the latest.
func (s *Service) sctScheme(version string) (summary.Scheme, error) {
	if version == "" {
		versions := s.forms.Versions(catalog.SCT)
		return summary.SchemeOf(versions[len(versions)-1]), nil
	}
	def, ok := s.forms.Get(catalog.SCT, version)
	if !ok {
		return summary.Scheme{}, &form.RequestError{Faults: []form.FieldError{{Path: "version", Reason: "is not a published version of the SCT"}}}
	}
	return summary.SchemeOf(def), nil
}

// SCT is Tables 3 and 4 at one timepoint.
func (s *Service) SCT(ctx context.Context, q Query) (summary.Report, error) {
	scheme, err := s.sctScheme(q.Version)
	if err != nil {
		return summary.Report{}, err
	}
	t, err := s.sums.Tally(ctx, q.sums())
	if err != nil {
		return summary.Report{}, err
	}
	return summary.SCT(q.Timepoint, scheme, t), nil
}

// Paired compares the same children at baseline and at one follow-up wave
// (1 unless asked); it returns the wave compared. Both SCTs of a pair must
// pass the filters. The sums keep the pairs joined and counted.
func (s *Service) Paired(ctx context.Context, q Query) (summary.PairedReport, int, error) {
	scheme, err := s.sctScheme(q.Version)
	if err != nil {
		return summary.PairedReport{}, 0, err
	}
	wave := q.Wave
	if wave == 0 {
		wave = 1
	}
	r, err := s.sums.Paired(ctx, q.sums(), wave, scheme)
	return r, wave, err
}

// Practice is Tables 2, 5 and 6 and the connection and process figures
// over practice summaries of both formats.
func (s *Service) Practice(ctx context.Context, q Query) (practice.Report, error) {
	return s.practice.Report(ctx, q.sums())
}

// Participation is Table 7 for one site ("": all).
func (s *Service) Participation(ctx context.Context, site string) (participation.Table7, error) {
	return s.caseload.Table7(ctx, site)
}

// months is each site's follow-up interval.
func (s *Service) months(ctx context.Context) (map[string]int, error) {
	sites, err := s.store.Sites(ctx)
	if err != nil {
		return nil, err
	}
	months := map[string]int{}
	for _, st := range sites {
		months[st.Code] = st.FollowUpMonths
		if months[st.Code] == 0 {
			months[st.Code] = store.DefaultFollowUpMonths
		}
	}
	return months, nil
}

// monthsOf is a site's follow-up interval (the default for a site not
// registered, or registered with none): one read of the site, where a page
// of one site's due list or a child's record used to read every site.
func (s *Service) monthsOf(ctx context.Context, site string) (int, error) {
	st, err := s.store.Site(ctx, site)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.DefaultFollowUpMonths, nil
	case err != nil:
		return 0, err
	case st.FollowUpMonths > 0:
		return st.FollowUpMonths, nil
	}
	return store.DefaultFollowUpMonths, nil
}

// FollowUps is a page of the due list of a site: who is due an SCT,
// overdue, or has no baseline, with the counts of the whole list. after is
// the Next of the page before ("": the first page). With no site it is
// every site's list (which reads every child).
func (s *Service) FollowUps(ctx context.Context, site, after string, limit int) (caseload.Page, error) {
	if site != "" {
		m, err := s.monthsOf(ctx, site)
		if err != nil {
			return caseload.Page{}, err
		}
		return s.caseload.FollowUps(ctx, site, m, s.now(), after, limit)
	}
	months, err := s.months(ctx)
	if err != nil {
		return caseload.Page{}, err
	}
	items, err := s.caseload.Items(ctx, []string{""}, months, s.now())
	if err != nil {
		return caseload.Page{}, err
	}
	return pageOf(items, after, limit)
}

// FollowUpOf is a child's line of their site's due list: whether their next
// SCT is due, and when; false for a child not registered.
func (s *Service) FollowUpOf(ctx context.Context, childID, site string) (followup.Item, bool, error) {
	m, err := s.monthsOf(ctx, site)
	if err != nil {
		return followup.Item{}, false, err
	}
	return s.caseload.Item(ctx, childID, m, s.now())
}

// pageOf pages a whole due list: after is the child ID the page before
// ended with.
func pageOf(items []followup.Item, after string, limit int) (caseload.Page, error) {
	if limit <= 0 || limit > caseload.MaxPage {
		limit = caseload.MaxPage
	}
	page := caseload.Page{Counts: followup.Counts(items), Items: []followup.Item{}}
	start := 0
	if after != "" {
		start = slices.IndexFunc(items, func(it followup.Item) bool { return it.ChildID == after }) + 1
		if start == 0 {
			return caseload.Page{}, fmt.Errorf("%w: %q", caseload.ErrBadCursor, after)
		}
	}
	end := min(len(items), start+limit)
	page.Items = append(page.Items, items[start:end]...)
	if end < len(items) {
		page.Next = items[end-1].ChildID
	}
	return page, nil
}

// Returns counts each site's submitted forms by timepoint, live.
func (s *Service) Returns(ctx context.Context, site string) ([]followup.Return, error) {
	months, err := s.months(ctx)
	if err != nil {
		return nil, err
	}
	return s.caseload.Returns(ctx, site, months, s.now())
}

// Calendar writes the follow-ups of the sites ("" among them: all) as an
// iCalendar feed.
func (s *Service) Calendar(ctx context.Context, w io.Writer, sites []string) error {
	months, err := s.months(ctx)
	if err != nil {
		return err
	}
	items, err := s.caseload.Items(ctx, sites, months, s.now())
	if err != nil {
		return err
	}
	return followup.Calendar(w, "SCT follow-ups", items, s.now())
}

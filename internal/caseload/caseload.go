// Package caseload keeps, in memory, what the follow-up due list, each
// site's returns and Table 7 are made from: every child's site, group,
// participation and submitted SCTs, and each site's count of forms by
// timepoint. Like the summary sums it is derived state, built from the
// store when first needed and kept through the store's commit hooks (on a
// shared MongoDB, also from other instances' writes read back lately), so
// that each of these reads costs about the same however many children
// there are: a site's due list is kept in due order, and its counts of
// overdue and due children are two binary searches.
package caseload

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unique"

	"github.com/lifelong-links/sct/internal/catalog"
	"github.com/lifelong-links/sct/internal/codes"
	"github.com/lifelong-links/sct/internal/followup"
	"github.com/lifelong-links/sct/internal/idmap"
	"github.com/lifelong-links/sct/internal/participation"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/sums"
)

// Source is what the caseload reads from the store.
type Source interface {
	ChildrenOfSite(ctx context.Context, site string) ([]store.Child, error)
	ResponsesOfSite(ctx context.Context, site string) ([]store.ResponseInfo, error)
	ChildrenChangedSince(ctx context.Context, since time.Time) ([]store.Child, error)
	ResponsesChangedSince(ctx context.Context, since time.Time) ([]store.ResponseInfo, error)
	ErasedSince(ctx context.Context, since time.Time) ([]string, error)
	Embedded() bool
}

// fact is a response as the caseload counts it.
type fact struct {
	child string
	kind
	completedOn string
}

// kind is what a response counts as, but for its child and day: a few
// hundred kinds cover many thousands of responses.
type kind struct {
	site, form, version, timepoint, status string
	wave                                   int
}

// heldFact is a fact as the caseload holds it for every response, in 24
// bytes: the child's id (the string their entry holds, where there is one)
// and the codes of its kind and day.
type heldFact struct {
	child     string
	kind, day uint32
}

// hold is f as held.
func (c *Caseload) hold(f fact) heldFact {
	child := f.child
	if k := c.kids[child]; k != nil {
		child = k.id // one copy of the id
	}
	return heldFact{child: child, kind: c.kinds.Code(f.kind), day: c.days.Code(f.completedOn)}
}

// unhold is the fact h holds.
func (c *Caseload) unhold(h heldFact) fact {
	return fact{child: h.child, kind: c.kinds.Value(h.kind), completedOn: c.days.Value(h.day)}
}

func factOf(r store.ResponseInfo) fact {
	return fact{child: r.ChildID, kind: kind{site: r.Site, form: r.Form, version: r.Version, timepoint: r.Timepoint,
		status: r.Status, wave: r.Wave}, completedOn: r.CompletedOn}
}

// intern is s, sharing its memory with every equal string interned: a
// caseload holds a few hundred distinct sites, forms, statuses and days
// many thousands of times over.
func intern(s string) string { return unique.Make(s).Value() }

// kid is a child as the caseload knows them.
type kid struct {
	id, site, group string
	scts            []heldSCT // submitted SCTs
	placed          place
	row             rowMarks // what they add to Table 7
	ceased          bool
	hasRow          bool
	registered      bool // known as a child, not only from an SCT
}

// rowMarks is one child's row of Table 7, each of whose counts is 0 or 1,
// in a byte: the caseload holds one for every child.
type rowMarks uint8

// marksOf is a one-child row as marks.
func marksOf(r participation.Row) rowMarks {
	var m rowMarks
	for i, n := range [...]int{r.Children, r.Participating, r.Withdrew, r.Paused, r.PlanNoFGC, r.FGC} {
		if n != 0 {
			m |= 1 << i
		}
	}
	return m
}

// row is the one-child row the marks stand for (without its site).
func (m rowMarks) row() participation.Row {
	bit := func(i int) int { return int(m>>i) & 1 }
	return participation.Row{Children: bit(0), Participating: bit(1), Withdrew: bit(2), Paused: bit(3), PlanNoFGC: bit(4), FGC: bit(5)}
}

// heldSCT is one submitted SCT of a child's, by response id. A child has a
// few, so a slice holds them in far less memory than a map would.
type heldSCT struct {
	id idmap.ID
	followup.SCT
}

// setSCT holds (or, with sct nil, forgets) a child's SCT.
func (k *kid) setSCT(response string, sct *followup.SCT) {
	id := idmap.IDOf(response)
	i := slices.IndexFunc(k.scts, func(h heldSCT) bool { return h.id == id })
	switch {
	case sct == nil && i >= 0:
		k.scts = slices.Delete(k.scts, i, i+1)
	case sct != nil && i >= 0:
		k.scts[i].SCT = *sct
	case sct != nil:
		k.scts = append(k.scts, heldSCT{id: id, SCT: *sct})
	}
}

// place is where a child stands in their site's due list.
type place struct {
	list int    // onActive, onNoBaseline or onCeased
	due  string // on the active list: when the next follow-up is due
}

const (
	offList = iota
	onActive
	onNoBaseline
	onCeased
)

// entry is a child on a site's active list, in (due, id) order.
type entry struct{ due, id string }

func (e entry) cmp(o entry) int {
	if c := strings.Compare(e.due, o.due); c != 0 {
		return c
	}
	return strings.Compare(e.id, o.id)
}

// site is one site's counts and due list.
type site struct {
	children int
	drafts   int
	baseline int
	followUp map[int]int
	practice map[string]int
	row      participation.Row
	months   int      // the interval the active list's due dates were worked out with
	active   []entry  // children with a baseline, by due date
	noBase   []string // children without a baseline, by ID
	ceased   []string // children whose participation has ended, by ID
}

// Caseload is the caseload of every site.
type Caseload struct {
	src Source
	now func() time.Time

	mu     sync.Mutex
	loaded bool
	synced time.Time
	facts  idmap.Map[heldFact] // response id → what it counts as
	kinds  codes.Table[kind]
	days   codes.Table[string]
	kids   map[string]*kid
	sites  map[string]*site

	// backlog keeps the commits made while the caseload loads, each as
	// the change it makes (called under mu).
	backlog sums.Backlog[func()]
}

// New makes the caseload; tell it of the store's commits (Committed,
// ChildCommitted) before serving.
func New(src Source) *Caseload { return &Caseload{src: src, now: time.Now} }

func (c *Caseload) siteOf(code string) *site {
	st := c.sites[code]
	if st == nil {
		st = &site{followUp: map[int]int{}, practice: map[string]int{}, months: store.DefaultFollowUpMonths}
		c.sites[code] = st
	}
	return st
}

// Committed records a committed write of a response (nil: erased). It is a
// store commit hook.
func (c *Caseload) Committed(id string, next *store.Response) {
	var f *fact
	if next != nil {
		f = &fact{child: next.ChildID, kind: kind{site: next.Site, form: next.Form, version: next.Version, timepoint: next.Timepoint,
			status: next.Status, wave: next.Wave}, completedOn: next.CompletedOn}
	}
	c.apply(func() { c.setFact(id, f) })
}

// apply makes a commit's change once loaded (until then the load reads it),
// or keeps it for the load under way (see sums.Backlog).
func (c *Caseload) apply(change func()) {
	kept, done := c.backlog.Keep(change)
	if kept {
		return
	}
	defer done()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded {
		change()
	}
}

// ChildCommitted records a committed write of a child (nil: erased). It is
// a store commit hook.
func (c *Caseload) ChildCommitted(id string, next *store.Child) {
	c.apply(func() { c.setChild(id, next) })
}

// setFact makes the counts hold what response id counts as now.
func (c *Caseload) setFact(id string, f *fact) {
	if old, ok := c.facts.Get(id); ok {
		c.count(id, c.unhold(old), -1)
		c.facts.Delete(id)
	}
	if f != nil {
		h := c.hold(*f)
		c.facts.Set(id, h)
		c.count(id, c.unhold(h), +1) // its strings the codes' copies
	}
}

// count adds (sign +1) or takes off (-1) what a response counts as.
func (c *Caseload) count(id string, f fact, sign int) {
	st := c.siteOf(f.site)
	switch {
	case f.status != store.StatusSubmitted:
		st.drafts += sign
	case f.form == catalog.SCT && f.timepoint == "baseline":
		st.baseline += sign
	case f.form == catalog.SCT && f.timepoint == "follow_up":
		st.followUp[f.wave] += sign
		if st.followUp[f.wave] == 0 {
			delete(st.followUp, f.wave)
		}
	case f.form == catalog.PracticeSummary:
		st.practice[f.version] += sign
		if st.practice[f.version] == 0 {
			delete(st.practice, f.version)
		}
	}
	if f.form != catalog.SCT || f.status != store.StatusSubmitted {
		return
	}
	k := c.kids[f.child]
	if k == nil { // an SCT read before its child (another instance's): the child comes
		k = &kid{id: f.child, site: f.site}
		c.kids[f.child] = k
	}
	c.unplace(k)
	if sign > 0 {
		k.setSCT(id, &followup.SCT{Timepoint: f.timepoint, Wave: f.wave, CompletedOn: f.completedOn})
	} else {
		k.setSCT(id, nil)
	}
	c.placeKid(k)
}

// setChild makes the caseload hold a child as they are now.
func (c *Caseload) setChild(id string, next *store.Child) {
	k := c.kids[id]
	if k != nil && k.registered {
		st := c.siteOf(k.site)
		c.unplace(k)
		st.children--
		if k.hasRow {
			st.row.Add(k.row.row(), -1)
		}
	}
	if next == nil {
		delete(c.kids, id)
		return
	}
	if k == nil {
		k = &kid{id: id}
		c.kids[id] = k
	}
	k.site, k.group, k.registered = intern(next.Site), intern(next.Group), true
	k.ceased = next.Participation != nil && next.Participation.CeasedOn != ""
	row, hasRow := participation.RowOf(*next)
	k.row, k.hasRow = marksOf(row), hasRow
	st := c.siteOf(k.site)
	st.children++
	if k.hasRow {
		st.row.Add(row, +1)
	}
	c.placeKid(k)
}

// child is what followup needs to know of a kid.
func (k *kid) child() followup.Child {
	ch := followup.Child{ID: k.id, Site: k.site, Group: k.group, Ceased: k.ceased}
	for _, s := range k.scts {
		ch.SCTs = append(ch.SCTs, s.SCT)
	}
	return ch
}

// placeFor works out where a child stands, with a site's interval.
func placeFor(k *kid, months int) place {
	if k.ceased {
		return place{list: onCeased}
	}
	it := followup.ItemFor(k.child(), months, time.Time{})
	if it.DueOn == "" {
		return place{list: onNoBaseline}
	}
	return place{list: onActive, due: it.DueOn}
}

// placeKid puts a registered child on their site's due list.
func (c *Caseload) placeKid(k *kid) {
	if !k.registered {
		return // known only from an SCT so far: placed once registered
	}
	st := c.siteOf(k.site)
	k.placed = placeFor(k, st.months)
	switch k.placed.list {
	case onActive:
		e := entry{k.placed.due, k.id}
		i, _ := slices.BinarySearchFunc(st.active, e, entry.cmp)
		st.active = slices.Insert(st.active, i, e)
	case onNoBaseline:
		i, _ := slices.BinarySearch(st.noBase, k.id)
		st.noBase = slices.Insert(st.noBase, i, k.id)
	case onCeased:
		i, _ := slices.BinarySearch(st.ceased, k.id)
		st.ceased = slices.Insert(st.ceased, i, k.id)
	}
}

// unplace takes a child off their site's due list.
func (c *Caseload) unplace(k *kid) {
	st := c.siteOf(k.site)
	switch k.placed.list {
	case onActive:
		if i, ok := slices.BinarySearchFunc(st.active, entry{k.placed.due, k.id}, entry.cmp); ok {
			st.active = slices.Delete(st.active, i, i+1)
		}
	case onNoBaseline:
		if i, ok := slices.BinarySearch(st.noBase, k.id); ok {
			st.noBase = slices.Delete(st.noBase, i, i+1)
		}
	case onCeased:
		if i, ok := slices.BinarySearch(st.ceased, k.id); ok {
			st.ceased = slices.Delete(st.ceased, i, i+1)
		}
	}
	k.placed = place{list: offList}
}

// ready loads the caseload if it is not yet and reads other instances'
// writes since it last did; it holds c.mu on return.
func (c *Caseload) ready(ctx context.Context) error {
	c.mu.Lock()
	if !c.loaded {
		// Commits made while the store is read are kept, rather than wait.
		return c.backlog.Load(&c.mu, func() bool { return c.loaded }, func() error {
			start := c.now()
			if err := c.load(ctx); err != nil {
				return err
			}
			c.loaded, c.synced = true, start
			return nil
		}, func(change func()) { change() })
	}
	if c.src.Embedded() || c.now().Sub(c.synced) < sums.CatchUpEvery {
		return nil
	}
	if err := c.catchUp(ctx); err != nil {
		c.mu.Unlock()
		return err
	}
	return nil
}

// load builds the caseload from every child and response.
func (c *Caseload) load(ctx context.Context) error {
	children, err := c.src.ChildrenOfSite(ctx, "")
	if err != nil {
		return err
	}
	responses, err := c.src.ResponsesOfSite(ctx, "")
	if err != nil {
		return err
	}
	c.facts, c.kids, c.sites = idmap.Make[heldFact](len(responses)), make(map[string]*kid, len(children)), map[string]*site{}
	for _, ch := range children {
		k := &kid{id: ch.ID, site: intern(ch.Site), group: intern(ch.Group), registered: true}
		k.ceased = ch.Participation != nil && ch.Participation.CeasedOn != ""
		row, hasRow := participation.RowOf(ch)
		k.row, k.hasRow = marksOf(row), hasRow
		c.kids[ch.ID] = k
		st := c.siteOf(ch.Site)
		st.children++
		if k.hasRow {
			st.row.Add(row, +1)
		}
	}
	for _, r := range responses {
		h := c.hold(factOf(r))
		c.facts.Set(r.ID, h)
		f := c.unhold(h) // its strings the codes' copies
		st := c.siteOf(f.site)
		switch {
		case f.status != store.StatusSubmitted:
			st.drafts++
		case f.form == catalog.SCT && f.timepoint == "baseline":
			st.baseline++
		case f.form == catalog.SCT && f.timepoint == "follow_up":
			st.followUp[f.wave]++
		case f.form == catalog.PracticeSummary:
			st.practice[f.version]++
		}
		if k := c.kids[f.child]; k != nil && f.form == catalog.SCT && f.status == store.StatusSubmitted {
			k.setSCT(r.ID, &followup.SCT{Timepoint: f.timepoint, Wave: f.wave, CompletedOn: f.completedOn})
		}
	}
	for _, k := range c.kids {
		if !k.registered {
			continue
		}
		st := c.siteOf(k.site)
		k.placed = placeFor(k, st.months)
		switch k.placed.list {
		case onActive:
			st.active = append(st.active, entry{k.placed.due, k.id})
		case onNoBaseline:
			st.noBase = append(st.noBase, k.id)
		case onCeased:
			st.ceased = append(st.ceased, k.id)
		}
	}
	for _, st := range c.sites {
		slices.SortFunc(st.active, entry.cmp)
		slices.Sort(st.noBase)
		slices.Sort(st.ceased)
	}
	return nil
}

// catchUp applies other instances' writes (MongoDB).
func (c *Caseload) catchUp(ctx context.Context) error {
	start := c.now()
	since := c.synced.Add(-sums.ClockSkew)
	children, err := c.src.ChildrenChangedSince(ctx, since)
	if err != nil {
		return err
	}
	for i := range children {
		c.setChild(children[i].ID, &children[i])
	}
	responses, err := c.src.ResponsesChangedSince(ctx, since)
	if err != nil {
		return err
	}
	for _, r := range responses {
		f := factOf(r)
		c.setFact(r.ID, &f)
	}
	gone, err := c.src.ErasedSince(ctx, since)
	if err != nil {
		return err
	}
	for _, id := range gone {
		if child, ok := strings.CutPrefix(id, store.ErasedChild("")); ok {
			c.setChild(child, nil)
		} else {
			c.setFact(id, nil)
		}
	}
	c.synced = start
	return nil
}

// Warm builds the caseload now rather than at its first read.
func (c *Caseload) Warm(ctx context.Context) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	c.mu.Unlock()
	return nil
}

// withMonths makes a site's due list follow its interval now (a site's
// interval changes seldom; its list is worked out again when it does).
func (c *Caseload) withMonths(st *site, months int) {
	if months == st.months {
		return
	}
	st.months = months
	st.active = st.active[:0]
	for _, k := range c.kids {
		if c.sites[k.site] == st && k.placed.list == onActive {
			k.placed = placeFor(k, months)
			st.active = append(st.active, entry{k.placed.due, k.id})
		}
	}
	slices.SortFunc(st.active, entry.cmp)
}

// horizon is the last due date that shows as due today; overdue is before
// today.
func horizon(today time.Time) (day, last string) {
	d := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	return d.Format(time.DateOnly), d.Add(followup.Window).Format(time.DateOnly)
}

// dueSplit is where the active list's overdue part ends and its due part
// ends.
func (st *site) dueSplit(today time.Time) (overdueEnd, dueEnd int) {
	day, last := horizon(today)
	overdueEnd, _ = slices.BinarySearchFunc(st.active, day, func(e entry, d string) int { return strings.Compare(e.due, d) })
	dueEnd, _ = slices.BinarySearchFunc(st.active, last, func(e entry, d string) int {
		if e.due <= d {
			return -1
		}
		return 1
	})
	return overdueEnd, dueEnd
}

// MaxPage is the most children one page of a due list holds.
const MaxPage = 500

// Page is one page of a site's due list.
type Page struct {
	Counts map[string]int  // the whole list's, by status
	Items  []followup.Item // the page's, in the list's order
	Next   string          // the after of the next page ("": none follows)
}

// FollowUps is a page of a site's due list (overdue first, then due, by due
// date; then those without a baseline, those not yet due and those whose
// participation has ended), starting after the position after gives ("":
// the start), with the counts of the whole list. months is the site's
// interval, today the day the list is for.
func (c *Caseload) FollowUps(ctx context.Context, code string, months int, today time.Time, after string, limit int) (Page, error) {
	if limit <= 0 || limit > MaxPage {
		limit = MaxPage
	}
	if err := c.ready(ctx); err != nil {
		return Page{}, err
	}
	defer c.mu.Unlock()
	st := c.siteOf(code)
	c.withMonths(st, months)
	overdueEnd, dueEnd := st.dueSplit(today)
	page := Page{Counts: map[string]int{
		followup.Overdue: overdueEnd, followup.Due: dueEnd - overdueEnd, followup.NoBaseline: len(st.noBase),
		followup.NotDue: len(st.active) - dueEnd, followup.Ceased: len(st.ceased),
	}}
	// The list is four runs: active[:dueEnd] (overdue and due), noBase,
	// active[dueEnd:] (not yet due), ceased. A cursor names a run and a
	// child's place in it; a day later the same place may fall in another
	// part of the list, and the page goes on from there.
	type run struct {
		kind string
		n    int
		id   func(i int) string
		key  func(i int) string
	}
	activeKey := func(i int) string { return st.active[i].due + "/" + st.active[i].id }
	runs := []run{
		{"d", dueEnd, func(i int) string { return st.active[i].id }, activeKey},
		{"n", len(st.noBase), func(i int) string { return st.noBase[i] }, func(i int) string { return st.noBase[i] }},
		{"a", len(st.active), func(i int) string { return st.active[i].id }, activeKey},
		{"c", len(st.ceased), func(i int) string { return st.ceased[i] }, func(i int) string { return st.ceased[i] }},
	}
	from := []int{0, 0, dueEnd, 0} // where each run starts
	r0, i0 := 0, 0
	if after != "" {
		kind, key, ok := strings.Cut(after, ":")
		if !ok {
			return Page{}, fmt.Errorf("%w: %q", ErrBadCursor, after)
		}
		found := false
		for r, rn := range runs {
			if rn.kind != kind {
				continue
			}
			// The first position whose key is past the cursor's.
			lo, hi := from[r], rn.n
			for lo < hi {
				mid := (lo + hi) / 2
				if rn.key(mid) <= key {
					lo = mid + 1
				} else {
					hi = mid
				}
			}
			r0, i0, found = r, lo, true
			break
		}
		if !found {
			return Page{}, fmt.Errorf("%w: %q", ErrBadCursor, after)
		}
	}
	var last string
	for r := r0; r < len(runs) && len(page.Items) < limit+1; r++ {
		start := from[r]
		if r == r0 {
			start = max(start, i0)
		}
		for i := start; i < runs[r].n && len(page.Items) < limit+1; i++ {
			if len(page.Items) == limit {
				page.Next = last
				return page, nil
			}
			k := c.kids[runs[r].id(i)]
			page.Items = append(page.Items, followup.ItemFor(k.child(), st.months, today))
			last = runs[r].kind + ":" + runs[r].key(i)
		}
	}
	if page.Items == nil {
		page.Items = []followup.Item{}
	}
	return page, nil
}

// ErrBadCursor is a cursor the caseload did not make.
var ErrBadCursor = fmt.Errorf("not a position in a due list")

// Returns counts each site's forms by timepoint ("": every site's), with
// the due list's counts beside them. months gives each site's interval.
func (c *Caseload) Returns(ctx context.Context, code string, months map[string]int, today time.Time) ([]followup.Return, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	out := []followup.Return{}
	for sc, st := range c.sites {
		if (code != "" && sc != code) || (st.children == 0 && st.drafts == 0 && st.baseline == 0 && len(st.followUp) == 0 && len(st.practice) == 0) {
			continue
		}
		m := months[sc]
		if m == 0 {
			m = store.DefaultFollowUpMonths
		}
		c.withMonths(st, m)
		_, dueEnd := st.dueSplit(today)
		ret := followup.Return{Site: sc, Children: st.children, Baseline: st.baseline, Drafts: st.drafts,
			FollowUp: map[string]int{}, PracticeSummary: map[string]int{}, DueOrOverdue: dueEnd, WithoutBaseline: len(st.noBase)}
		for w, n := range st.followUp {
			ret.FollowUp[strconv.Itoa(w)] = n
		}
		for v, n := range st.practice {
			ret.PracticeSummary[v] = n
		}
		out = append(out, ret)
	}
	slices.SortFunc(out, func(a, b followup.Return) int { return strings.Compare(a.Site, b.Site) })
	return out, nil
}

// Table7 is the report's Table 7 for one site ("": every site).
func (c *Caseload) Table7(ctx context.Context, code string) (participation.Table7, error) {
	if err := c.ready(ctx); err != nil {
		return participation.Table7{}, err
	}
	defer c.mu.Unlock()
	var rows []participation.Row
	for sc, st := range c.sites {
		if code == "" || sc == code {
			r := st.row
			r.Site = sc
			rows = append(rows, r)
		}
	}
	return participation.Table(rows), nil
}

// Item is one registered child's line of the due list, with their site's
// interval in months; false when the child is not registered.
func (c *Caseload) Item(ctx context.Context, childID string, months int, today time.Time) (followup.Item, bool, error) {
	if err := c.ready(ctx); err != nil {
		return followup.Item{}, false, err
	}
	defer c.mu.Unlock()
	k := c.kids[childID]
	if k == nil || !k.registered {
		return followup.Item{}, false, nil
	}
	return followup.ItemFor(k.child(), months, today), true, nil
}

// Items is every child's line of the due lists of the sites named ("" among
// them: every site), in the due list's order; months gives each site's
// interval. It reads every child of those sites (the calendar feed, the due
// list across sites).
func (c *Caseload) Items(ctx context.Context, codes []string, months map[string]int, today time.Time) ([]followup.Item, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	all := slices.Contains(codes, "")
	var list []followup.Child
	for _, k := range c.kids {
		if k.registered && (all || slices.Contains(codes, k.site)) {
			list = append(list, k.child())
		}
	}
	return followup.List(list, months, today), nil
}

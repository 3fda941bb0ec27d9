// Package sums keeps the SCT summary inputs added up in memory, so that
// Tables 3 and 4 add a few thousand small vectors whatever the number of
// responses.
//
// Each submitted SCT carries the inputs derived from it at submission. The
// sums hold them per bucket (one day of one form version, site, group,
// timepoint and wave) and the index adds buckets up per month. They are
// derived state: built from the durable responses when first needed, then
// kept by the store's commit hook, so a crash cannot leave them out of
// step with the responses. On a shared store (MongoDB, several instances)
// other instances write too: their writes are picked up by reading the
// responses changed lately (an indexed query) and the erasures noted since.
package sums

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/summary"
)

// Source is what the sums read from the store.
type Source interface {
	EachDerived(ctx context.Context, f store.Filter, fn func(store.Derived) error) error
	ErasedSince(ctx context.Context, since time.Time) ([]string, error)
	Response(ctx context.Context, id string) (store.Response, error)
	Embedded() bool
}

// CatchUpEvery is how often, at most, a summary reads other instances'
// writes: another instance's write shows here within it (plus the read).
const CatchUpEvery = 2 * time.Second

// clockSkew is how far instances' clocks may differ: catch-up reads back
// this much further than its last read.
const clockSkew = 10 * time.Second

// Sums holds one form's summary inputs added up.
type Sums struct {
	form string
	src  Source
	now  func() time.Time

	mu      sync.Mutex
	index   *summary.Index
	loaded  bool
	counted map[string]counting             // response id → what it adds now
	members map[summary.Key]map[string]bool // bucket → response ids in it
	synced  time.Time
}

type counting struct {
	key   summary.Key
	child string
	in    summary.Input
}

// New makes the sums of form's submitted responses, keeping the codes in
// scheme (codes outside it appear in no report). Tell it of the store's
// commits (Committed) before serving.
func New(src Source, form string, scheme summary.Scheme) *Sums {
	return &Sums{form: form, src: src, now: time.Now, index: summary.NewIndex(scheme)}
}

// Committed records a committed write (next nil: erased), once the sums are
// loaded; until then the load will read it. It is the store's commit hook.
func (m *Sums) Committed(id string, next *store.Response) {
	if next != nil && next.Form != m.form {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.loaded {
		return
	}
	var c *counting
	if next != nil {
		c = countingOfResponse(*next)
	}
	m.count(id, c)
}

// count makes the sums hold what response id adds now (nothing when c is
// nil). It is idempotent: counting the same state twice changes nothing.
func (m *Sums) count(id string, c *counting) {
	dirty := map[summary.Key]bool{}
	if old, ok := m.counted[id]; ok {
		delete(m.members[old.key], id)
		dirty[old.key] = true
		delete(m.counted, id)
	}
	if c != nil {
		m.counted[id] = *c
		if m.members[c.key] == nil {
			m.members[c.key] = map[string]bool{}
		}
		m.members[c.key][id] = true
		dirty[c.key] = true
	}
	for k := range dirty {
		var t summary.Tally
		for rid := range m.members[k] {
			t.Add(m.counted[rid].in)
		}
		if len(m.members[k]) == 0 {
			delete(m.members, k)
		}
		m.index.Set(k, t)
	}
}

func countingOfResponse(r store.Response) *counting {
	if r.Status != store.StatusSubmitted || r.Derived == nil {
		return nil
	}
	return countingOf(store.Derived{ID: r.ID, ChildID: r.ChildID, Form: r.Form, Version: r.Version, Site: r.Site, Group: r.Group,
		Timepoint: r.Timepoint, CompletedOn: r.CompletedOn, Wave: r.Wave, Inputs: r.Derived})
}

// countingOf reads what a response adds; inputs it cannot read add nothing
// (and show in Check).
func countingOf(d store.Derived) *counting {
	var in summary.Input
	if err := json.Unmarshal(d.Inputs, &in); err != nil {
		return nil
	}
	return &counting{
		key:   summary.Key{Form: d.Form, Site: d.Site, Group: d.Group, Timepoint: d.Timepoint, Version: d.Version, Wave: d.Wave, Day: d.CompletedOn},
		child: d.ChildID, in: in,
	}
}

// recount reads the inputs of the submitted responses f selects, decoding
// them on every core.
func (m *Sums) recount(ctx context.Context, f store.Filter) (map[string]counting, error) {
	f.Form = m.form
	var rows []store.Derived
	if err := m.src.EachDerived(ctx, f, func(d store.Derived) error {
		rows = append(rows, d)
		return nil
	}); err != nil {
		return nil, err
	}
	decoded := make([]*counting, len(rows))
	workers := runtime.NumCPU()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(rows); i += workers {
				decoded[i] = countingOf(rows[i])
			}
		})
	}
	wg.Wait()
	out := make(map[string]counting, len(rows))
	for i, c := range decoded {
		if c != nil {
			out[rows[i].ID] = *c
		}
	}
	return out, nil
}

// load builds the sums from every submitted response: each bucket's tally
// is added up once.
func (m *Sums) load(all map[string]counting) {
	m.counted, m.members = all, map[summary.Key]map[string]bool{}
	for id, c := range all {
		if m.members[c.key] == nil {
			m.members[c.key] = map[string]bool{}
		}
		m.members[c.key][id] = true
	}
	m.index.Reset()
	for k, ids := range m.members {
		var t summary.Tally
		for id := range ids {
			t.Add(all[id].in)
		}
		m.index.Set(k, t)
	}
}

// ready loads the sums if they are not yet, and applies other instances'
// writes made since they were last read. It holds m.mu on return.
func (m *Sums) ready(ctx context.Context) error {
	m.mu.Lock()
	if !m.loaded {
		start := m.now()
		all, err := m.recount(ctx, store.Filter{})
		if err != nil {
			m.mu.Unlock()
			return err
		}
		m.load(all)
		m.loaded, m.synced = true, start
		return nil
	}
	if err := m.catchUp(ctx); err != nil {
		m.mu.Unlock()
		return err
	}
	return nil
}

// catchUp applies other instances' writes; the embedded store has no other
// instances.
func (m *Sums) catchUp(ctx context.Context) error {
	if m.src.Embedded() || m.now().Sub(m.synced) < CatchUpEvery {
		return nil
	}
	start := m.now()
	since := m.synced.Add(-clockSkew)
	changed, err := m.recount(ctx, store.Filter{ChangedSince: since})
	if err != nil {
		return err
	}
	for id, c := range changed {
		m.count(id, &c)
	}
	gone, err := m.src.ErasedSince(ctx, since)
	if err != nil {
		return err
	}
	for _, id := range gone {
		m.count(id, nil)
	}
	m.synced = start
	return nil
}

// Warm builds the sums now rather than at the first summary: on the
// embedded store this reads every submitted SCT, so the server does it in
// the background at start.
func (m *Sums) Warm(ctx context.Context) error {
	if err := m.ready(ctx); err != nil {
		return err
	}
	m.mu.Unlock()
	return nil
}

// Tally adds up the inputs the query selects.
func (m *Sums) Tally(ctx context.Context, q summary.Query) (summary.Tally, error) {
	if err := m.ready(ctx); err != nil {
		return summary.Tally{}, err
	}
	defer m.mu.Unlock()
	q.Form = m.form
	return m.index.Tally(q), nil
}

// Each calls fn with each input the query selects, with the child and
// group it belongs to (what paired comparisons join on): one pass over the
// sums in memory.
func (m *Sums) Each(ctx context.Context, q summary.Query, fn func(childID, group string, in summary.Input)) error {
	if err := m.ready(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	q.Form = m.form
	for _, c := range m.counted {
		if q.Selects(c.key) {
			fn(c.child, c.key.Group, c.in)
		}
	}
	return nil
}

// Check recounts the inputs from the responses and lists every response
// whose contribution the sums hold differently (none when they agree). It
// reads every submitted response of the form.
func (m *Sums) Check(ctx context.Context) ([]string, error) {
	if err := m.Warm(ctx); err != nil {
		return nil, err
	}
	want, err := m.recount(ctx, store.Filter{})
	if err != nil {
		return nil, err
	}
	if err := m.ready(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var suspects []string
	for id, w := range want {
		if h, ok := m.counted[id]; !ok || fmt.Sprint(h) != fmt.Sprint(w) {
			suspects = append(suspects, id)
		}
	}
	for id := range m.counted {
		if _, ok := want[id]; !ok {
			suspects = append(suspects, id)
		}
	}
	// A write may have committed between the recount and the lock: read
	// each suspect again now, while no write can change the sums, and
	// report only what still differs.
	var diffs []string
	for _, id := range suspects {
		r, err := m.src.Response(ctx, id)
		var now *counting
		switch {
		case err == nil:
			now = countingOfResponse(r)
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
		h, held := m.counted[id]
		switch {
		case now == nil && held:
			diffs = append(diffs, "response "+id+" (no longer submitted)")
		case now != nil && (!held || fmt.Sprint(h) != fmt.Sprint(*now)):
			diffs = append(diffs, "response "+id)
		}
	}
	slices.Sort(diffs)
	return diffs, nil
}

// Rebuild drops the sums and builds them again from the responses; it
// returns how many responses they hold.
func (m *Sums) Rebuild(ctx context.Context) (int, error) {
	m.mu.Lock()
	m.loaded = false
	m.mu.Unlock()
	if err := m.ready(ctx); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	return len(m.counted), nil
}

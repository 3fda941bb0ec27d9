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

// ClockSkew is how far instances' clocks may differ: catch-up reads back
// this much further than its last read.
const ClockSkew = 10 * time.Second

// Sums holds one form's SCT summary inputs added up: a Held of the inputs
// and an index of their sums by bucket.
type Sums struct {
	*Held[summary.Input]
	index   *summary.Index
	members map[summary.Key]map[string]bool // bucket → response ids in it
	pairs   *pairs
}

// New makes the sums of form's submitted responses, keeping the codes in
// scheme (codes outside it appear in no report). Tell it of the store's
// commits (Committed) before serving.
func New(src Source, form string, scheme summary.Scheme) *Sums {
	m := &Sums{Held: NewHeld[summary.Input](src, form), index: summary.NewIndex(scheme), pairs: newPairs(scheme)}
	m.Held.changed, m.Held.loadedAll = m.changed, m.load
	return m
}

// changed keeps the buckets of a response's old and new inputs.
func (m *Sums) changed(id string, old, next *Item[summary.Input]) {
	m.pairs.changed(m.items, id, old, next)
	dirty := map[summary.Key]bool{}
	if old != nil {
		delete(m.members[old.Key], id)
		dirty[old.Key] = true
	}
	if next != nil {
		if m.members[next.Key] == nil {
			m.members[next.Key] = map[string]bool{}
		}
		m.members[next.Key][id] = true
		dirty[next.Key] = true
	}
	for k := range dirty {
		var t summary.Tally
		for rid := range m.members[k] {
			t.Add(m.items[rid].In)
		}
		if len(m.members[k]) == 0 {
			delete(m.members, k)
		}
		m.index.Set(k, t)
	}
}

// load builds the index from every submitted response: each bucket's tally
// is added up once.
func (m *Sums) load(all map[string]Item[summary.Input]) {
	m.pairs.load(all)
	m.members = map[summary.Key]map[string]bool{}
	for id, it := range all {
		if m.members[it.Key] == nil {
			m.members[it.Key] = map[string]bool{}
		}
		m.members[it.Key][id] = true
	}
	m.index.Reset()
	for k, ids := range m.members {
		var t summary.Tally
		for id := range ids {
			t.Add(all[id].In)
		}
		m.index.Set(k, t)
	}
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

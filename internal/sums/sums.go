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
	"time"

	"github.com/lifelong-links/sct/internal/idmap"
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

// Sums holds one form's SCT summary inputs added up: a Held of each
// response's inputs, packed as the index counts them, and an index of their
// sums by bucket.
type Sums struct {
	*Held[summary.Packed]
	index *summary.Index
	pairs *pairs
}

// New makes the sums of form's submitted responses, keeping the codes in
// scheme (codes outside it appear in no report). Tell it of the store's
// commits (Committed) before serving.
func New(src Source, form string, scheme summary.Scheme) *Sums {
	index := summary.NewIndex(scheme)
	held := NewHeldAs(src, form, func(inputs []byte) (summary.Packed, error) {
		var in summary.Input
		if err := json.Unmarshal(inputs, &in); err != nil {
			return summary.Packed{}, err
		}
		return index.Pack(in), nil
	})
	held.value = func(v any) (summary.Packed, bool) {
		in, ok := v.(summary.Input)
		if !ok {
			return summary.Packed{}, false
		}
		return index.Pack(in), true
	}
	m := &Sums{Held: held, index: index, pairs: newPairs(index)}
	m.Held.changed, m.Held.loadedAll = m.changed, m.load
	return m
}

// changed takes a response's old inputs out of their bucket and adds its
// new ones to theirs.
func (m *Sums) changed(id string, old, next *Item[summary.Packed]) {
	m.pairs.changed(id, old, next)
	if old != nil {
		m.index.Add(old.Key(), old.In, -1)
	}
	if next != nil {
		m.index.Add(next.Key(), next.In, 1)
	}
}

// load builds the index from every submitted response: each bucket's tally
// is added up once.
func (m *Sums) load(all *idmap.Map[Item[summary.Packed]]) {
	m.pairs.load()
	buckets := map[summary.Key][]summary.Packed{}
	for it := range all.Values() {
		k := it.Key()
		buckets[k] = append(buckets[k], it.In)
	}
	m.index.Reset()
	for k, ps := range buckets {
		m.index.SetSum(k, ps)
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

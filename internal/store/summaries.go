package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/lifelong-links/sct/internal/summary"
)

// Summary inputs are stored on each submitted response (derived once at
// submit) and added up in memory: per bucket (one day of one form version,
// site, group, timepoint and wave), then per month, so a summary adds a few
// thousand small vectors whatever the number of responses. The sums are
// derived state: built from the durable responses when first needed and
// kept on every committed write, so a crash cannot leave them out of step
// with the responses. With MongoDB other instances write too: their writes
// are picked up by reading the responses changed lately (an indexed query)
// and the erasures recorded since.
type summaries struct {
	index *summary.Index

	mu      sync.Mutex
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

// UseSummaryScheme sets the codes summaries keep (codes outside it appear in
// no report). Call it before serving.
func (s *Store) UseSummaryScheme(scheme summary.Scheme) {
	s.sums = &summaries{index: summary.NewIndex(scheme)}
}

func bucketOf(r Response) summary.Key {
	return summary.Key{Form: r.Form, Site: r.Site, Group: r.Group, Timepoint: r.Timepoint, Version: r.Version, Wave: r.Wave, Day: r.CompletedOn}
}

// count makes the sums hold what response id adds now (nothing when c is
// nil). It is idempotent: counting the same state twice changes nothing.
func (m *summaries) count(id string, c *counting) {
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

func countingOf(r Response) *counting {
	if r.Status != StatusSubmitted || r.Inputs == nil {
		return nil
	}
	return &counting{key: bucketOf(r), child: r.ChildID, in: *r.Inputs}
}

// counted records a committed write (next nil: erased) in the sums, once
// they are loaded; until then the load will read it.
func (s *Store) counted(id string, next *Response) {
	if s.sums == nil {
		return
	}
	s.sums.mu.Lock()
	defer s.sums.mu.Unlock()
	if !s.sums.loaded {
		return
	}
	var c *counting
	if next != nil {
		c = countingOf(*next)
	}
	s.sums.count(id, c)
}

// recount reads every submitted SCT's inputs.
func (s *Store) recount(ctx context.Context, q bson.D) (map[string]counting, error) {
	out := map[string]counting{}
	cur, err := s.db.Collection(collResponses).Find(ctx, q, options.Find().SetProjection(bson.D{{Key: "answers", Value: 0}}).SetBatchSize(1000))
	if err != nil {
		return nil, classify(fmt.Errorf("read summary inputs: %w", err))
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d responseDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("decode summary inputs: %w", err)
		}
		if c := countingOf(d.response()); c != nil {
			out[d.ID] = *c
		}
	}
	return out, classify(cur.Err())
}

func (s *Store) loadSums(ctx context.Context) error {
	m := s.sums
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loaded {
		return nil
	}
	start := s.now()
	all, err := s.recount(ctx, bson.D{{Key: "form", Value: "sct"}, {Key: "status", Value: StatusSubmitted}})
	if err != nil {
		return err
	}
	m.counted, m.members = map[string]counting{}, map[summary.Key]map[string]bool{}
	m.index.Reset()
	for id, c := range all {
		m.count(id, &c)
	}
	m.loaded, m.synced = true, start
	return nil
}

// catchUp applies other instances' writes (MongoDB only).
func (s *Store) catchUp(ctx context.Context) error {
	m := s.sums
	if s.embed != nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.now().Sub(m.synced) < 2*time.Second {
		return nil
	}
	start := s.now()
	since := m.synced.Add(-10 * time.Second) // instances' clocks differ a little
	changed, err := s.recount(ctx, bson.D{{Key: "form", Value: "sct"}, {Key: "updated_at", Value: bson.D{{Key: "$gte", Value: since}}}})
	if err != nil {
		return err
	}
	for id, c := range changed {
		m.count(id, &c)
	}
	cur, err := s.db.Collection(collErasures).Find(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$gte", Value: since}}}})
	if err != nil {
		return classify(fmt.Errorf("read erasures: %w", err))
	}
	var gone []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &gone); err != nil {
		return classify(fmt.Errorf("read erasures: %w", err))
	}
	for _, g := range gone {
		m.count(g.ID, nil)
	}
	m.synced = start
	return nil
}

// WarmSummaries builds the sums now rather than at the first summary: on
// the embedded store this reads every submitted SCT (about a minute per
// 100,000), so the server does it in the background at start.
func (s *Store) WarmSummaries(ctx context.Context) error {
	if s.sums == nil {
		return nil
	}
	return s.loadSums(ctx)
}

// SCTTally adds up the summary inputs the filter selects.
func (s *Store) SCTTally(ctx context.Context, f Filter) (summary.Tally, error) {
	if s.sums == nil {
		return summary.Tally{}, fmt.Errorf("summaries: no scheme set")
	}
	if err := s.loadSums(ctx); err != nil {
		return summary.Tally{}, err
	}
	if err := s.catchUp(ctx); err != nil {
		return summary.Tally{}, err
	}
	return s.sums.index.Tally(f.summaryQuery()), nil
}

// summaryQuery is the filter as the summary index reads it.
func (f Filter) summaryQuery() summary.Query {
	return summary.Query{Form: f.Form, Site: f.Site, Group: f.Group, Timepoint: f.Timepoint,
		Version: f.Version, Wave: f.Wave, From: f.From, To: f.To}
}

// eachCountedInput calls fn with each input the sums hold that f selects:
// one pass over them in memory.
func (s *Store) eachCountedInput(ctx context.Context, f Filter, fn func(childID, group string, in summary.Input)) error {
	if err := s.loadSums(ctx); err != nil {
		return err
	}
	if err := s.catchUp(ctx); err != nil {
		return err
	}
	m := s.sums
	m.mu.Lock()
	defer m.mu.Unlock()
	q := f.summaryQuery()
	for _, c := range m.counted {
		if q.Selects(c.key) {
			fn(c.child, c.key.Group, c.in)
		}
	}
	return nil
}

// CheckSummaries recounts the summary inputs from the responses and lists
// every response whose contribution the sums hold differently (none when
// they agree). It reads every submitted SCT.
func (s *Store) CheckSummaries(ctx context.Context) ([]string, error) {
	if s.sums == nil {
		return nil, fmt.Errorf("summaries: no scheme set")
	}
	if err := s.loadSums(ctx); err != nil {
		return nil, err
	}
	if err := s.catchUp(ctx); err != nil {
		return nil, err
	}
	want, err := s.recount(ctx, bson.D{{Key: "form", Value: "sct"}, {Key: "status", Value: StatusSubmitted}})
	if err != nil {
		return nil, err
	}
	m := s.sums
	m.mu.Lock()
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
		r, err := s.Response(ctx, id)
		var now *counting
		switch {
		case err == nil:
			now = countingOf(r)
		case !errors.Is(err, ErrNotFound):
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

// RebuildSummaries drops the sums and builds them again from the responses.
func (s *Store) RebuildSummaries(ctx context.Context) (int, error) {
	if s.sums == nil {
		return 0, fmt.Errorf("summaries: no scheme set")
	}
	s.sums.mu.Lock()
	s.sums.loaded = false
	s.sums.mu.Unlock()
	if err := s.loadSums(ctx); err != nil {
		return 0, err
	}
	s.sums.mu.Lock()
	defer s.sums.mu.Unlock()
	return len(s.sums.counted), nil
}

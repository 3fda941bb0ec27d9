package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/lifelong-links/sct/internal/idmap"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// mirror holds in memory what the hot paths of the embedded store look up.
// FerretDB v1 on SQLite reads and decodes a whole collection for every
// query but one by _id alone (measured: about 0.2 ms a document), so a
// lookup per request would make every request slower as data grows. The
// embedded store runs inside the server, which is its only writer (the
// account commands run while the server is stopped), so a mirror filled at
// open and kept on every write is exact. With MongoDB there is no mirror:
// its indexes answer these lookups, and other instances write too.
type mirror struct {
	mu        sync.RWMutex
	children  map[string]Child
	responses idmap.Map[struct{}] // every response id
	slots     map[string]slotHold // submitted slot → its holder
	// writing serialises the conditional replaces of one response (of the
	// responses whose ids share a stripe).
	writing [64]sync.Mutex
}

// lock holds the lock on a response's conditional replace; call what it
// returns to release it.
func (m *mirror) lock(id string) (unlock func()) {
	h := fnv.New32a()
	h.Write([]byte(id))
	mu := &m.writing[h.Sum32()%uint32(len(m.writing))]
	mu.Lock()
	return mu.Unlock
}

type slotHold struct {
	ResponseID  string
	CompletedOn string
}

// loadMirror fills the mirror at open, from SQLite directly (see
// sqlReader): through FerretDB every response would be decoded whole, about
// 4,000 a second.
func (s *Store) loadMirror(ctx context.Context) error {
	m := &mirror{children: map[string]Child{}, slots: map[string]slotHold{}}
	if err := s.sqlr.children(ctx, runtime.NumCPU(), func(c Child) { m.children[c.ID] = c }); err != nil {
		return classify(fmt.Errorf("load children: %w", err))
	}
	err := s.sqlr.slots(ctx, runtime.NumCPU(), func(id, status, slot, completedOn string) {
		m.responses.Set(id, struct{}{})
		if status == StatusSubmitted {
			m.slots[slot] = slotHold{id, completedOn}
		}
	})
	if err != nil {
		return classify(fmt.Errorf("load responses: %w", err))
	}
	s.mirror = m
	return nil
}

// knows reports whether a response id may exist: false means it surely does
// not, with no store read.
func (s *Store) knows(id string) bool {
	if s.mirror == nil || s.closed.Load() {
		return true // ask the store, which will say what is wrong
	}
	s.mirror.mu.RLock()
	defer s.mirror.mu.RUnlock()
	_, ok := s.mirror.responses.Get(id)
	return ok
}

// wrote records a committed response write in the mirror.
func (s *Store) wrote(prev *Response, next Response) {
	if s.mirror == nil {
		return
	}
	m := s.mirror
	m.mu.Lock()
	defer m.mu.Unlock()
	m.responses.Set(next.ID, struct{}{})
	if prev != nil && prev.Status == StatusSubmitted {
		if slot := toDoc(*prev).Slot; m.slots[slot].ResponseID == prev.ID {
			delete(m.slots, slot)
		}
	}
	if next.Status == StatusSubmitted {
		m.slots[toDoc(next).Slot] = slotHold{next.ID, next.CompletedOn}
	}
}

func (s *Store) mirrorChild(c Child) {
	if s.mirror != nil {
		s.mirror.mu.Lock()
		s.mirror.children[c.ID] = c
		s.mirror.mu.Unlock()
	}
}

func (s *Store) mirrorErase(childID string, responses []Response) {
	if s.mirror == nil {
		return
	}
	m := s.mirror
	m.mu.Lock()
	defer m.mu.Unlock()
	if childID != "" {
		delete(m.children, childID)
	}
	for _, r := range responses {
		m.responses.Delete(r.ID)
		if slot := toDoc(r).Slot; m.slots[slot].ResponseID == r.ID {
			delete(m.slots, slot)
		}
	}
}

func (m *mirror) child(id string) (Child, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.children[id]
	return c, ok
}

func (m *mirror) childrenOf(site string) []Child {
	m.mu.RLock()
	out := []Child{}
	for _, c := range m.children {
		if site == "" || c.Site == site {
			out = append(out, c)
		}
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b Child) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (m *mirror) slot(slot string) (slotHold, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	h, ok := m.slots[slot]
	return h, ok
}

// replaceUnderLock is replaceIfCurrent on the embedded store, which finds a
// document through an index only by _id alone (a filter on more fields
// makes FerretDB read and decode every response): the replace filters on
// _id and the condition is checked just before it, under a lock on the
// response. That is exact because this process is the embedded store's
// only writer.
func (s *Store) replaceUnderLock(ctx context.Context, d responseDoc, prev Response) (bool, error) {
	defer s.mirror.lock(d.ID)()
	var now struct {
		Revision int    `bson:"revision"`
		BodyHash string `bson:"body_hash"`
	}
	err := s.db.Collection(collResponses).FindOne(ctx, bson.D{{Key: "_id", Value: d.ID}},
		options.FindOne().SetProjection(bson.D{{Key: "revision", Value: 1}, {Key: "body_hash", Value: 1}})).Decode(&now)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && (now.Revision != prev.Revision || now.BodyHash != prev.BodyHash)) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	res, err := s.wdb.Collection(collResponses).ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, d)
	return err == nil && res.MatchedCount > 0, err
}

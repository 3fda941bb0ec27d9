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

	"github.com/lifelong-links/sct/internal/codes"
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
	responses idmap.Map[struct{}]  // every response id
	slots     map[slotKey]slotHold // submitted slot → its holder
	kinds     codes.Table[slotKind]
	days      codes.Table[string]
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

// slotKey is a submitted response's slot (see toDoc) as the mirror holds
// it: the child's id (the string the mirror's child holds, where there is
// one) and the code of its form, timepoint and wave. With its holder's
// 16-byte id and the code of its day, a slot costs the mirror about 60
// bytes in its map and no allocation of its own.
type slotKey struct {
	child string
	kind  uint32
}

// slotKind is what a slot is of, but for its child.
type slotKind struct {
	form, timepoint string
	wave            int
}

// slotHold is who holds a slot: the response, and the code of the day it
// was completed.
type slotHold struct {
	id  idmap.ID
	day uint32
}

// slotOf is the slot of a submitted response of child's, coding what it is
// of if that is new; the caller holds the write lock.
func (m *mirror) slotOf(form, child, timepoint string, wave int) slotKey {
	if c, ok := m.children[child]; ok {
		child = c.ID // the same string, held once
	}
	return slotKey{child: child, kind: m.kinds.Code(slotKind{form, timepoint, wave})}
}

// loadMirror fills the mirror at open, from SQLite directly (see
// sqlReader): through FerretDB every response would be decoded whole, about
// 4,000 a second.
func (s *Store) loadMirror(ctx context.Context) error {
	m := &mirror{children: map[string]Child{}, slots: map[slotKey]slotHold{}}
	if err := s.sqlr.children(ctx, runtime.NumCPU(), func(c Child) { m.children[c.ID] = c }); err != nil {
		return classify(fmt.Errorf("load children: %w", err))
	}
	err := s.sqlr.slots(ctx, runtime.NumCPU(), func(fa responseFacts) {
		m.responses.Set(fa.ID, struct{}{})
		if fa.Status == StatusSubmitted {
			m.slots[m.slotOf(fa.Form, fa.ChildID, fa.Timepoint, fa.Wave)] = slotHold{idmap.IDOf(fa.ID), m.days.Code(fa.CompletedOn)}
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
		m.release(*prev)
	}
	if next.Status == StatusSubmitted {
		m.slots[m.slotOf(next.Form, next.ChildID, next.Timepoint, next.Wave)] = slotHold{idmap.IDOf(next.ID), m.days.Code(next.CompletedOn)}
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
		m.release(r)
	}
}

// release frees the slot r holds, if r holds it; the caller holds the
// lock.
func (m *mirror) release(r Response) {
	if slot := m.slotOf(r.Form, r.ChildID, r.Timepoint, r.Wave); m.slots[slot].id == idmap.IDOf(r.ID) {
		delete(m.slots, slot)
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

// slot is the id of the response holding a slot and the day it was
// completed.
func (m *mirror) slot(form, child, timepoint string, wave int) (id, completedOn string, ok bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	kind, ok := m.kinds.Find(slotKind{form, timepoint, wave})
	if !ok {
		return "", "", false
	}
	h, ok := m.slots[slotKey{child: child, kind: kind}]
	if !ok {
		return "", "", false
	}
	return h.id.String(), m.days.Value(h.day), true
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

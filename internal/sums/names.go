package sums

import (
	"sync"
	"sync/atomic"

	"github.com/lifelong-links/sct/internal/summary"
)

// keyID is a summary key as two numbers: its series' (the key without its
// day) and its day's, each named once for the whole process. Many thousands
// of responses fall in a few hundred series and a few thousand days, so an
// item's key costs eight bytes and nothing for the garbage collector to
// follow, and a pair's two series eight more.
type keyID struct {
	series seriesID
	day    uint32
}

// seriesID names a series: a summary key without its day.
type seriesID uint32

var (
	seriesNames names[summary.Key]
	dayNames    names[string]
)

// idOf is k's numbers, naming its series and day if they are new.
func idOf(k summary.Key) keyID {
	day := k.Day
	k.Day = ""
	return keyID{series: seriesID(seriesNames.id(k)), day: dayNames.id(day)}
}

// Key is the summary key id names.
func (id keyID) Key() summary.Key {
	k := id.series.Key()
	k.Day = dayNames.of(id.day)
	return k
}

// Key is the series' key, with no day.
func (s seriesID) Key() summary.Key { return seriesNames.of(uint32(s)) }

// names gives each distinct value a number, once, and never forgets it: the
// values named here (series and days) are few whatever the number of
// responses. Reading a name back takes no lock.
type names[T comparable] struct {
	mu  sync.RWMutex
	ids map[T]uint32
	all atomic.Pointer[[]T]
}

// id is v's number, naming v if it is new.
func (n *names[T]) id(v T) uint32 {
	n.mu.RLock()
	id, ok := n.ids[v]
	n.mu.RUnlock()
	if ok {
		return id
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if id, ok := n.ids[v]; ok {
		return id
	}
	if n.ids == nil {
		n.ids = map[T]uint32{}
	}
	var all []T
	if p := n.all.Load(); p != nil {
		all = *p
	}
	// Appending writes past the end readers see, so they can go on
	// reading the slice they have.
	all = append(all, v)
	id = uint32(len(all) - 1)
	n.ids[v] = id
	n.all.Store(&all)
	return id
}

// of is the value named id.
func (n *names[T]) of(id uint32) T { return (*n.all.Load())[id] }

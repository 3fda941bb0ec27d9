// Package codes numbers values that the server holds many times over but
// that are few (a form's series, a day, a kind of response), so that what
// is held for every response holds a small number in their place: no
// allocation, and nothing for the garbage collector to follow.
package codes

import (
	"sync"
	"sync/atomic"
)

// Table gives each distinct value a code, once, and never forgets it: put
// only values that are few whatever the data in one. The zero Table is
// empty and ready to use, and safe for concurrent use; reading a value back
// from its code takes no lock.
type Table[T comparable] struct {
	mu   sync.RWMutex
	of   map[T]uint32
	vals atomic.Pointer[[]T]
}

// Code is v's code, giving v one if it has none.
func (t *Table[T]) Code(v T) uint32 {
	if c, ok := t.Find(v); ok {
		return c
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.of[v]; ok {
		return c
	}
	if t.of == nil {
		t.of = map[T]uint32{}
	}
	var vals []T
	if p := t.vals.Load(); p != nil {
		vals = *p
	}
	// Appending writes past the end that readers see, so they can go on
	// reading the values they have.
	vals = append(vals, v)
	c := uint32(len(vals) - 1)
	t.of[v] = c
	t.vals.Store(&vals)
	return c
}

// Find is v's code, if it has one.
func (t *Table[T]) Find(v T) (uint32, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	c, ok := t.of[v]
	return c, ok
}

// Value is the value of code c, which Code gave.
func (t *Table[T]) Value(c uint32) T { return (*t.vals.Load())[c] }

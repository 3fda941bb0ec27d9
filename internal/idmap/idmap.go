// Package idmap is a map keyed by record ids that holds the usual id, a
// canonical UUID, as its 16 bytes rather than as a string. The server keeps
// something in memory for every response it holds (what the caseload
// counts it as, whether the embedded store has it, its summary inputs); a
// string key costs a separate allocation of 48 bytes and a pointer the
// garbage collector follows on every cycle, where 16 bytes in the map's own
// table cost neither. Any other id (a test's "r1", an id written by hand)
// is kept as a string, beside them, and behaves the same.
package idmap

import (
	"bytes"
	"iter"
	"strings"

	"github.com/google/uuid"
)

// Map maps ids to values of V. The zero Map is empty and ready to use. Like
// a Go map, it is not safe for concurrent writes.
type Map[V any] struct {
	uuids map[uuid.UUID]V
	other map[string]V
}

// Make is an empty map with room for n ids.
func Make[V any](n int) Map[V] {
	return Map[V]{uuids: make(map[uuid.UUID]V, n)}
}

// asUUID is id's 16 bytes when id is a UUID in its canonical spelling
// (lowercase hexadecimal, with hyphens), which is the only spelling that
// turns back into the same string. It is read in one pass: every lookup
// of a response's state makes it.
func asUUID(id string) (u uuid.UUID, ok bool) {
	if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
		return u, false
	}
	n := 0
	for i := 0; i < 36; i += 2 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++ // the hyphen
		}
		hi, lo := nibble(id[i]), nibble(id[i+1])
		if hi < 0 || lo < 0 {
			return uuid.UUID{}, false
		}
		u[n] = byte(hi<<4 | lo)
		n++
	}
	return u, true
}

// nibble is the value of a lowercase hexadecimal digit, or -1.
func nibble(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	}
	return -1
}

// Get is the value held for id.
func (m *Map[V]) Get(id string) (V, bool) {
	if u, ok := asUUID(id); ok {
		v, ok := m.uuids[u]
		return v, ok
	}
	v, ok := m.other[id]
	return v, ok
}

// GetID is the value held for id.
func (m *Map[V]) GetID(id ID) (V, bool) {
	if id.u != (uuid.UUID{}) {
		v, ok := m.uuids[id.u]
		return v, ok
	}
	return m.Get(id.other)
}

// Set holds v for id.
func (m *Map[V]) Set(id string, v V) {
	if u, ok := asUUID(id); ok {
		if m.uuids == nil {
			m.uuids = map[uuid.UUID]V{}
		}
		m.uuids[u] = v
		return
	}
	if m.other == nil {
		m.other = map[string]V{}
	}
	m.other[id] = v
}

// Delete forgets id.
func (m *Map[V]) Delete(id string) {
	if u, ok := asUUID(id); ok {
		delete(m.uuids, u)
		return
	}
	delete(m.other, id)
}

// Len is the number of ids held.
func (m *Map[V]) Len() int { return len(m.uuids) + len(m.other) }

// Values yields every value, in no particular order, without the ids.
func (m *Map[V]) Values() iter.Seq[V] {
	return func(yield func(V) bool) {
		for _, v := range m.uuids {
			if !yield(v) {
				return
			}
		}
		for _, v := range m.other {
			if !yield(v) {
				return
			}
		}
	}
}

// All yields every id with its value, in no particular order. A UUID's id
// is spelled out again, so each costs a string.
func (m *Map[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for u, v := range m.uuids {
			if !yield(u.String(), v) {
				return
			}
		}
		for id, v := range m.other {
			if !yield(id, v) {
				return
			}
		}
	}
}

// ID is one id held as Map holds its keys: a canonical UUID as its 16
// bytes, any other id as its string. IDs are equal when their ids are, and
// one of a UUID costs no allocation.
type ID struct {
	u     uuid.UUID
	other string
}

// IDOf is id as an ID. The nil UUID is held as its string, so that the
// zero ID is the empty id.
func IDOf(id string) ID {
	if u, ok := asUUID(id); ok && u != (uuid.UUID{}) {
		return ID{u: u}
	}
	return ID{other: id}
}

// Compare orders IDs as their ids: -1, 0 or +1 as a's id is before, the
// same as or after b's. Two UUIDs compare by their bytes, which are in the
// order of their canonical spelling.
func (a ID) Compare(b ID) int {
	if a.u != (uuid.UUID{}) && b.u != (uuid.UUID{}) {
		return bytes.Compare(a.u[:], b.u[:])
	}
	return strings.Compare(a.String(), b.String())
}

// String is the id.
func (i ID) String() string {
	if i.u == (uuid.UUID{}) {
		return i.other
	}
	return i.u.String()
}

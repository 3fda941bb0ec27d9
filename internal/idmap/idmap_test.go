package idmap

import (
	"maps"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// Every spelling of an id is its own key, and All gives each back exactly
// as it was set: a UUID in another spelling (upper case, braces, no
// hyphens) is a different id from its canonical one, as it is to the store.
func TestMap_ActsAsAMapOfStrings(t *testing.T) {
	u := uuid.NewString()
	ids := []string{
		u, strings.ToUpper(u), "{" + u + "}", strings.ReplaceAll(u, "-", ""), "urn:uuid:" + u,
		"r1", "", "F58337-0000001", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", "00000000-0000-0000-0000-000000000000",
	}
	var m Map[int]
	want := map[string]int{}
	for i, id := range ids {
		m.Set(id, i)
		want[id] = i
	}
	if m.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", m.Len(), len(want))
	}
	for id, n := range want {
		if got, ok := m.Get(id); !ok || got != n {
			t.Errorf("Get(%q) = %d, %v; want %d", id, got, ok, n)
		}
	}
	if got := maps.Collect(m.All()); !maps.Equal(got, want) {
		t.Errorf("All = %v\nwant %v", got, want)
	}
	m.Delete(u)
	m.Delete("r1")
	delete(want, u)
	delete(want, "r1")
	if _, ok := m.Get(u); ok {
		t.Errorf("%q still held after Delete", u)
	}
	if got := maps.Collect(m.All()); !maps.Equal(got, want) {
		t.Errorf("after Delete, All = %v\nwant %v", got, want)
	}
}

// Against a plain map under a random mix of sets, deletes and gets, over
// ids of both kinds.
func TestMap_AgreesWithAPlainMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := make([]string, 200)
	for i := range pool {
		if i%3 == 0 {
			pool[i] = "id-" + uuid.NewString()[:i%20]
		} else {
			pool[i] = uuid.NewString()
		}
	}
	m := Make[int](10)
	plain := map[string]int{}
	for step := range 20000 {
		id := pool[rng.IntN(len(pool))]
		switch rng.IntN(3) {
		case 0:
			m.Set(id, step)
			plain[id] = step
		case 1:
			m.Delete(id)
			delete(plain, id)
		default:
			got, ok := m.Get(id)
			want, wantOK := plain[id]
			if got != want || ok != wantOK {
				t.Fatalf("step %d: Get(%q) = %d, %v; want %d, %v", step, id, got, ok, want, wantOK)
			}
		}
	}
	if m.Len() != len(plain) || !maps.Equal(maps.Collect(m.All()), plain) {
		t.Fatalf("held %d ids, want %d, or they differ", m.Len(), len(plain))
	}
}

func TestMap_AllStopsWhenAsked(t *testing.T) {
	var m Map[bool]
	for range 5 {
		m.Set(uuid.NewString(), true)
	}
	m.Set("x", true)
	n := 0
	for range m.All() {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("went on after break: %d", n)
	}
}

// An id is held as 16 bytes exactly when it is a UUID spelled as uuid
// spells one out, and then holds the bytes uuid reads: checked on UUIDs
// and on each of them with one character changed.
func TestAsUUID_IsExactlyTheCanonicalSpelling(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const chars = "0123456789abcdefABCDEF-gz{} "
	for range 2000 {
		id := uuid.NewString()
		b := []byte(id)
		b[rng.IntN(len(b))] = chars[rng.IntN(len(chars))]
		for _, s := range []string{id, string(b), string(b[:35]), string(b) + "0"} {
			u, ok := asUUID(s)
			parsed, err := uuid.Parse(s)
			canonical := err == nil && parsed.String() == s
			if ok != canonical || (ok && u != parsed) {
				t.Fatalf("asUUID(%q) = %v, %v; uuid reads it as %v, %v (canonical %v)", s, u, ok, parsed, err, canonical)
			}
		}
	}
}

// An ID reads back as the id it was made of, whatever its spelling, and
// two IDs are equal exactly when their ids are.
func TestID_ReadsBackAndComparesAsItsID(t *testing.T) {
	ids := []string{"", "r1", "0b9e5a4c-6f8e-4b7a-9d3e-2f1c0a9b8c7d", "f0000000-0000-4000-8000-000000000000", "0b9e5a4c-6f8e-4b7a-9d3e-2f1c0a9b8c7e", "0B9E5A4C-6F8E-4B7A-9D3E-2F1C0A9B8C7D",
		"00000000-0000-0000-0000-000000000000", "0b9e5a4c6f8e4b7a9d3e2f1c0a9b8c7d", "{0b9e5a4c-6f8e-4b7a-9d3e-2f1c0a9b8c7d}"}
	var m Map[int]
	for i, a := range ids {
		m.Set(a, i)
	}
	for i, a := range ids {
		if v, ok := m.GetID(IDOf(a)); !ok || v != i {
			t.Errorf("GetID(IDOf(%q)) = %d, %v; want %d", a, v, ok, i)
		}
		if got := IDOf(a).String(); got != a {
			t.Errorf("IDOf(%q) reads back as %q", a, got)
		}
		for _, b := range ids {
			if (IDOf(a) == IDOf(b)) != (a == b) {
				t.Errorf("IDOf(%q) == IDOf(%q) is %v", a, b, IDOf(a) == IDOf(b))
			}
			if got, want := IDOf(a).Compare(IDOf(b)), strings.Compare(a, b); got != want {
				t.Errorf("IDOf(%q).Compare(IDOf(%q)) = %d, want %d", a, b, got, want)
			}
		}
	}
}

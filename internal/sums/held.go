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

	"github.com/lifelong-links/sct/internal/idmap"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/summary"
)

// Held holds the derived inputs of one form's submitted responses, decoded,
// in memory: loaded from the store when first needed, kept by the store's
// commit hook, and on a shared store (MongoDB) caught up with other
// instances' writes. What is built on them (the SCT sums' index) follows
// through the changed and loaded functions.
type Held[T any] struct {
	form   string
	src    Source
	now    func() time.Time
	decode func(inputs []byte) (T, error)
	// value is what a committed response's DerivedValue holds, when it is
	// there (false: decode its Derived instead).
	value func(v any) (T, bool)

	mu     sync.Mutex
	loaded bool
	synced time.Time
	items  idmap.Map[Item[T]] // response id → what it holds now

	// backlog keeps the commits made while the holder loads.
	backlog Backlog[heldCommit[T]]

	// changed is told, under the lock, of each change to an item once
	// loaded (old or next nil: none); loaded of a whole load.
	changed   func(id string, old, next *Item[T])
	loadedAll func(items *idmap.Map[Item[T]])
}

// heldCommit is a commit kept while the holder loads: what response id
// holds now (nil: nothing).
type heldCommit[T any] struct {
	id string
	it *Item[T]
}

// Item is one response's decoded inputs with what tables select and group
// it by, its key held as numbers (see keyID).
type Item[T any] struct {
	key   keyID
	Child string
	In    T
}

// NewItem is an item of a response with key, by child.
func NewItem[T any](key summary.Key, child string, in T) Item[T] {
	return Item[T]{key: idOf(key), Child: child, In: in}
}

// Key is what tables select and group the item by.
func (it Item[T]) Key() summary.Key { return it.key.Key() }

// NewHeld holds form's derived inputs, decoded from JSON as T.
func NewHeld[T any](src Source, form string) *Held[T] {
	h := NewHeldAs(src, form, func(inputs []byte) (T, error) {
		var in T
		err := json.Unmarshal(inputs, &in)
		return in, err
	})
	h.value = func(v any) (T, bool) {
		in, ok := v.(T)
		return in, ok
	}
	return h
}

// NewHeldAs holds form's derived inputs as decode makes them of their JSON.
func NewHeldAs[T any](src Source, form string, decode func(inputs []byte) (T, error)) *Held[T] {
	return &Held[T]{form: form, src: src, now: time.Now, decode: decode}
}

// Committed records a committed write (next nil: erased), once loaded;
// until then the load will read it, and while a load reads the store it
// is kept for the load to apply (see Backlog). It is a store commit hook.
func (h *Held[T]) Committed(id string, next *store.Response) {
	if next != nil && next.Form != h.form {
		return
	}
	var it *Item[T]
	if next != nil {
		it = h.itemOfResponse(*next)
	}
	kept, done := h.backlog.Keep(heldCommit[T]{id, it})
	if kept {
		return // the load under way applies it
	}
	defer done()
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.loaded {
		return
	}
	h.set(id, it)
}

// set makes the holder hold what response id holds now (nothing when it is
// nil). Setting the same state twice changes nothing.
func (h *Held[T]) set(id string, it *Item[T]) {
	var old *Item[T]
	if o, ok := h.items.Get(id); ok {
		old = &o
		h.items.Delete(id)
	}
	if it != nil {
		h.items.Set(id, *it)
	}
	if h.changed != nil && (old != nil || it != nil) {
		h.changed(id, old, it)
	}
}

func (h *Held[T]) itemOfResponse(r store.Response) *Item[T] {
	if r.Status != store.StatusSubmitted || r.Derived == nil {
		return nil
	}
	d := store.Derived{ID: r.ID, ChildID: r.ChildID, Form: r.Form, Version: r.Version, Site: r.Site, Group: r.Group,
		Timepoint: r.Timepoint, CompletedOn: r.CompletedOn, Wave: r.Wave, Inputs: r.Derived}
	if h.value != nil && r.DerivedValue != nil {
		if in, ok := h.value(r.DerivedValue); ok {
			return h.item(d, in)
		}
	}
	return h.itemOf(d)
}

// itemOf reads what a response holds; inputs it cannot read hold nothing
// (and show in Check).
func (h *Held[T]) itemOf(d store.Derived) *Item[T] {
	in, err := h.decode(d.Inputs)
	if err != nil {
		return nil
	}
	return h.item(d, in)
}

func (h *Held[T]) item(d store.Derived, in T) *Item[T] {
	it := NewItem(summary.Key{Form: d.Form, Site: d.Site, Group: d.Group, Timepoint: d.Timepoint,
		Version: d.Version, Wave: d.Wave, Day: d.CompletedOn}, d.ChildID, in)
	return &it
}

// recount reads the inputs of the submitted responses f selects, decoding
// them on every core.
func (h *Held[T]) recount(ctx context.Context, f store.Filter) (*idmap.Map[Item[T]], error) {
	f.Form = h.form
	var rows []store.Derived
	if err := h.src.EachDerived(ctx, f, func(d store.Derived) error {
		rows = append(rows, d)
		return nil
	}); err != nil {
		return nil, err
	}
	decoded := make([]*Item[T], len(rows))
	workers := runtime.NumCPU()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(rows); i += workers {
				decoded[i] = h.itemOf(rows[i])
			}
		})
	}
	wg.Wait()
	out := idmap.Make[Item[T]](len(rows))
	for i, it := range decoded {
		if it != nil {
			out.Set(rows[i].ID, *it)
		}
	}
	return &out, nil
}

// ready loads the holder if it is not yet, and applies other instances'
// writes made since it last read them. It holds h.mu on return.
func (h *Held[T]) ready(ctx context.Context) error {
	h.mu.Lock()
	if !h.loaded {
		// Commits made while the store is read are kept, rather than wait.
		return h.backlog.Load(&h.mu, func() bool { return h.loaded }, func() error {
			start := h.now()
			all, err := h.recount(ctx, store.Filter{})
			if err != nil {
				return err
			}
			h.items = *all
			if h.loadedAll != nil {
				h.loadedAll(all)
			}
			h.loaded, h.synced = true, start
			return nil
		}, func(c heldCommit[T]) { h.set(c.id, c.it) })
	}
	if err := h.catchUp(ctx); err != nil {
		h.mu.Unlock()
		return err
	}
	return nil
}

// catchUp applies other instances' writes; the embedded store has no other
// instances.
func (h *Held[T]) catchUp(ctx context.Context) error {
	if h.src.Embedded() || h.now().Sub(h.synced) < CatchUpEvery {
		return nil
	}
	start := h.now()
	since := h.synced.Add(-ClockSkew)
	changed, err := h.recount(ctx, store.Filter{ChangedSince: since})
	if err != nil {
		return err
	}
	for id, it := range changed.All() {
		h.set(id, &it)
	}
	gone, err := h.src.ErasedSince(ctx, since)
	if err != nil {
		return err
	}
	for _, id := range gone {
		h.set(id, nil)
	}
	h.synced = start
	return nil
}

// Warm loads the holder now rather than at its first read.
func (h *Held[T]) Warm(ctx context.Context) error {
	if err := h.ready(ctx); err != nil {
		return err
	}
	h.mu.Unlock()
	return nil
}

// Each calls fn with each item the query selects, with its response's id:
// one pass in memory.
func (h *Held[T]) Each(ctx context.Context, q summary.Query, fn func(id string, it Item[T])) error {
	if err := h.ready(ctx); err != nil {
		return err
	}
	defer h.mu.Unlock()
	q.Form = h.form
	for id, it := range h.items.All() {
		if q.Selects(it.Key()) {
			fn(id, it)
		}
	}
	return nil
}

// Check recounts the inputs from the responses and lists every response
// whose inputs are held differently (none when they agree). It reads every
// submitted response of the form.
func (h *Held[T]) Check(ctx context.Context) ([]string, error) {
	if err := h.Warm(ctx); err != nil {
		return nil, err
	}
	want, err := h.recount(ctx, store.Filter{})
	if err != nil {
		return nil, err
	}
	if err := h.ready(ctx); err != nil {
		return nil, err
	}
	defer h.mu.Unlock()
	var suspects []string
	for id, w := range want.All() {
		if held, ok := h.items.Get(id); !ok || fmt.Sprint(held) != fmt.Sprint(w) {
			suspects = append(suspects, id)
		}
	}
	for id := range h.items.All() {
		if _, ok := want.Get(id); !ok {
			suspects = append(suspects, id)
		}
	}
	// A write may have committed between the recount and the lock: read
	// each suspect again now, while no write can change what is held, and
	// report only what still differs.
	var diffs []string
	for _, id := range suspects {
		r, err := h.src.Response(ctx, id)
		var now *Item[T]
		switch {
		case err == nil:
			now = h.itemOfResponse(r)
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
		held, ok := h.items.Get(id)
		switch {
		case now == nil && ok:
			diffs = append(diffs, "response "+id+" (no longer submitted)")
		case now != nil && (!ok || fmt.Sprint(held) != fmt.Sprint(*now)):
			diffs = append(diffs, "response "+id)
		}
	}
	slices.Sort(diffs)
	return diffs, nil
}

// Rebuild drops what is held and loads it again from the responses; it
// returns how many responses are held.
func (h *Held[T]) Rebuild(ctx context.Context) (int, error) {
	h.mu.Lock()
	h.loaded = false
	h.mu.Unlock()
	if err := h.ready(ctx); err != nil {
		return 0, err
	}
	defer h.mu.Unlock()
	return h.items.Len(), nil
}

package sums

import "sync"

// Backlog keeps the commits that arrive while a holder loads, so that a
// write never waits for a load (at 100,000 responses a load takes seconds,
// and every submission's commit hook waited on it). A commit kept is
// applied by the load once it holds what it read; one the read saw
// already changes nothing, as a holder sets what a response holds now
// rather than adding to it. A commit not kept is applied by its hook, and
// a load starts only once every such commit under way is applied, so no
// older commit is applied after a newer one kept.
type Backlog[T any] struct {
	mu       sync.Mutex
	idle     sync.Cond // signalled when applying falls to 0
	loading  bool
	applying int
	kept     []T
}

// Keep keeps a commit if a load is under way (kept). If not, the caller
// applies the commit itself and then calls done.
func (b *Backlog[T]) Keep(c T) (kept bool, done func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.loading {
		b.kept = append(b.kept, c)
		return true, nil
	}
	b.applying++
	return false, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.applying--; b.applying == 0 {
			b.idle.Broadcast()
		}
	}
}

// Start says a load is about to read the store: commits are kept from now
// on. It returns once the commits being applied by their hooks are
// applied; call it without the holder's lock, which they take.
func (b *Backlog[T]) Start() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.idle.L == nil {
		b.idle.L = &b.mu
	}
	b.loading = true
	for b.applying > 0 {
		b.idle.Wait()
	}
}

// Drain ends the load and returns the commits kept during it, oldest
// first, for the holder to apply before it lets go of its lock.
func (b *Backlog[T]) Drain() []T {
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.kept
	b.kept, b.loading = nil, false
	return kept
}

// Load is a holder's load with its backlog: called with mu held and
// returning with it held, it lets go of mu while commits being applied
// finish (Start), loads unless loaded says another reader did meanwhile,
// and applies the commits kept during the load. On an error the kept
// commits are dropped (the next load reads them) and mu is released.
func (b *Backlog[T]) Load(mu *sync.Mutex, loaded func() bool, load func() error, apply func(T)) error {
	mu.Unlock()
	b.Start()
	mu.Lock()
	if !loaded() {
		if err := load(); err != nil {
			b.Drain()
			mu.Unlock()
			return err
		}
	}
	for _, c := range b.Drain() {
		apply(c)
	}
	return nil
}

package sums_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/summary"
	"github.com/lifelong-links/sct/internal/sums"
)

// slowSource holds one response, r1, and reads it only once released.
type slowSource struct {
	reading chan struct{} // closed when the read starts
	release chan struct{}
}

func (s *slowSource) EachDerived(ctx context.Context, f store.Filter, fn func(store.Derived) error) error {
	close(s.reading)
	<-s.release
	return fn(store.Derived{ID: "r1", ChildID: "C1", Form: "f", Site: "A", Inputs: json.RawMessage(`{"v":1}`)})
}
func (s *slowSource) ErasedSince(context.Context, time.Time) ([]string, error) { return nil, nil }
func (s *slowSource) Response(context.Context, string) (store.Response, error) {
	return store.Response{}, store.ErrNotFound
}
func (s *slowSource) Embedded() bool { return true }

func revisionOf(id string, v int) *store.Response {
	return &store.Response{ID: id, ChildID: "C1", Form: "f", Site: "A", Status: store.StatusSubmitted,
		Derived: json.RawMessage(`{"v":` + string(rune('0'+v)) + `}`)}
}

// A commit made while the holder loads returns without waiting for the
// load, and what it made is held once the load is done: a new response,
// and a newer revision of one the load read.
func TestHeld_CommitsDuringALoadDoNotWaitAndAreHeld(t *testing.T) {
	src := &slowSource{reading: make(chan struct{}), release: make(chan struct{})}
	h := sums.NewHeld[map[string]int](src, "f")
	loaded := make(chan error, 1)
	go func() { loaded <- h.Warm(context.Background()) }()
	<-src.reading
	committed := make(chan struct{})
	go func() {
		h.Committed("r2", revisionOf("r2", 2))
		h.Committed("r1", revisionOf("r1", 3))
		close(committed)
	}()
	select {
	case <-committed:
	case <-time.After(10 * time.Second):
		t.Fatal("a commit waited for the load (which waits for the commit): deadlock")
	}
	close(src.release)
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	if err := h.Each(context.Background(), summary.Query{}, func(id string, it sums.Item[map[string]int]) { got[id] = it.In["v"] }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["r1"] != 3 || got["r2"] != 2 {
		t.Errorf("held %v, want r1 at its newer revision (3) and r2 (2)", got)
	}
}

// A load starts only once the commits being applied by their hooks are
// applied, so that none of them is applied after a newer one the load
// kept.
func TestBacklog_ALoadStartsAfterTheCommitsBeingApplied(t *testing.T) {
	var b sums.Backlog[int]
	kept, done := b.Keep(1)
	if kept {
		t.Fatal("a commit with no load under way was kept")
	}
	var applied atomic.Bool
	started := make(chan bool)
	go func() {
		b.Start()
		started <- applied.Load()
	}()
	time.Sleep(50 * time.Millisecond) // room for a Start that does not wait to return
	applied.Store(true)
	done()
	if !<-started {
		t.Fatal("the load started while a commit was being applied")
	}
	if kept, _ := b.Keep(2); !kept {
		t.Fatal("a commit during the load was not kept")
	}
	if got := b.Drain(); len(got) != 1 || got[0] != 2 {
		t.Errorf("drained %v, want [2]", got)
	}
	if kept, done := b.Keep(3); kept {
		t.Error("a commit after the load was kept")
	} else {
		done()
	}
}

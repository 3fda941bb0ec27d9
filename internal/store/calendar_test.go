package store_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/lifelong-links/sct/internal/logbuf"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// A calendar address holds while the account is as it was when the address
// was made: one written just after a change to the account (by a request
// under way as the change was made) does not work.
func TestCalendarToken_EndsWithAChangeToTheAccount(t *testing.T) {
	ctx := t.Context()
	s := storetest.OpenAt(t, t.TempDir(), store.Options{})
	u, err := s.CreateUser(ctx, store.User{ID: "u1", Email: "w@example.org", PasswordHash: "x", Role: "coordinator", Sites: []string{"A"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetCalendarToken(ctx, u.ID, "h1", u.SignInGen); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CalendarUser(ctx, "h1"); err != nil || got.ID != u.ID {
		t.Fatalf("before the change: %v, %v", got.ID, err)
	}
	sites := []string{"B"}
	changed, err := s.UpdateUser(ctx, u.ID, store.UserChange{Sites: sites})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CalendarUser(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the address made before the change: %v; want not found", err)
	}
	// Made for the account as it was, but written after the change.
	if err := s.SetCalendarToken(ctx, u.ID, "h2", u.SignInGen); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CalendarUser(ctx, "h2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an address made for the account before the change, written after it: %v; want not found", err)
	}
	if err := s.SetCalendarToken(ctx, u.ID, "h3", changed.SignInGen); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CalendarUser(ctx, "h3"); err != nil || got.ID != u.ID {
		t.Errorf("an address made for the account as it is now: %v, %v", got.ID, err)
	}
}

// A start on a store made before logs no warning: the collections already
// there are not made again (the embedded server logs a refusal as one).
func TestOpen_AgainWarnsOfNothing(t *testing.T) {
	dir := t.TempDir()
	first := storetest.OpenAt(t, dir, store.Options{})
	if !first.Embedded() {
		t.Skip("the collections are made only in the embedded store")
	}
	if err := first.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	var logged logbuf.Buffer
	again := storetest.OpenAt(t, dir, store.Options{Logger: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if strings.Contains(logged.String(), "level=WARN") {
		t.Errorf("opening a store made before logged warnings:\n%s", logged.String())
	}
	// Nor does a refusal the server answers for (an email taken), or the
	// close (the driver ends its sessions with a command FerretDB v1 does
	// not know): FerretDB logs every refused command as a warning.
	u := store.User{ID: "u1", Email: "w@example.org", PasswordHash: "x", Role: "coordinator", Sites: []string{"A"}}
	if _, err := again.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	u.ID = "u2"
	if _, err := again.CreateUser(t.Context(), u); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("the same email again: %v; want a conflict", err)
	}
	if err := again.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logged.String(), "level=WARN") {
		t.Errorf("a refused insert and a close logged warnings:\n%s", logged.String())
	}
}

// An account has one calendar address at most, however many are asked for at
// once: of 40 made together, exactly one works afterwards. In MongoDB mode
// half are made through a second instance on the same store.
func TestCalendarToken_OneAddressWhenManyAreMadeAtOnce(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := storetest.OpenAt(t, dir, store.Options{})
	instances := []*store.Store{s}
	if storetest.MongoDB() {
		instances = append(instances, storetest.OpenAt(t, dir, store.Options{}))
	}
	u, err := s.CreateUser(ctx, store.User{ID: "u1", Email: "w@example.org", PasswordHash: "x", Role: "coordinator", Sites: []string{"A"}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	errs := make(chan error, n)
	var start sync.WaitGroup
	start.Add(1)
	for i := range n {
		go func() {
			start.Wait()
			errs <- instances[i%len(instances)].SetCalendarToken(ctx, u.ID, fmt.Sprintf("h%02d", i), u.SignInGen)
		}()
	}
	start.Done()
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("making an address: %v", err)
		}
	}
	working := 0
	for i := range n {
		_, err := s.CalendarUser(ctx, fmt.Sprintf("h%02d", i))
		switch {
		case err == nil:
			working++
		case !errors.Is(err, store.ErrNotFound):
			t.Fatal(err)
		}
	}
	if working != 1 {
		t.Errorf("%d addresses work after %d made at once; want 1", working, n)
	}
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// cutoff is the before of every prune in these tests.
var cutoff = time.Date(2024, 3, 6, 12, 0, 0, 0, time.UTC)

const failureWindow = 15 * time.Minute

// clock is a store clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// newStoreWithClock opens a fresh embedded store that stamps and checks
// times by c; it is closed when the test ends.
func newStoreWithClock(t *testing.T, c *clock) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), storetest.Fresh(t, store.Options{
		Database: "test",
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:      c.now,
	}))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

func mustPrune(t *testing.T, s *store.Store) store.PruneResult {
	t.Helper()
	res, err := s.PruneExpired(t.Context(), cutoff, failureWindow)
	if err != nil {
		t.Fatalf("prune: %v", err)
	}
	return res
}

// prunesOnce prunes twice: the first run deletes want, the second nothing.
func prunesOnce(t *testing.T, s *store.Store, want store.PruneResult) {
	t.Helper()
	if got := mustPrune(t, s); got != want {
		t.Errorf("first prune deleted %+v, want %+v", got, want)
	}
	if got := mustPrune(t, s); got != (store.PruneResult{}) {
		t.Errorf("second prune deleted %+v, want nothing", got)
	}
}

// insertToken stores a refresh token of family expiring at expires; a spent
// one is spent a minute before it expires, as late as it could be.
func insertToken(t *testing.T, s *store.Store, c *clock, hash, family string, expires time.Time, spent bool) {
	t.Helper()
	c.set(expires.Add(-12 * time.Hour))
	if err := s.InsertRefreshToken(t.Context(), store.RefreshToken{Hash: hash, UserID: "u1", Family: family, ExpiresAt: expires}); err != nil {
		t.Fatalf("insert refresh token %s: %v", hash, err)
	}
	if spent {
		c.set(expires.Add(-time.Minute))
		if _, err := s.UseRefreshToken(t.Context(), hash); err != nil {
			t.Fatalf("spend refresh token %s: %v", hash, err)
		}
	}
}

func TestPruneExpired_DeletesRefreshTokensOnlyOfEndedSignIns(t *testing.T) {
	c := &clock{}
	s := newStoreWithClock(t, c)
	tests := []struct {
		name    string
		family  string
		expires time.Duration // from the cutoff
		spent   bool
		kept    bool
	}{
		{"an unused token that expired is deleted", "lone", -time.Minute, false, false},
		{"an unused token expiring at the cutoff is kept", "edge", 0, false, true},
		{"an unused live token is kept", "fresh", 6 * time.Hour, false, true},
		{"a spent token of an ended sign-in is deleted", "ended", -13 * time.Hour, true, false},
		{"the last token of an ended sign-in is deleted", "ended", -time.Hour, false, false},
		{"a spent expired token of a live sign-in is kept", "live", -2 * time.Hour, true, true},
		{"the current token of a live sign-in is kept", "live", 10 * time.Hour, false, true},
		{"a spent expired token is kept while its sign-in's last token is spent but unexpired", "refreshing", -3 * time.Hour, true, true},
		{"a spent unexpired token whose successor is not stored yet is kept", "refreshing", time.Hour, true, true},
		{"an expired token of a revoked sign-in is deleted", "revoked", -time.Hour, true, false},
		{"an unexpired token of a revoked sign-in is kept until it expires", "revoked", 11 * time.Hour, false, true},
	}
	wantDeleted := int64(0)
	for i, tt := range tests {
		insertToken(t, s, c, fmt.Sprint("t", i), tt.family, cutoff.Add(tt.expires), tt.spent)
		if !tt.kept {
			wantDeleted++
		}
	}
	if err := s.RevokeTokenFamily(t.Context(), "revoked"); err != nil {
		t.Fatal(err)
	}
	c.set(cutoff.Add(10 * time.Minute))

	prunesOnce(t, s, store.PruneResult{RefreshTokens: wantDeleted})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, err := s.RefreshTokenStored(t.Context(), fmt.Sprint("t", i))
			if err != nil {
				t.Fatal(err)
			}
			if kept != tt.kept {
				t.Errorf("kept = %v, want %v", kept, tt.kept)
			}
		})
	}
}

// A thief who refreshed a copied token holds the current one; the user
// presenting the spent token later must still end the sign-in, however long
// ago that token expired.
func TestPruneExpired_SpentTokenOfLiveSignInStillRevealsReuse(t *testing.T) {
	c := &clock{}
	s := newStoreWithClock(t, c)
	tests := []struct {
		name    string
		present int   // which token of the sign-in's three (the last is current)
		want    error // what presenting it answers
	}{
		{"the first token, long expired, is caught as reused", 0, store.ErrReused},
		{"the second token, expired, is caught as reused", 1, store.ErrReused},
		{"the current token still refreshes", 2, nil},
	}
	for i := range tests {
		// A sign-in refreshed twice: its first two tokens, spent, expired
		// before the cutoff; the current one lives past it.
		start := cutoff.Add(-25 * time.Hour)
		for j := range 3 {
			insertToken(t, s, c, fmt.Sprintf("f%d-t%d", i, j), fmt.Sprint("f", i), start.Add(time.Duration(11*j+12)*time.Hour), j < 2)
		}
	}
	c.set(cutoff.Add(10 * time.Minute))
	if got := mustPrune(t, s); got != (store.PruneResult{}) {
		t.Fatalf("prune deleted %+v from live sign-ins", got)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.UseRefreshToken(t.Context(), fmt.Sprintf("f%d-t%d", i, tt.present))
			if !errors.Is(err, tt.want) {
				t.Fatalf("presenting it: err = %v, want %v", err, tt.want)
			}
			if tt.want == nil {
				return
			}
			if _, err := s.UseRefreshToken(t.Context(), fmt.Sprintf("f%d-t2", i)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the current token afterwards: err = %v, want ErrNotFound (sign-in ended)", err)
			}
		})
	}
}

func TestPruneExpired_DeletesLinksExpiredOrSpentBeforeCutoff(t *testing.T) {
	c := &clock{}
	s := newStoreWithClock(t, c)
	const never = time.Duration(-1 << 63)
	tests := []struct {
		name    string
		expires time.Duration // from the cutoff
		opened  bool
		grant   time.Duration // the device grant's end, from the cutoff, if opened
		spent   time.Duration // from the cutoff; never: not spent
		kept    bool
	}{
		{"a link that expired unopened is deleted", -time.Minute, false, 0, never, false},
		{"a link that expired after opening, its device grant too, is deleted", -time.Hour, true, -time.Minute, never, false},
		{"a link that expired after opening is kept while its device grant lasts", -time.Hour, true, time.Hour, never, true},
		{"a link spent before the cutoff is deleted though unexpired", time.Hour, true, time.Hour, -30 * time.Minute, false},
		{"a link spent after the cutoff is kept", 2 * time.Hour, true, time.Hour, time.Minute, true},
		{"a link expiring at the cutoff is kept", 0, false, 0, never, true},
		{"a live unopened link is kept", 2 * time.Hour, false, 0, never, true},
		{"a live opened link is kept", 2 * time.Hour, true, time.Hour, never, true},
	}
	wantDeleted := int64(0)
	for i, tt := range tests {
		expires := cutoff.Add(tt.expires)
		c.set(expires.Add(-2 * time.Hour))
		id, code := fmt.Sprint("s", i), fmt.Sprint("code", i)
		if _, err := s.CreateSession(t.Context(), store.Session{ID: id, CodeHash: code, ChildID: "C1", Site: "A",
			ResponseID: "r" + id, Form: "sct", Version: "1", Timepoint: "baseline", Wave: 1, CreatedBy: "u1",
			ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
		if tt.opened {
			if _, err := s.OpenSession(t.Context(), code, "grant-"+id, cutoff.Add(tt.grant)); err != nil {
				t.Fatal(err)
			}
		}
		if tt.spent != never {
			c.set(cutoff.Add(tt.spent))
			if err := s.SpendSession(t.Context(), id); err != nil {
				t.Fatal(err)
			}
		}
		if !tt.kept {
			wantDeleted++
		}
	}
	c.set(cutoff.Add(10 * time.Minute))

	prunesOnce(t, s, store.PruneResult{Sessions: wantDeleted})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Session(t.Context(), fmt.Sprint("s", i))
			switch {
			case tt.kept && err != nil:
				t.Errorf("want it kept; reading it: %v", err)
			case !tt.kept && !errors.Is(err, store.ErrNotFound):
				t.Errorf("want it deleted; reading it: err = %v", err)
			}
		})
	}
}

func TestPruneExpired_DeletesFailureCountsOfClosedWindows(t *testing.T) {
	c := &clock{}
	s := newStoreWithClock(t, c)
	tests := []struct {
		name   string
		window time.Duration // its start, from the cutoff
		length time.Duration
		kept   bool
	}{
		{"a window that ended a day before the cutoff is deleted", -24 * time.Hour, failureWindow, false},
		{"a window that ended before the cutoff is deleted", -2 * failureWindow, failureWindow, false},
		{"a window ending at the cutoff is kept", -failureWindow, failureWindow, true},
		{"the open window is kept", -5 * time.Minute, failureWindow, true},
		{"an hour's window begun before a short one that ended is kept", -2 * failureWindow, time.Hour, true},
		{"an hour's window that ended is deleted", -2 * time.Hour, time.Hour, false},
	}
	wantDeleted := int64(0)
	for i, tt := range tests {
		c.set(cutoff.Add(tt.window))
		if _, err := s.CountAttempt(t.Context(), fmt.Sprint("account:", i), cutoff.Add(tt.window), tt.length, 1); err != nil {
			t.Fatal(err)
		}
		if !tt.kept {
			wantDeleted++
		}
	}
	c.set(cutoff.Add(10 * time.Minute))

	prunesOnce(t, s, store.PruneResult{Failures: wantDeleted})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := s.CountAttempt(t.Context(), fmt.Sprint("account:", i), cutoff.Add(tt.window), tt.length, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if tt.kept {
				want = 1
			}
			if n != want {
				t.Errorf("failures counted = %d, want %d", n, want)
			}
		})
	}
}

// Revoking a sign-in marks it revoked at once, tokens or none (a renewal
// under way looks for the mark after storing its token); the mark is pruned
// once it has outlived any renewal.
func TestRevokeTokenFamily_MarksTheSignInUntilPruned(t *testing.T) {
	c := &clock{}
	s := newStoreWithClock(t, c)
	c.set(cutoff.Add(-25 * time.Hour))
	if err := s.RevokeTokenFamily(t.Context(), "no tokens yet"); err != nil {
		t.Fatal(err)
	}
	revoked, err := s.FamilyRevoked(t.Context(), "no tokens yet")
	if err != nil || !revoked {
		t.Fatalf("revoked = %v, %v; want the sign-in marked revoked", revoked, err)
	}
	if revoked, err := s.FamilyRevoked(t.Context(), "another"); err != nil || revoked {
		t.Fatalf("another sign-in: revoked = %v, %v", revoked, err)
	}
	c.set(cutoff)
	prunesOnce(t, s, store.PruneResult{RefreshTokens: 1})
}

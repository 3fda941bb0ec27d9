package accounts_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// Password checks at once are at most as many as there are cores, however
// many sign-ins come together from however many addresses (each check takes
// argon2id's 19 MiB); one that waits too long for a slot is refused as busy
// and counts against no limit.
func TestLogin_ChecksFewPasswordsAtOnce(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	var now, most atomic.Int32
	gate := make(chan struct{})
	check := func(hash, password string) bool {
		n := now.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-gate
		now.Add(-1)
		return false
	}
	acc := newAccountsWith(t, accounts.Options{Store: st, RefreshTTL: time.Hour, SignInLifetime: time.Hour,
		CheckPassword: check, PasswordWait: 300 * time.Millisecond})
	slots := runtime.GOMAXPROCS(0)
	tries := 3 * slots
	errs := make(chan error, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Go(func() {
			_, err := acc.Login(t.Context(), fmt.Sprintf("someone%d@example.org", i), "a wrong password", fmt.Sprintf("192.0.2.%d", i))
			errs <- err
		})
	}
	time.Sleep(600 * time.Millisecond) // past PasswordWait: the ones without a slot gave up
	close(gate)
	wg.Wait()
	close(errs)
	busy, bad := 0, 0
	for err := range errs {
		switch {
		case errors.Is(err, accounts.ErrBusy):
			busy++
		case errors.Is(err, accounts.ErrBadLogin):
			bad++
		default:
			t.Errorf("a sign-in: %v", err)
		}
	}
	if got := int(most.Load()); got > slots {
		t.Errorf("%d password checks at once; want at most %d (the cores)", got, slots)
	}
	if bad != slots || busy != tries-slots {
		t.Errorf("%d sign-ins checked and %d refused as busy; want %d and %d", bad, busy, slots, tries-slots)
	}
	// A refusal as busy counted against no limit: the same address and
	// email may still try, and are checked.
	_, err := acc.Login(t.Context(), "someone0@example.org", "a wrong password", "192.0.2.0")
	if !errors.Is(err, accounts.ErrBadLogin) {
		t.Errorf("trying again after the rush: %v; want a checked, wrong password", err)
	}
}

package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

const limitPassword = "plum kite ox harbour"

// limitServer is the API on the fixture's store, believing the client
// address a local proxy forwards (so a test can sign in from many
// addresses), and counting the password checks it makes.
type limitServer struct {
	f      *fixture
	srv    *httptest.Server
	checks atomic.Int64
}

func newLimitServer(t *testing.T) *limitServer {
	t.Helper()
	f := newFixture(t)
	ls := &limitServer{f: f}
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	ls.srv = serveAPI(t, Deps{Forms: f.h.forms, Store: f.st, Tokens: f.h.tokens, Static: nil,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TrustedProxies: []*net.IPNet{loopback},
		CheckPassword: func(hash, pw string) bool { ls.checks.Add(1); return auth.CheckPassword(hash, pw) }})
	return ls
}

// addUser creates an account with limitPassword.
func (ls *limitServer) addUser(t *testing.T, email string, disabled bool) {
	t.Helper()
	hash, err := auth.HashPassword(limitPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ls.f.st.CreateUser(context.Background(), store.User{ID: uuid.NewString(), Email: email, PasswordHash: hash,
		Role: "coordinator", Sites: []string{"A"}, Disabled: disabled}); err != nil {
		t.Fatal(err)
	}
}

// login signs in from the given address and returns the status.
func (ls *limitServer) login(t *testing.T, from, email, password string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", ls.srv.URL+"/api/v1/auth/login", strings.NewReader(fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", from)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// waitForFreshWindow keeps a test that counts within one window clear of
// the window's end.
func waitForFreshWindow(t *testing.T, span time.Duration) {
	t.Helper()
	now := time.Now()
	if left := now.Truncate(accounts.FailureWindow).Add(accounts.FailureWindow).Sub(now); left < span {
		time.Sleep(left + 100*time.Millisecond)
	}
}

// Forty guesses sent at once for one account: at most five are checked,
// and the right password among them gets in only if it was one of those.
func TestLogin_FortyGuessesAtOnceReachTheCheckFiveTimesAtMost(t *testing.T) {
	storetest.SkipOnStandIn(t)
	waitForFreshWindow(t, 30*time.Second)
	ls := newLimitServer(t)
	ls.addUser(t, "jo@example.org", false)
	statuses := make([]int, 40)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw := fmt.Sprintf("wrong guess %d", i)
			if i == 33 {
				pw = limitPassword
			}
			<-start
			statuses[i] = ls.login(t, "203.0.113.9", "jo@example.org", pw)
		}()
	}
	close(start)
	wg.Wait()
	answered := 0
	for _, s := range statuses {
		if s != http.StatusTooManyRequests {
			answered++
		}
	}
	if n := ls.checks.Load(); n > accounts.MaxPairFailures || n < 1 || int(n) != answered {
		t.Errorf("%d password checks and %d answers other than 429 of 40 (%v); want the same number, 1 to %d",
			n, answered, statuses, accounts.MaxPairFailures)
	}
}

// A young person's codes tried at once from one address: no more than the
// address's limit are looked up.
func TestSessionCode_FortyTriesAtOnceAreCountedBeforeTheyAreTried(t *testing.T) {
	storetest.SkipOnStandIn(t)
	waitForFreshWindow(t, 30*time.Second)
	ls := newLimitServer(t)
	statuses := make(chan int, 40)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", ls.srv.URL+"/api/v1/auth/session", strings.NewReader(fmt.Sprintf(`{"code":"ABCD-%04d"}`, i)))
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	tried := 0
	for s := range statuses {
		if s == http.StatusUnauthorized {
			tried++
		}
	}
	if tried != accounts.MaxAddressFailures {
		t.Errorf("%d codes tried of 40 sent at once; want exactly %d", tried, accounts.MaxAddressFailures)
	}
}

// Every refusal spends the same work: one password check, whether the
// account is unknown, disabled, or the password wrong.
func TestLogin_EveryRefusalChecksOnePassword(t *testing.T) {
	ls := newLimitServer(t)
	ls.addUser(t, "on@example.org", false)
	ls.addUser(t, "off@example.org", true)
	for _, tc := range []struct {
		name, email, password string
		status                int
	}{
		{"an unknown email", "nobody@example.org", limitPassword, http.StatusUnauthorized},
		{"a wrong password", "on@example.org", "not the password", http.StatusUnauthorized},
		{"a disabled account with its password", "off@example.org", limitPassword, http.StatusUnauthorized},
		{"a disabled account with a wrong one", "off@example.org", "not the password", http.StatusUnauthorized},
		{"the right password", "on@example.org", limitPassword, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ls.checks.Load()
			if status := ls.login(t, "198.51.100.7", tc.email, tc.password); status != tc.status {
				t.Errorf("status %d, want %d", status, tc.status)
			}
			if n := ls.checks.Load() - before; n != 1 {
				t.Errorf("%d password checks, want 1", n)
			}
		})
	}
}

// Failures from elsewhere do not lock an owner out of their usual address,
// yet guesses against one account from everywhere stay bounded.
func TestLogin_FailuresElsewhereDoNotLockTheOwnerOut(t *testing.T) {
	waitForFreshWindow(t, 2*time.Minute)
	ls := newLimitServer(t)
	ls.addUser(t, "owner@example.org", false)
	ls.addUser(t, "colleague@example.org", false)
	const home, office = "192.0.2.10", "192.0.2.20"
	if s := ls.login(t, home, "owner@example.org", limitPassword); s != http.StatusOK {
		t.Fatalf("first sign-in: %d", s)
	}
	if s := ls.login(t, office, "colleague@example.org", limitPassword); s != http.StatusOK {
		t.Fatalf("colleague's first sign-in: %d", s)
	}

	// Guesses at the owner's account from 40 addresses, 5 each.
	before := ls.checks.Load()
	for a := range 40 {
		for g := range accounts.MaxPairFailures {
			ls.login(t, fmt.Sprintf("203.0.113.%d", a+1), "owner@example.org", fmt.Sprintf("guess %d", g))
		}
	}
	if n := ls.checks.Load() - before; n > accounts.MaxAccountFailures {
		t.Errorf("%d guesses checked from other addresses; want at most %d", n, accounts.MaxAccountFailures)
	}
	if s := ls.login(t, "203.0.113.250", "owner@example.org", limitPassword); s != http.StatusTooManyRequests {
		t.Errorf("the right password from yet another address: %d; want 429 once the account's budget is spent", s)
	}
	if s := ls.login(t, home, "owner@example.org", limitPassword); s != http.StatusOK {
		t.Errorf("the owner from home: %d; want 200", s)
	}

	// Someone in the office fails against many accounts from its address.
	for i := range accounts.MaxAddressFailures + 5 {
		ls.login(t, office, fmt.Sprintf("someone%d@example.org", i), "a guess")
	}
	if s := ls.login(t, office, "colleague@example.org", limitPassword); s != http.StatusOK {
		t.Errorf("a colleague who signs in from the office: %d; want 200", s)
	}
	if s := ls.login(t, office, "owner@example.org", limitPassword); s != http.StatusTooManyRequests {
		t.Errorf("an account never seen at the office: %d; want 429", s)
	}
}

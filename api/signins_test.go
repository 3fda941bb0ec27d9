package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/store"
)

// call sends a JSON request to base with an optional bearer token and
// decodes a JSON object answer.
func call(t *testing.T, base, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := map[string]any{}
	_ = json.Unmarshal(b, &out)
	return res.StatusCode, out
}

// A change to an account ends its access tokens at once on the instance
// that made it and within seconds on every other; and ends its calendar
// address when it changes what the account is.
func TestAccessTokens_EndWithTheAccountsStandingOnEveryInstance(t *testing.T) {
	f := newFixture(t)
	other := serveAPI(t, Deps{Forms: f.h.forms, Store: f.st, Tokens: f.h.tokens, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	hash, err := auth.HashPassword(limitPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		change      string // a PATCH body, or "" to sign out
		endCalendar bool
	}{
		{"disabled", `{"disabled":true}`, true},
		{"a new password", `{"password":"quince lantern meadow otter"}`, true},
		{"other sites", `{"sites":["B"]}`, true},
		{"another role", `{"role":"site_lead"}`, true},
		{"signed out", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			email := strings.ReplaceAll(tc.name, " ", "-") + "@example.org"
			u, err := f.st.CreateUser(context.Background(), store.User{ID: uuid.NewString(), Email: email, PasswordHash: hash, Role: "coordinator", Sites: []string{"A"}})
			if err != nil {
				t.Fatal(err)
			}
			status, signIn := call(t, f.srv.URL, "", "POST", "/api/v1/auth/login", `{"email":"`+email+`","password":"`+limitPassword+`"}`)
			if status != http.StatusOK {
				t.Fatalf("sign-in: %d %v", status, signIn)
			}
			token, refresh := signIn["access_token"].(string), signIn["refresh_token"].(string)
			_, cal := call(t, f.srv.URL, token, "POST", "/api/v1/calendar", `{}`)
			feed, _ := cal["url"].(string)
			feed = feed[strings.Index(feed, "/api/"):]
			for _, base := range []string{f.srv.URL, other.URL} {
				if status, _ := call(t, base, token, "GET", "/api/v1/auth/me", ""); status != http.StatusOK {
					t.Fatalf("before the change: %d", status)
				}
			}
			if res, err := http.Get(f.srv.URL + feed); err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("calendar before the change: %v %v", res, err)
			}

			if tc.change == "" {
				status, _ = call(t, f.srv.URL, "", "POST", "/api/v1/auth/logout", `{"refresh_token":"`+refresh+`"}`)
			} else {
				status, _ = call(t, f.srv.URL, f.tokens["admin"], "PATCH", "/api/v1/users/"+u.ID, tc.change)
			}
			if status >= 300 {
				t.Fatalf("change: %d", status)
			}
			if status, _ := call(t, f.srv.URL, token, "GET", "/api/v1/auth/me", ""); status != http.StatusUnauthorized {
				t.Errorf("on the instance that made the change: %d, want 401 at once", status)
			}
			// The other instance may still take the old token for a moment,
			// but not to make a calendar address, which would outlast it.
			if status, cal := call(t, other.URL, token, "POST", "/api/v1/calendar", `{}`); status != http.StatusUnauthorized {
				t.Errorf("a calendar asked for with the old token on another instance, at once: %d %v; want 401", status, cal)
			}
			deadline := time.Now().Add(2*accounts.LiveFor + time.Second)
			for {
				status, _ := call(t, other.URL, token, "GET", "/api/v1/auth/me", "")
				if status == http.StatusUnauthorized {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("on another instance the token still works (%d) %v after the change", status, 2*accounts.LiveFor+time.Second)
				}
				time.Sleep(100 * time.Millisecond)
			}
			res, err := http.Get(f.srv.URL + feed)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if ended := res.StatusCode == http.StatusNotFound; ended != tc.endCalendar {
				t.Errorf("calendar after the change: %d; want it ended: %v", res.StatusCode, tc.endCalendar)
			}
		})
	}
}

// fakeClock is a clock a test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// serveOnClock serves the API, its store and its tokens on a clock the test
// moves, with d's other settings.
func serveOnClock(t *testing.T, clock *fakeClock, d Deps) (*httptest.Server, *store.Store) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, reg := openStore(t, clock.now)
	spec, _ := auth.GenerateKeySpec(clock.now())
	keys, _ := auth.ParseKeys(spec)
	d.Forms, d.Store, d.Tokens, d.Logger, d.Now = reg, st, auth.NewTokens(keys, "sct", clock.now), log, clock.now
	return serveAPI(t, d), st
}

// A sign-in kept alive by refreshing still ends when its lifetime does.
func TestRefresh_SignInEndsAfterItsLifetime(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	srv, st := serveOnClock(t, clock, Deps{RefreshTTL: 30 * time.Minute, SignInLifetime: time.Hour})
	hash, _ := auth.HashPassword(limitPassword)
	if _, err := st.CreateUser(context.Background(), store.User{ID: uuid.NewString(), Email: "jo@example.org", PasswordHash: hash, Role: "evaluator"}); err != nil {
		t.Fatal(err)
	}
	status, out := call(t, srv.URL, "", "POST", "/api/v1/auth/login", `{"email":"jo@example.org","password":"`+limitPassword+`"}`)
	if status != http.StatusOK {
		t.Fatalf("sign-in: %d %v", status, out)
	}
	for i, want := range []struct {
		status  int
		expires float64 // refresh_expires_in
	}{
		{http.StatusOK, 30 * 60}, // at 0:25, until 0:55
		{http.StatusOK, 10 * 60}, // at 0:50, until the end at 1:00
		{http.StatusUnauthorized, 0},
	} {
		clock.add(25 * time.Minute)
		if i == 2 {
			clock.add(-14 * time.Minute) // 1:01: past the end, though the last token alone would last until 1:20
		}
		status, out = call(t, srv.URL, "", "POST", "/api/v1/auth/refresh", `{"refresh_token":"`+out["refresh_token"].(string)+`"}`)
		if status != want.status || (status == http.StatusOK && out["refresh_expires_in"] != want.expires) {
			t.Fatalf("refresh %d: %d %v; want %d with refresh_expires_in %v", i+1, status, out, want.status, want.expires)
		}
	}
}

// Signing out on one device ends that sign-in and every access token the
// account holds, but the account's other sign-ins carry on by refreshing.
func TestLogout_OtherDevicesCarryOnByRefreshing(t *testing.T) {
	f := newFixture(t)
	hash, _ := auth.HashPassword(limitPassword)
	if _, err := f.st.CreateUser(context.Background(), store.User{ID: uuid.NewString(), Email: "two@example.org", PasswordHash: hash, Role: "evaluator"}); err != nil {
		t.Fatal(err)
	}
	signIn := func() map[string]any {
		status, out := call(t, f.srv.URL, "", "POST", "/api/v1/auth/login", `{"email":"two@example.org","password":"`+limitPassword+`"}`)
		if status != http.StatusOK {
			t.Fatalf("sign-in: %d %v", status, out)
		}
		return out
	}
	phone, laptop := signIn(), signIn()
	if status, _ := call(t, f.srv.URL, "", "POST", "/api/v1/auth/logout", `{"refresh_token":"`+phone["refresh_token"].(string)+`"}`); status != http.StatusNoContent {
		t.Fatalf("sign-out: %d", status)
	}
	if status, _ := call(t, f.srv.URL, laptop["access_token"].(string), "GET", "/api/v1/auth/me", ""); status != http.StatusUnauthorized {
		t.Errorf("the laptop's access token after signing out on the phone: %d, want 401", status)
	}
	status, out := call(t, f.srv.URL, "", "POST", "/api/v1/auth/refresh", `{"refresh_token":"`+laptop["refresh_token"].(string)+`"}`)
	if status != http.StatusOK {
		t.Fatalf("the laptop refreshing: %d %v, want new tokens", status, out)
	}
	if status, _ := call(t, f.srv.URL, out["access_token"].(string), "GET", "/api/v1/auth/me", ""); status != http.StatusOK {
		t.Errorf("the laptop's new access token: %d, want 200", status)
	}
	if status, _ := call(t, f.srv.URL, "", "POST", "/api/v1/auth/refresh", `{"refresh_token":"`+phone["refresh_token"].(string)+`"}`); status != http.StatusUnauthorized {
		t.Errorf("the phone refreshing after signing out: %d, want 401", status)
	}
}

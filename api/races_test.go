package api

// Attacks that depend on timing or on where a request comes from: writes
// that land between two others, sign-ins from many addresses, secrets in
// the request log.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/logbuf"
	"github.com/lifelong-links/sct/internal/store"
)

// gatedStore is the fixture's store with one write held back until another
// has happened: an interleaving the single write connection (or any slow
// store) can produce on its own. It only orders calls; it changes none.
type gatedStore struct {
	*store.Store
	mu      sync.Mutex
	gateRef chan struct{} // InsertRefreshToken waits for it while set
	gateRsp chan struct{} // InsertResponse waits for it while set
	held    chan struct{} // told when a write is being held
	once    sync.Once
}

func newGatedStore(st *store.Store) *gatedStore {
	return &gatedStore{Store: st, held: make(chan struct{}, 8)}
}

func wait(gate chan struct{}) {
	select {
	case <-gate:
	case <-time.After(5 * time.Second):
	}
}

func (g *gatedStore) InsertRefreshToken(ctx context.Context, t store.RefreshToken) error {
	g.mu.Lock()
	gate := g.gateRef
	g.mu.Unlock()
	if gate != nil {
		g.held <- struct{}{}
		wait(gate)
	}
	return g.Store.InsertRefreshToken(ctx, t)
}

func (g *gatedStore) InsertResponse(ctx context.Context, r store.Response) error {
	g.mu.Lock()
	gate := g.gateRsp
	g.mu.Unlock()
	if gate != nil {
		g.held <- struct{}{}
		wait(gate)
	}
	return g.Store.InsertResponse(ctx, r)
}

// holdRefresh and holdResponse start holding those writes back.
func (g *gatedStore) holdRefresh()  { g.mu.Lock(); g.gateRef = make(chan struct{}); g.mu.Unlock() }
func (g *gatedStore) holdResponse() { g.mu.Lock(); g.gateRsp = make(chan struct{}); g.mu.Unlock() }

// open lets every held write go on, once.
func (g *gatedStore) open() {
	g.once.Do(func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.gateRef != nil {
			close(g.gateRef)
		}
		if g.gateRsp != nil {
			close(g.gateRsp)
		}
	})
}

// The revocations open the gate once they are done.
func (g *gatedStore) UseRefreshToken(ctx context.Context, hash string) (store.RefreshToken, error) {
	t, err := g.Store.UseRefreshToken(ctx, hash)
	if errors.Is(err, store.ErrReused) { // the family has been revoked
		g.open()
	}
	return t, err
}

func (g *gatedStore) RevokeUserTokens(ctx context.Context, userID string) error {
	err := g.Store.RevokeUserTokens(ctx, userID)
	g.open()
	return err
}

func (g *gatedStore) EraseChild(ctx context.Context, id string) error {
	err := g.Store.EraseChild(ctx, id)
	g.open()
	return err
}

func (g *gatedStore) heldWrite(t *testing.T) {
	t.Helper()
	select {
	case <-g.held:
	case <-time.After(5 * time.Second):
		t.Fatal("the write was never reached")
	}
}

// gatedServer serves the API on the fixture's store through a gatedStore.
func gatedServer(t *testing.T, f *fixture) (*gatedStore, string) {
	g := newGatedStore(f.st)
	srv := serveAPI(t, Deps{Forms: f.h.forms, Store: g, Tokens: f.h.tokens, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return g, srv.URL
}

// signInOf stores a live refresh token (a sign-in) for a user.
func signInOf(t *testing.T, st *store.Store, userID string) string {
	t.Helper()
	tok, hash, err := auth.NewOpaqueToken()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.InsertRefreshToken(context.Background(), store.RefreshToken{Hash: hash, UserID: userID, Family: uuid.NewString(),
		ExpiresAt: now.Add(time.Hour), Ends: now.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return tok
}

type answer struct {
	status int
	body   map[string]any
}

// A stolen refresh token presented by the thief and the user at once: the
// second use is caught as reuse and the sign-in revoked while the thief's
// refresh is still storing its new token. That token must not keep the
// thief signed in.
func TestRefresh_ReuseCaughtMidRefreshEndsTheThiefsSignIn(t *testing.T) {
	f := newFixture(t)
	g, base := gatedServer(t, f)
	stolen := signInOf(t, f.st, f.userIDs["coordinator A"])

	g.holdRefresh()
	thief := make(chan answer, 1)
	go func() {
		s, b := call(t, base, "", "POST", "/api/v1/auth/refresh", `{"refresh_token":"`+stolen+`"}`)
		thief <- answer{s, b}
	}()
	g.heldWrite(t) // the thief's refresh has spent the token; its successor is not yet stored
	if s, b := call(t, base, "", "POST", "/api/v1/auth/refresh", `{"refresh_token":"`+stolen+`"}`); s != http.StatusUnauthorized {
		t.Fatalf("the user's refresh with the same token: %d %v; want 401 (reuse)", s, b)
	}
	got := <-thief
	if got.status == http.StatusUnauthorized {
		return // the thief's refresh was refused: nothing to keep
	}
	if got.status != http.StatusOK {
		t.Fatalf("the thief's refresh: %d %v; want 401, or 200 with a token that no longer works", got.status, got.body)
	}
	next, _ := got.body["refresh_token"].(string)
	s, b := call(t, base, "", "POST", "/api/v1/auth/refresh", `{"refresh_token":"`+next+`"}`)
	if s != http.StatusUnauthorized {
		t.Errorf("reuse was detected and the sign-in revoked, yet the thief's new refresh token still works: %d; access token for %v", s, b["user"])
	}
}

// A password reset (or disabling, or a new role) while a refresh is under
// way: the refresh's new token is stored after RevokeUserTokens. The old
// sign-in must end all the same.
func TestRefresh_UnderWayDuringAPasswordResetDoesNotOutliveIt(t *testing.T) {
	f := newFixture(t)
	g, base := gatedServer(t, f)
	victim := f.userIDs["coordinator A"]
	stolen := signInOf(t, f.st, victim)

	g.holdRefresh()
	thief := make(chan answer, 1)
	go func() {
		s, b := call(t, base, "", "POST", "/api/v1/auth/refresh", `{"refresh_token":"`+stolen+`"}`)
		thief <- answer{s, b}
	}()
	g.heldWrite(t)
	if s, b := call(t, base, f.tokens["admin"], "PATCH", "/api/v1/users/"+victim, `{"password":"quince lantern meadow otter"}`); s != http.StatusOK {
		t.Fatalf("password reset: %d %v", s, b)
	}
	got := <-thief
	if got.status != http.StatusOK {
		t.Skipf("the in-flight refresh: %d %v", got.status, got.body)
	}
	next, _ := got.body["refresh_token"].(string)
	s, b := call(t, base, "", "POST", "/api/v1/auth/refresh", `{"refresh_token":"`+next+`"}`)
	if s == http.StatusOK {
		access, _ := b["access_token"].(string)
		me, _ := call(t, base, access, "GET", "/api/v1/auth/me", "")
		t.Errorf("after the password reset the old sign-in refreshes (%d) and its new access token works (/auth/me %d)", s, me)
	}
}

// One address sends 101 sign-ins for an account. Only 5 are checked (the
// pair limit) and the other 96 refused; the refused ones must not count
// against the account's hourly allowance, or one address would lock the
// account out of every address it has not signed in from before.
func TestLogin_OneAddressCannotLockAnAccountOutEverywhere(t *testing.T) {
	if now := time.Now(); now.Truncate(time.Hour).Add(time.Hour).Sub(now) < time.Minute {
		time.Sleep(time.Minute + time.Second)
	}
	ls := newLimitServer(t)
	ls.addUser(t, "newstarter@example.org", false)
	const attacker = "203.0.113.66"
	for i := range accounts.MaxAccountFailures + 1 {
		ls.login(t, attacker, "newstarter@example.org", fmt.Sprintf("guess %d", i))
	}
	if n := ls.checks.Load(); n > accounts.MaxPairFailures {
		t.Fatalf("%d passwords checked for one address; the pair limit is %d", n, accounts.MaxPairFailures)
	}
	// The owner, on their first day (or a new phone, or a new network).
	if s := ls.login(t, "198.51.100.20", "newstarter@example.org", limitPassword); s != http.StatusOK {
		t.Errorf("the owner with the right password from their own new address: %d; want 200 — "+
			"one address, itself held to %d failures, spent the account's budget of %d with refused attempts",
			s, accounts.MaxPairFailures, accounts.MaxAccountFailures)
	}
}

// An erasure that meets a response being written, stored after the child
// and its responses are gone: it must not survive (it would keep the
// names, be served and exported, and be out of the API's reach).
func TestErasure_AWriteUnderWayDoesNotOutliveIt(t *testing.T) {
	f := newFixture(t)
	g, base := gatedServer(t, f)
	id := "3d4e5f60-7182-4a3b-9c4d-5e6f708192a3"
	draft := `{"form":"sct","version":"1","child_id":"CA1","timepoint":"follow_up","completed_on":"2020-01-10","mode":"paper","status":"draft",` +
		`"answers":{"nominees":[{"name":"Auntie-Secret","relationship":"grandparent"}]}}`

	g.holdResponse()
	put := make(chan answer, 1)
	go func() {
		s, b := call(t, base, f.tokens["coordinator A"], "PUT", "/api/v1/responses/"+id, draft)
		put <- answer{s, b}
	}()
	g.heldWrite(t) // the child was read and found; the insert is queued
	if s, b := call(t, base, f.tokens["admin"], "DELETE", "/api/v1/children/CA1", ""); s != http.StatusNoContent {
		t.Fatalf("erasure: %d %v", s, b)
	}
	got := <-put
	t.Logf("the write racing the erasure: %d", got.status)
	if _, err := f.st.Child(context.Background(), "CA1"); err == nil {
		t.Fatal("the child is still there")
	}
	if r, err := f.st.Response(context.Background(), id); err == nil {
		status, body := f.do(t, "coordinator A", "GET", "/api/v1/responses/"+id, "")
		again, _ := f.do(t, "admin", "DELETE", "/api/v1/children/CA1", "")
		t.Errorf("after the erasure a response of child %s is stored (%v); coordinator A reads it: %d, names shown: %v; erasing again: %d",
			r.ChildID, r.Answers, status, strings.Contains(body, "Auntie-Secret"), again)
	}
}

// Registering a child ID that is taken gets the same answer whichever site
// holds it. (Child IDs are unique across the deployment, so that it is
// taken cannot be hidden; which site has it is.)
func TestCreateChild_TakenIDAnswersTheSameWhicheverSiteHoldsIt(t *testing.T) {
	f := newFixture(t)
	status, other := f.do(t, "coordinator B", "POST", "/api/v1/children", `{"id":"CA1","site":"B","group":"comparison"}`)
	ownStatus, own := f.do(t, "coordinator B", "POST", "/api/v1/children", `{"id":"CB1","site":"B","group":"comparison"}`)
	if status != http.StatusConflict || status != ownStatus || other != own {
		t.Errorf("another site's ID: %d %s\nits own site's: %d %s\nwant the same 409", status, other, ownStatus, own)
	}
}

// Naming one proxy network must not also believe X-Forwarded-For from every
// loopback, link-local and private address (Echo's defaults): a client on
// the office or cluster network, which is no listed proxy, would name its
// own address, dodging the sign-in limits and writing any address into the
// audit trail.
func TestForwardedFor_BelievedOnlyFromTheProxiesNamed(t *testing.T) {
	f := newFixture(t)
	_, proxies, _ := net.ParseCIDR("192.0.2.0/24") // the only proxy; the test client is 127.0.0.1
	srv := serveAPI(t, Deps{Forms: f.h.forms, Store: f.st, Tokens: f.h.tokens, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		TrustedProxies: []*net.IPNet{proxies}, CheckPassword: func(string, string) bool { return false }})
	limited := 0
	for i := range 2 * accounts.MaxPairFailures {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/auth/login", strings.NewReader(`{"email":"a@example.org","password":"guess"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	entries, _, _ := f.st.Audit(context.Background(), store.AuditFilter{Action: "login_failed"})
	remotes := map[string]bool{}
	for _, e := range entries {
		remotes[e.Remote] = true
	}
	if limited == 0 || !remotes["127.0.0.1"] {
		t.Errorf("%d guesses at one account from 127.0.0.1 (not a listed proxy): %d refused, want some after %d; audit addresses %v, want 127.0.0.1",
			2*accounts.MaxPairFailures, limited, accounts.MaxPairFailures, remotes)
	}
}

// A calendar address is a credential (whoever holds it reads a worker's
// follow-up list): the request log must not write it out.
func TestRequestLog_KeepsCalendarAddressesOut(t *testing.T) {
	f := newFixture(t)
	var logged logbuf.Buffer
	srv := serveAPI(t, Deps{Forms: f.h.forms, Store: f.st, Tokens: f.h.tokens, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	secret, hash, _ := auth.NewOpaqueToken()
	if err := f.st.SetCalendarToken(context.Background(), f.userIDs["coordinator A"], hash, 0); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(srv.URL + "/api/v1/calendar/" + secret + ".ics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("feed: %d", res.StatusCode)
	}
	if strings.Contains(logged.String(), secret) {
		t.Errorf("the request log holds the calendar secret: %s", logged.String())
	}
}

// The same without any help with the timing: a thief refreshing a stolen
// sign-in in a loop must not keep it through an administrator's password
// reset.
func TestRefresh_LoopingThiefDoesNotOutliveAPasswordReset(t *testing.T) {
	f := newFixture(t)
	for trial := range 20 {
		u := staffUser(t, f.st, "coordinator", "A")
		stolen := signInOf(t, f.st, u.ID)
		var stop atomic.Bool
		last := make(chan string, 1)
		go func() {
			cur := stolen
			for !stop.Load() {
				s, b := call(t, f.srv.URL, "", "POST", "/api/v1/auth/refresh", `{"refresh_token":"`+cur+`"}`)
				if s != http.StatusOK {
					break
				}
				cur, _ = b["refresh_token"].(string)
			}
			last <- cur
		}()
		time.Sleep(20 * time.Millisecond)
		if s, b := call(t, f.srv.URL, f.tokens["admin"], "PATCH", "/api/v1/users/"+u.ID, `{"password":"quince lantern meadow otter"}`); s != http.StatusOK {
			t.Fatalf("password reset: %d %v", s, b)
		}
		stop.Store(true)
		if s, _ := call(t, f.srv.URL, "", "POST", "/api/v1/auth/refresh", `{"refresh_token":"`+<-last+`"}`); s == http.StatusOK {
			t.Fatalf("trial %d: the thief's sign-in outlived the password reset", trial+1)
		}
	}
}

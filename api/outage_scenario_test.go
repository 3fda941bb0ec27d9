package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"

	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/logbuf"
	"github.com/lifelong-links/sct/internal/server"
	"github.com/lifelong-links/sct/internal/server/servertest"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// standInMongo is a FerretDB on a fixed loopback port playing the part of
// a MongoDB server that can be taken down and brought back while the
// server runs. (The embedded store runs inside the server and cannot be.)
type standInMongo struct {
	addr, dir string
	stopRun   func() // stops the running instance; nil when down
}

func (m *standInMongo) start(t *testing.T) {
	t.Helper()
	if m.stopRun != nil {
		t.Fatal("the stand-in MongoDB runs already")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	var (
		f   *ferretdb.FerretDB
		err error
	)
	// The port was bound a moment ago (the first start, or the instance just
	// stopped): allow the system a little time to let it go.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		f, err = ferretdb.New(&ferretdb.Config{
			Listener:  ferretdb.ListenerConfig{TCP: m.addr},
			Handler:   "sqlite",
			SQLiteURL: "file:" + m.dir + "/",
			Logger:    log,
		})
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("start the stand-in MongoDB on %s: %v", m.addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	m.stopRun = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("the stand-in MongoDB did not stop within 15s")
		}
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", m.addr, time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stand-in MongoDB did not listen on %s within 15s", m.addr)
		}
	}
}

func (m *standInMongo) stop() {
	if m.stopRun != nil {
		m.stopRun()
		m.stopRun = nil
	}
}

// outageReply is one exchange, timed.
type outageReply struct {
	status     int
	retryAfter string
	body       []byte
	took       time.Duration
}

// outageCall sends one request and times the answer. Its own timeout is
// far beyond the bound the test asserts, so that a hang shows as a slow
// answer or a failure rather than a stuck test.
func outageCall(t *testing.T, base, method, path, token, body string) outageReply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	took := time.Since(start)
	if err != nil {
		t.Fatalf("%s %s: no answer after %s: %v", method, path, took.Round(time.Millisecond), err)
	}
	return outageReply{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), body: b, took: took}
}

func TestOutage_StoreDownGives503ThenRecovers(t *testing.T) {
	storetest.Once(t)
	mongo := &standInMongo{addr: freeLoopbackAddr(t), dir: filepath.Join(t.TempDir(), "mongo")}
	if err := os.MkdirAll(mongo.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	mongo.start(t)
	t.Cleanup(mongo.stop) // after the server has stopped (cleanups run last first)

	keys, err := auth.GenerateKeySpec(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	settings := config.Defaults()
	settings.Addr = "127.0.0.1:0"
	settings.DataDir = t.TempDir()
	settings.MongoDBURI = "mongodb://" + mongo.addr + "/"
	settings.JWTKeys = keys
	settings.ShutdownTimeout = 5 * time.Second
	settings.BootstrapAdminEmail, settings.BootstrapAdminPassword = servertest.AdminEmail, servertest.AdminPassword
	if err := settings.Validate(); err != nil {
		t.Fatal(err)
	}
	// The server's errors are shown when the test fails: they say which
	// store error a wrong status came from.
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelError}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", strings.Join(logs.Lines(), "\n"))
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- server.Run(ctx, settings, log, server.Options{Started: func(a string, _ *store.Store) { ready <- a }})
	}()
	var s *servertest.Server
	select {
	case addr := <-ready:
		s = &servertest.Server{Base: "http://" + addr, Tokens: map[string]string{}}
	case err := <-done:
		cancel()
		t.Fatalf("start the server on the stand-in MongoDB: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("the server did not start within 60s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop within 30s")
		}
	})

	s.Login(t, "admin", servertest.AdminEmail, servertest.AdminPassword)
	for _, req := range []struct{ path, body string }{
		{"/api/v1/sites", `{"code":"O","name":"Outage site"}`},
		{"/api/v1/users", `{"email":"ocoord@example.org","role":"coordinator","sites":["O"],"password":"` + servertest.UserPassword + `"}`},
	} {
		if st, b := s.Do(t, "POST", req.path, req.body, "admin"); st != http.StatusCreated {
			t.Fatalf("POST %s: %d %s", req.path, st, b)
		}
	}
	s.Login(t, "coord", "ocoord@example.org", servertest.UserPassword)
	if st, b := s.Do(t, "POST", "/api/v1/children", `{"id":"O1","site":"O","group":"lifelong_links"}`, "coord"); st != http.StatusCreated {
		t.Fatalf("register a child: %d %s", st, b)
	}
	before := sctRequest("O1", "baseline", "2019-06-14", "submitted", firstAnswers)
	if st, b := s.Do(t, "PUT", "/api/v1/responses/"+idA, before, "coord"); st != http.StatusCreated {
		t.Fatalf("submit before the outage: %d %s", st, b)
	}
	during := sctRequest("O1", "follow_up", "2020-01-10", "submitted", `{"nominees":[{"name":"Nan","relationship":"grandparent"}]}`)

	mongo.stop()
	t.Log("the store is down")

	// Each answer must come within the bound, and be a plain 503 envelope:
	// the driver's server selection gives up after 5s.
	const bound = 8 * time.Second
	t.Run("while the store is down", func(t *testing.T) {
		for _, sc := range []struct {
			name, method, path, body, as string
		}{
			{"not ready", "GET", "/readyz", "", ""},
			{"a new response is refused for now", "PUT", "/api/v1/responses/" + idB, during, "coord"},
			{"a stored response cannot be read for now", "GET", "/api/v1/responses/" + idA, "", "coord"},
			{"a child cannot be registered for now", "POST", "/api/v1/children", `{"id":"O2","site":"O","group":"comparison"}`, "coord"},
			{"sign-in is refused for now", "POST", "/api/v1/auth/login", `{"email":"ocoord@example.org","password":"` + servertest.UserPassword + `"}`, ""},
		} {
			t.Run(sc.name, func(t *testing.T) {
				t.Parallel()
				r := outageCall(t, s.Base, sc.method, sc.path, s.Tokens[sc.as], sc.body)
				t.Logf("%s %s: %d in %s", sc.method, sc.path, r.status, r.took.Round(time.Millisecond))
				if r.took > bound {
					t.Errorf("answered after %s; want within %s", r.took.Round(time.Millisecond), bound)
				}
				if r.status != http.StatusServiceUnavailable {
					t.Errorf("status %d, want 503; body %s", r.status, r.body)
				}
				if r.retryAfter == "" {
					t.Error("no Retry-After header")
				}
				var envelope map[string]any
				if err := json.Unmarshal(r.body, &envelope); err != nil {
					t.Errorf("body is not JSON: %s", r.body)
				}
				for _, leak := range []string{"goroutine", ".go:", "mongo", "server selection", "connection refused", "127.0.0.1", "panic"} {
					if strings.Contains(strings.ToLower(string(r.body)), leak) {
						t.Errorf("body shows an internal error (%q): %s", leak, r.body)
					}
				}
			})
		}
	})
	t.Run("the process still lives", func(t *testing.T) {
		r := outageCall(t, s.Base, "GET", "/healthz", "", "")
		if r.status != http.StatusOK || r.took > bound {
			t.Errorf("healthz: %d in %s; want 200 at once", r.status, r.took.Round(time.Millisecond))
		}
	})

	mongo.start(t)
	t.Log("the store is back")
	start := time.Now()
	for {
		r := outageCall(t, s.Base, "GET", "/readyz", "", "")
		if r.status == http.StatusOK {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("not ready 20s after the store came back: %d %s", r.status, r.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("ready again %s after the store came back", time.Since(start).Round(time.Millisecond))

	// The same sign-in, token and request work again, without a restart.
	servertest.RunScenarios(t, s, []servertest.Scenario{
		{Name: "the refused response is accepted now", As: "coord", Method: "PUT", Path: "/api/v1/responses/" + idB, Body: during,
			Status: http.StatusCreated, Want: []string{`"timepoint":"follow_up"`, `"revision":1`}},
		{Name: "the response from before the outage is kept", As: "coord", Method: "GET", Path: "/api/v1/responses/" + idA,
			Status: http.StatusOK, Want: []string{`"child_id":"O1"`, `"name":"Nan"`, `"let_down":1`, `"revision":1`}},
		{Name: "a child can be registered again", As: "coord", Method: "POST", Path: "/api/v1/children",
			Body: `{"id":"O2","site":"O","group":"comparison"}`, Status: http.StatusCreated},
		{Name: "sign-in works again", Method: "POST", Path: "/api/v1/auth/login",
			Body: `{"email":"ocoord@example.org","password":"` + servertest.UserPassword + `"}`, Status: http.StatusOK, Want: []string{`"access_token"`}},
		{Name: "the summaries agree with a rebuild", As: "admin", Method: "GET", Path: "/api/v1/admin/summaries/check",
			Status: http.StatusOK, Want: []string{`"agree":true`}},
	})
}

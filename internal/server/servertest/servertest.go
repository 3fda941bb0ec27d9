// Package servertest starts the fully wired server for tests, on a free
// loopback port, on the embedded store or (in MongoDB mode, see storetest)
// by URI, with a bootstrap administrator; and sends it requests as named
// users. It is the one harness of the HTTP scenario tests.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/server"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// Server is the fully wired server on the embedded store, on a free port.
type Server struct {
	Base   string            // http://127.0.0.1:port
	Stop   func() error      // stops the server (once) and returns what Run returned
	Tokens map[string]string // access tokens by user name (see AddUsers)
	Store  *store.Store      // the server's open store, for what the API does not show
}

// The bootstrap administrator, and the password AddUsers gives each user.
const (
	AdminEmail    = "admin@example.org"
	AdminPassword = "correct horse battery"
	UserPassword  = "a long enough password"
)

// Start starts the server on dataDir with the definitions (nil: the
// published forms) and stops it when the test ends.
func Start(t testing.TB, dataDir string, definitions fs.FS) *Server {
	t.Helper()
	s, err := StartErr(t, dataDir, definitions)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	return s
}

// StartErr is Start, returning the error a start ends with.
func StartErr(t testing.TB, dataDir string, definitions fs.FS) (*Server, error) {
	t.Helper()
	return StartWith(t, dataDir, definitions, nil)
}

// StartWith starts the server with the test settings, changed by
// change if it is set.
func StartWith(t testing.TB, dataDir string, definitions fs.FS, change func(*config.Settings)) (*Server, error) {
	t.Helper()
	return StartWithOptions(t, dataDir, change, server.Options{Definitions: definitions})
}

// StartWithOptions is StartWith with what a caller of server.Run may add
// to the settings (the definitions, the webhooks' timings); its Started is
// the harness's own.
func StartWithOptions(t testing.TB, dataDir string, change func(*config.Settings), o server.Options) (*Server, error) {
	t.Helper()
	return start(t, dataDir, change, o, nil)
}

// StartLogged is StartWith, writing the server's log (from level info) to
// logTo when it is set.
func StartLogged(t testing.TB, dataDir string, definitions fs.FS, change func(*config.Settings), logTo io.Writer) (*Server, error) {
	t.Helper()
	return start(t, dataDir, change, server.Options{Definitions: definitions}, logTo)
}

func start(t testing.TB, dataDir string, change func(*config.Settings), o server.Options, logTo io.Writer) (*Server, error) {
	t.Helper()
	settings := config.Defaults()
	settings.Addr = "127.0.0.1:0"
	settings.DataDir = dataDir
	settings.ShutdownTimeout = 5 * time.Second
	settings.BootstrapAdminEmail, settings.BootstrapAdminPassword = AdminEmail, AdminPassword
	if storetest.MongoDB() {
		// The URI path, with a database of the data directory's own, so
		// that a restart on the same directory finds the same data. (The
		// signing keys are still kept in the directory.)
		o := storetest.At(dataDir, store.Options{Database: settings.Database})
		settings.MongoDBURI, settings.Database = o.URI, o.Database
	}
	if change != nil {
		change(&settings)
	}
	ctx, cancel := context.WithCancel(context.Background())
	type started struct {
		addr string
		st   *store.Store
	}
	ready := make(chan started, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if logTo != nil {
		log = slog.New(slog.NewTextHandler(logTo, nil))
	}
	go func() {
		o.Started = func(a string, st *store.Store) { ready <- started{a, st} }
		done <- server.Run(ctx, settings, log, o)
	}()
	select {
	case up := <-ready:
		s := &Server{Base: "http://" + up.addr, Tokens: map[string]string{}, Store: up.st}
		var stopped bool
		s.Stop = func() error {
			if stopped {
				return nil
			}
			stopped = true
			cancel()
			return <-done
		}
		t.Cleanup(func() { _ = s.Stop() })
		return s, nil
	case err := <-done:
		cancel()
		return nil, err
	case <-time.After(60 * time.Second):
		cancel()
		return nil, errors.New("server did not start within 60s")
	}
}

// Do sends a request as the first signed-in user named in as ("" for
// nobody) and returns the status and body.
func (s *Server) Do(t testing.TB, method, path, body string, as ...string) (int, []byte) {
	t.Helper()
	header := map[string]string{}
	if len(as) > 0 && as[0] != "" {
		tok, ok := s.Tokens[as[0]]
		if !ok {
			t.Fatalf("no signed-in user %q", as[0])
		}
		header["Authorization"] = "Bearer " + tok
	}
	res, b := s.Send(t, method, path, body, header)
	return res.StatusCode, b
}

// Send sends a request with the given headers (a body as JSON) and returns
// the response, its body already read and closed, and the body.
func (s *Server) Send(t testing.TB, method, path, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.Base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// login signs a user in and keeps their access token under name.
func (s *Server) Login(t testing.TB, name, email, password string) map[string]any {
	t.Helper()
	status, body := s.Do(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
	if status != 200 {
		t.Fatalf("login %s: %d %s", email, status, body)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	s.Tokens[name] = out["access_token"].(string)
	return out
}

// addUsers signs the bootstrap admin in as "admin", creates sites A, B and
// M, and signs in one user of each role: "coordA" and "leadA" (site A),
// "coordB" (site B) and "evaluator".
func (s *Server) AddUsers(t testing.TB) {
	t.Helper()
	s.Login(t, "admin", AdminEmail, AdminPassword)
	for _, site := range []string{"A", "B", "M"} {
		if st, b := s.Do(t, "POST", "/api/v1/sites", fmt.Sprintf(`{"code":%q,"name":"Site %s"}`, site, site), "admin"); st != 201 {
			t.Fatalf("site %s: %d %s", site, st, b)
		}
	}
	for _, u := range []struct{ name, role, sites string }{
		{"coordA", "coordinator", `["A"]`}, {"leadA", "site_lead", `["A"]`},
		{"coordB", "coordinator", `["B"]`}, {"evaluator", "evaluator", `[]`},
	} {
		email := strings.ToLower(u.name) + "@example.org"
		body := fmt.Sprintf(`{"email":%q,"role":%q,"sites":%s,"password":%q}`, email, u.role, u.sites, UserPassword)
		if st, b := s.Do(t, "POST", "/api/v1/users", body, "admin"); st != 201 {
			t.Fatalf("user %s: %d %s", u.name, st, b)
		}
		s.Login(t, u.name, email, UserPassword)
	}
}

// Scenario is one HTTP exchange and what must and must not come back.
type Scenario struct {
	Name         string
	As           string // the signed-in user; "" for none
	Method, Path string
	Body         string
	Status       int
	Want, Absent []string
}

// RunScenarios runs each scenario as a subtest.
func RunScenarios(t *testing.T, s *Server, scenarios []Scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			status, body := s.Do(t, sc.Method, sc.Path, sc.Body, sc.As)
			if status != sc.Status {
				t.Fatalf("status %d, want %d; body %s", status, sc.Status, body)
			}
			for _, w := range sc.Want {
				if !bytes.Contains(body, []byte(w)) {
					t.Errorf("body lacks %s\nbody: %s", w, body)
				}
			}
			for _, a := range sc.Absent {
				if bytes.Contains(body, []byte(a)) {
					t.Errorf("body has %s\nbody: %s", a, body)
				}
			}
		})
	}
}

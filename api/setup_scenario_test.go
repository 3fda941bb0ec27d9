package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/logbuf"
	"github.com/lifelong-links/sct/internal/server/servertest"
)

// setupAddressLine finds the setup address the server logs on a first run.
var setupAddressLine = regexp.MustCompile(`setup_address="?([^"\s]+)`)

// startFirstRun starts the server on an empty store with no bootstrap
// administrator, and returns it, its log and the setup token it logged.
func startFirstRun(t *testing.T, dir string) (*servertest.Server, *logbuf.Buffer, string) {
	t.Helper()
	logs := &logbuf.Buffer{}
	s, err := servertest.StartLogged(t, dir, nil, func(c *config.Settings) {
		c.BootstrapAdminEmail, c.BootstrapAdminPassword = "", ""
	}, logs)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	found := setupAddressLine.FindAllStringSubmatch(logs.String(), -1)
	if len(found) != 1 {
		t.Fatalf("the log holds %d setup addresses, want 1:\n%s", len(found), logs.String())
	}
	u, err := url.Parse(found[0][1])
	if err != nil {
		t.Fatal(err)
	}
	token, ok := strings.CutPrefix(u.Fragment, "token=")
	if u.Path != "/setup" || !ok || len(token) < 40 || "http://"+u.Host != s.Base {
		t.Fatalf("setup address %q: want %s/setup#token=<43 characters>", found[0][1], s.Base)
	}
	return s, logs, token
}

func setupBody(token, email, password string) string {
	return fmt.Sprintf(`{"token":%q,"email":%q,"password":%q}`, token, email, password)
}

// A server started on an empty store with no administrator named logs a
// setup address once; with its token, and only with it, the first
// administrator is made once, and signs in.
func TestSetup_FirstRunMakesOneAdministrator(t *testing.T) {
	s, logs, token := startFirstRun(t, t.TempDir())
	const email, password = "first@example.org", "a long first-run passphrase"

	servertest.RunScenarios(t, s, []servertest.Scenario{
		{Name: "setup is open", Method: "GET", Path: "/api/v1/setup", Status: 200, Want: []string{`{"open":true}`}},
		{Name: "the setup page is served", Method: "GET", Path: "/setup", Status: 200, Want: []string{`src="/js/setup.js"`}},
		{Name: "a wrong token", Method: "POST", Path: "/api/v1/setup", Body: setupBody(strings.Repeat("x", 43), email, password), Status: 401,
			Want: []string{"setup address does not work"}},
		{Name: "no token", Method: "POST", Path: "/api/v1/setup", Body: `{"email":"a@example.org","password":"a long first-run passphrase"}`, Status: 422,
			Want: []string{`"path":"token"`}},
		{Name: "an unknown field", Method: "POST", Path: "/api/v1/setup", Body: `{"token":"x","email":"a@example.org","password":"p","role":"admin"}`, Status: 400,
			Want: []string{"role"}},
		{Name: "an easy password, with the right token", Method: "POST", Path: "/api/v1/setup", Body: setupBody(token, email, "password1234"), Status: 422,
			Want: []string{`"path":"password"`}, Absent: []string{"password1234"}},
		{Name: "a password built from the email", Method: "POST", Path: "/api/v1/setup", Body: setupBody(token, "Jordan.Mills@example.org", "jordan.mills2024"), Status: 422,
			Want: []string{`"path":"password"`}},
		{Name: "not an email", Method: "POST", Path: "/api/v1/setup", Body: setupBody(token, "nobody", password), Status: 422,
			Want: []string{`"path":"email"`}},
		{Name: "nobody can sign in yet", Method: "POST", Path: "/api/v1/auth/login", Body: fmt.Sprintf(`{"email":%q,"password":%q}`, email, password), Status: 401},
		{Name: "the right token, after refusals", Method: "POST", Path: "/api/v1/setup", Body: setupBody(token, email, password), Status: 201,
			Want: []string{`"role":"admin"`, `"email":"first@example.org"`}, Absent: []string{"password", "hash"}},
		{Name: "setup is closed", Method: "GET", Path: "/api/v1/setup", Status: 200, Want: []string{`{"open":false}`}},
		{Name: "the token works once", Method: "POST", Path: "/api/v1/setup", Body: setupBody(token, "second@example.org", password), Status: 409,
			Want: []string{"setup is closed"}},
		{Name: "a wrong token, once closed", Method: "POST", Path: "/api/v1/setup", Body: setupBody("guess", "second@example.org", password), Status: 409},
	})

	s.Login(t, "admin", email, password)
	status, body := s.Do(t, "GET", "/api/v1/users", "", "admin")
	var users struct {
		Users []struct{ Email, Role string }
	}
	if status != 200 || json.Unmarshal(body, &users) != nil || len(users.Users) != 1 || users.Users[0].Role != "admin" {
		t.Fatalf("users: %d %s; want the one administrator", status, body)
	}
	status, body = s.Do(t, "GET", "/api/v1/audit?action=user.create", "", "admin")
	if status != 200 || !strings.Contains(string(body), `"actor":"setup"`) || strings.Count(string(body), `"action":"user.create"`) != 1 {
		t.Errorf("audit of the creation: %d %s", status, body)
	}
	status, body = s.Do(t, "GET", "/api/v1/audit?action=setup_failed", "", "admin")
	if status != 200 || strings.Count(string(body), `"action":"setup_failed"`) != 1 {
		t.Errorf("audit of the wrong token: %d %s", status, body)
	}
	// The token is written once, in the setup address; no request's log
	// line holds it.
	if n := strings.Count(logs.String(), token); n != 1 {
		t.Errorf("the token is in the log %d times, want once (the setup address)", n)
	}
}

// Forty requests at once with the right token and forty different emails
// make exactly one administrator; the rest are told setup is closed.
func TestSetup_ManyAtOnceMakeOneAdministrator(t *testing.T) {
	s, _, token := startFirstRun(t, t.TempDir())
	const n = 40
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i], _ = s.Do(t, "POST", "/api/v1/setup", setupBody(token, fmt.Sprintf("admin%d@example.org", i), "a long first-run passphrase"))
		})
	}
	wg.Wait()
	created := 0
	for i, st := range statuses {
		switch st {
		case 201:
			created++
		case 409:
		default:
			t.Errorf("request %d: %d, want 201 or 409", i, st)
		}
	}
	users, err := s.Store.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if created != 1 || len(users) != 1 {
		t.Fatalf("%d created, %d accounts; want exactly 1 of each", created, len(users))
	}
}

// Wrong tokens are limited per address as failed sign-ins are: past the
// limit, even the right token waits for the window to end.
func TestSetup_WrongTokensAreLimited(t *testing.T) {
	s, _, token := startFirstRun(t, t.TempDir())
	for i := range 20 {
		if st, b := s.Do(t, "POST", "/api/v1/setup", setupBody(fmt.Sprintf("guess-%d", i), "a@example.org", "a long first-run passphrase")); st != 401 {
			t.Fatalf("guess %d: %d %s; want 401", i, st, b)
		}
	}
	res, b := s.Send(t, "POST", "/api/v1/setup", setupBody(token, "a@example.org", "a long first-run passphrase"), nil)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("the 21st attempt from one address: %d %s; want 429 with Retry-After", res.StatusCode, b)
	}
	if st, b := s.Do(t, "GET", "/api/v1/setup", ""); st != 200 || !strings.Contains(string(b), `"open":true`) {
		t.Errorf("setup after the limit: %d %s; want still open", st, b)
	}
}

// With an administrator named in the settings, or once a store has an
// account, no setup address is made and setup stays closed; a restart on
// a store still without accounts makes a new token, and the old one no
// longer works.
func TestSetup_OnlyOnAStoreWithoutAccounts(t *testing.T) {
	t.Run("bootstrap administrator set", func(t *testing.T) {
		logs := &logbuf.Buffer{}
		s, err := servertest.StartLogged(t, t.TempDir(), nil, nil, logs)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(logs.String(), "setup_address") {
			t.Errorf("a setup address was logged with a bootstrap administrator:\n%s", logs.String())
		}
		servertest.RunScenarios(t, s, []servertest.Scenario{
			{Name: "closed", Method: "GET", Path: "/api/v1/setup", Status: 200, Want: []string{`{"open":false}`}},
			{Name: "refused", Method: "POST", Path: "/api/v1/setup", Body: setupBody("anything", "b@example.org", "a long first-run passphrase"), Status: 409},
		})
	})
	t.Run("restart", func(t *testing.T) {
		dir := t.TempDir()
		s, _, old := startFirstRun(t, dir)
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		s, _, token := startFirstRun(t, dir)
		if token == old {
			t.Fatal("the restarted server logged the same token")
		}
		if st, b := s.Do(t, "POST", "/api/v1/setup", setupBody(old, "c@example.org", "a long first-run passphrase")); st != 401 {
			t.Errorf("the last start's token: %d %s; want 401", st, b)
		}
		if st, b := s.Do(t, "POST", "/api/v1/setup", setupBody(token, "c@example.org", "a long first-run passphrase")); st != 201 {
			t.Fatalf("this start's token: %d %s; want 201", st, b)
		}
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		logs := &logbuf.Buffer{}
		s, err := servertest.StartLogged(t, dir, nil, func(c *config.Settings) {
			c.BootstrapAdminEmail, c.BootstrapAdminPassword = "", ""
		}, logs)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(logs.String(), "setup_address") {
			t.Errorf("a setup address was logged on a store with an account:\n%s", logs.String())
		}
		if st, b := s.Do(t, "GET", "/api/v1/setup", ""); st != 200 || !strings.Contains(string(b), `"open":false`) {
			t.Errorf("setup on a store with an account: %d %s", st, b)
		}
	})
}

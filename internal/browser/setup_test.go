package browser

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/logbuf"
	sctserver "github.com/lifelong-links/sct/internal/server"
)

// startFirstRun starts the server on an empty store with no administrator
// named, as `go run ./cmd/sct` does the first time, and returns its base URL
// and the setup address it logged.
func startFirstRun(t *testing.T) (base, setup string) {
	t.Helper()
	settings := config.Defaults()
	settings.Addr = "127.0.0.1:0"
	settings.DataDir = t.TempDir()
	settings.ShutdownTimeout = 5 * time.Second
	logs := &logbuf.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- sctserver.Serve(ctx, settings, slog.New(slog.NewTextHandler(logs, nil)), func(addr string) { ready <- addr })
	}()
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("server did not start within 60s")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})
	m := regexp.MustCompile(`setup_address="?([^"\s]+)`).FindStringSubmatch(logs.String())
	if m == nil || !strings.HasPrefix(m[1], base+"/setup#token=") {
		t.Fatalf("no setup address on %s in the log:\n%s", base, logs.String())
	}
	return base, m[1]
}

// A newcomer starts the server with no settings: the sign-in page says
// there are no accounts yet and where to look; the setup address from the
// log makes the first administrator, who then signs in; the address then
// works no more, and the sign-in page says nothing of setup.
func TestBrowser_FirstRunSetsUpTheAdministrator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	base, setup := startFirstRun(t)
	const email, password = "first@example.org", "a long first-run passphrase"
	p := newPhone(ctx, t)

	p.open(base + "/")
	p.heading("Sign in")
	p.waitFor("the no-accounts notice", `!!document.getElementById('no-accounts')`)
	notice := eval[string](p, `document.getElementById('no-accounts').innerText`)
	for _, want := range []string{"There are no accounts yet", "setup address in its log", "#token="} {
		if !strings.Contains(notice, want) {
			t.Errorf("the sign-in page's notice %q lacks %q", notice, want)
		}
	}
	p.check("sign-in-no-accounts-yet")

	p.open(setup)
	p.heading("Create the first administrator")
	if href := eval[string](p, `location.href`); strings.Contains(href, "token") {
		t.Errorf("the address bar still holds the token: %s", href)
	}
	p.typeIn("#email", email)
	p.typeIn("#password", password)
	p.typeIn("#password-again", password+"!")
	p.clickButton("Create the administrator")
	p.waitFor("the passwords differ", `(document.querySelector('main [role=alert]')?.textContent || '').includes('not the same')`)
	eval[bool](p, `(() => { document.querySelector('#password-again').value = ''; return true; })()`)
	p.typeIn("#password-again", password)
	if eval[bool](p, `!!document.querySelector('main [role=alert]')`) {
		t.Error("the complaint about the two passwords stays once they are the same")
	}
	p.check("setup-form")
	p.clickButton("Create the administrator")
	p.heading("The administrator is ready")
	p.check("setup-done")

	if href := eval[string](p, `document.getElementById('to-sign-in').getAttribute('href')`); href != "/#/login" {
		t.Errorf("the way on goes to %q, want the sign-in page", href)
	}
	p.click("#to-sign-in")
	time.Sleep(time.Second) // a new page loads: nothing to poll until it has
	p.heading("Sign in")
	// The server says setup is closed, and the page says nothing of it.
	p.waitFor("setup closed", `fetch('/api/v1/setup').then((r) => r.json()).then((j) => j.open === false)`)
	time.Sleep(300 * time.Millisecond)
	if eval[bool](p, `!!document.getElementById('no-accounts')`) {
		t.Error("the sign-in page still says there are no accounts")
	}
	p.typeIn("#email", email)
	p.typeIn("#password", password)
	p.click(`main button[type="submit"]`)
	p.heading("Administration")
	p.waitFor("signed in", `document.getElementById('nav').textContent.includes('Sign out')`)
	p.check("signed-in-as-the-administrator")

	p.open(setup)
	p.heading("Setup is closed")
	p.check("setup-closed")
}

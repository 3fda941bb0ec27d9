package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/server"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// The command line's tests run on the embedded store, then in MongoDB mode.
func TestMain(m *testing.M) { os.Exit(storetest.RunBoth(m)) }

const (
	adminEmail    = "admin@example.org"
	adminPassword = "correct horse battery"
	userPassword  = "a long enough password"
)

// serveOn starts the server on the store the commands were given (dir; in
// MongoDB mode its database) and returns its base URL.
func serveOn(t *testing.T, dir string) string {
	t.Helper()
	settings := config.Defaults()
	settings.Addr, settings.DataDir, settings.ShutdownTimeout = "127.0.0.1:0", dir, 5*time.Second
	settings.BootstrapAdminEmail, settings.BootstrapAdminPassword = adminEmail, adminPassword
	if storetest.MongoDB() {
		o := storetest.At(dir, store.Options{Database: settings.Database})
		settings.MongoDBURI, settings.Database = o.URI, o.Database
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- server.Serve(ctx, settings, slog.New(slog.NewTextHandler(io.Discard, nil)), func(a string) { ready <- a })
	}()
	select {
	case addr := <-ready:
		t.Cleanup(func() { cancel(); <-done })
		return "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("start the server: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("the server did not start within 60s")
	}
	return ""
}

// login posts a login and returns the status, the decoded body and the body.
func login(t *testing.T, base, email, password string) (int, map[string]any, []byte) {
	t.Helper()
	res, err := http.Post(base+"/api/v1/auth/login", "application/json",
		strings.NewReader(fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return res.StatusCode, out, b
}

func TestRun_CommandLine(t *testing.T) {
	env := func(string) string { return "" }
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help lists the settings", []string{"serve", "-h"}, 0, "-mongodb-uri"},
		{"a bad address stops before starting", []string{"--addr", "nowhere"}, 1, `addr "nowhere"`},
		{"an unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"a stray argument", []string{"serve", "extra"}, 1, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), tt.args, env, strings.NewReader(""), &out, &errOut)
			if code != tt.code || !strings.Contains(out.String()+errOut.String(), tt.want) {
				t.Errorf("code %d, output %q; want %d and %q", code, out.String()+errOut.String(), tt.code, tt.want)
			}
		})
	}
}

func TestSettings_FlagBeatsEnvironment(t *testing.T) {
	env := map[string]string{"SCT_ADDR": "127.0.0.1:9000", "SCT_DATABASE": "fromenv", "SCT_DATA_DIR": "/env/data"}
	s, err := config.Load("sct", []string{"--addr", "127.0.0.1:9100"}, func(k string) string { return env[k] }, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr != "127.0.0.1:9100" || s.Database != "fromenv" || s.DataDir != "/env/data" {
		t.Errorf("settings %+v", s)
	}
}

func TestCLI_AddSiteAndUserThenSignIn(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	ctx := context.Background()
	run := func(t *testing.T, stdin string, args ...string) (int, string, string) {
		t.Helper()
		if storetest.MongoDB() {
			// The same store the server below is given: its database.
			o := storetest.At(dir, store.Options{Database: config.Defaults().Database})
			spec, err := auth.GenerateKeySpec(time.Now()) // the settings require keys with MongoDB
			if err != nil {
				t.Fatal(err)
			}
			args = append(args, "--mongodb-uri", o.URI, "--database", o.Database, "--jwt-keys", spec)
		}
		var out, errOut bytes.Buffer
		code := Run(ctx, args, env, strings.NewReader(stdin), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	userAdd := []string{"user", "add", "--data", dir, "--email", "x@example.org", "--role", "coordinator", "--site", "Z"}
	steps := []struct {
		name    string
		args    []string
		code    int
		stdout  string
		stderr  string
		absence string
	}{
		{"add a site", []string{"site", "add", "--data", dir, "--code", "Z", "--name", "Zed"}, 0, "created", "", ""},
		{"a common password is refused", []string{"user", "add", "--data", dir, "--email", "y@example.org", "--role", "coordinator", "--site", "Z", "--password", "password1234"},
			1, "", "too easy to guess", "password1234"},
		{"add a user, password from standard input", userAdd, 0, "created", "", userPassword},
		{"the same user again", userAdd, 1, "", "exists already", userPassword},
		{"the same email in other case", []string{"user", "add", "--data", dir, "--email", "X@Example.org", "--role", "coordinator", "--site", "Z"},
			1, "", "exists already", ""},
		{"a user of an unknown site", []string{"user", "add", "--data", dir, "--email", "y@example.org", "--role", "coordinator", "--site", "Q"},
			1, "", "no site Q", ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			code, out, errOut := run(t, userPassword+"\n", st.args...)
			if code != st.code || !strings.Contains(out, st.stdout) || !strings.Contains(errOut, st.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errOut, st.code, st.stdout, st.stderr)
			}
			if st.absence != "" && strings.Contains(out+errOut, st.absence) {
				t.Errorf("output shows the password: %q %q", out, errOut)
			}
		})
	}

	base := serveOn(t, dir)
	status, out, body := login(t, base, "x@example.org", userPassword)
	if status != 200 {
		t.Fatalf("sign in as the CLI's user: %d %s", status, body)
	}
	u, _ := out["user"].(map[string]any)
	if u["role"] != "coordinator" || fmt.Sprint(u["sites"]) != "[Z]" {
		t.Errorf("user %v, want a coordinator of site Z", u)
	}
	if st, _, b := login(t, base, "y@example.org", userPassword); st != 401 {
		t.Errorf("the refused user exists: %d %s", st, b)
	}
	// The store had users already, so the bootstrap administrator is not made.
	if st, _, b := login(t, base, adminEmail, adminPassword); st != 401 {
		t.Errorf("bootstrap admin made on a store with users: %d %s", st, b)
	}
}

// "sct bench --fill" writes exactly the SCTs asked for, with children,
// practice summaries, participation and audit entries, through the
// services; "--reads" then times every read on a server of its own.
func TestBench_FillThenReads(t *testing.T) {
	dir := t.TempDir()
	args := []string{"bench", "--fill", "60", "--fill-audit", "30", "--data", dir, "--reads", "--read-requests", "2", "--json"}
	if storetest.MongoDB() {
		o := storetest.At(dir, store.Options{Database: config.Defaults().Database})
		spec, err := auth.GenerateKeySpec(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--mongodb-uri", o.URI, "--database", o.Database, "--jwt-keys", spec)
	}
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got struct {
		Filled struct{ Children, SCTs, FollowUps, PracticeSummaries, Participation, AuditReads int }
		Reads  []struct {
			Name     string
			Requests int
			P95      time.Duration
		}
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	f := got.Filled
	if f.SCTs != 60 || f.AuditReads != 30 || f.Children < 20 || f.Children > 60 || f.FollowUps != f.SCTs-f.Children ||
		f.Participation == 0 || f.PracticeSummaries == 0 || f.PracticeSummaries > f.Participation {
		t.Errorf("filled %+v", f)
	}
	if len(got.Reads) != 13 {
		t.Fatalf("%d reads timed, want 13: %s", len(got.Reads), out.String())
	}
	for _, r := range got.Reads {
		if r.Requests != 2 || r.P95 <= 0 {
			t.Errorf("read %+v", r)
		}
	}

	// Without a store named, a fill has nowhere to go.
	if code := Run(context.Background(), []string{"bench", "--fill", "5"}, func(string) string { return "" }, strings.NewReader(""), &out, &errOut); code == 0 {
		t.Error("a fill without --data succeeded")
	}
}

package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/bench"
	"github.com/lifelong-links/sct/internal/catalog"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/server"
	"github.com/lifelong-links/sct/internal/store"
)

// benchCommand is "sct bench": it starts a server of its own on loopback
// (on the embedded store in a scratch directory, or on --data / the MongoDB
// the settings name), submits realistic SCTs from many clients for a
// bounded time, then measures plain inserts of the same bodies into the
// same store, and prints both with their ratio.
func benchCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var clients, fillN, fillAudit, readRequests int
	var duration time.Duration
	var asJSON, reads bool
	var cpuProfile, memProfile string
	scratch, err := os.MkdirTemp("", "sct-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	env := func(k string) string {
		if k == "SCT_DATA_DIR" && getenv(k) == "" {
			return scratch
		}
		return getenv(k)
	}
	s, err := config.Load("sct bench", args, env, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&clients, "clients", 64, "concurrent clients")
		fs.DurationVar(&duration, "duration", 20*time.Second, "how long each phase runs")
		fs.BoolVar(&asJSON, "json", false, "print the results as JSON")
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the submission phase (with --reads: of the reads) to this file")
		fs.StringVar(&memProfile, "memprofile", "", "with --reads: write a heap profile to this file after the reads")
		fs.IntVar(&fillN, "fill", 0, "write this many realistic SCTs (with children, practice summaries, participation and audit entries) into the store named by --data or SCT_MONGODB_URI, then stop (or go on to --reads)")
		fs.IntVar(&fillAudit, "fill-audit", 0, "with --fill: add this many audit entries of reads")
		fs.BoolVar(&reads, "reads", false, "time the reads users make (lists, tables, the audit trail) on the store, and stop")
		fs.IntVar(&readRequests, "read-requests", 40, "with --reads: requests timed for each read")
	})
	if err != nil {
		return err
	}
	tuneGC(getenv)
	if fillN > 0 || reads {
		if s.DataDir == scratch && s.MongoDBURI == "" && !reads {
			return errors.New("--fill writes into the store named by --data or SCT_MONGODB_URI: say which")
		}
		return fillAndRead(ctx, s, fillN, fillAudit, reads, readRequests, profiles{cpu: cpuProfile, heap: memProfile}, asJSON, stdout, stderr)
	}
	if clients < 1 || clients > 1024 || duration <= 0 || duration > 10*time.Minute {
		return errors.New("--clients must be 1 to 1024 and --duration up to 10m")
	}
	s.Addr = "127.0.0.1:0" // load goes to this machine only
	s.LogLevel = "error"
	password := randomPassword()
	// An administrator of the run's own, made in the store before the server
	// starts, so that the load may go to a store that holds data already.
	adminEmail := fmt.Sprintf("bench-admin-%d@example.org", time.Now().UnixNano()%1_000_000)
	if err := benchAdmin(ctx, s, adminEmail, password, stderr); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	// The load starts once the server has built what it holds in memory
	// from the store (seconds, on a store that holds data): the rate
	// measured is the server's as it runs, not as it starts.
	srv, err := startBuilt(ctx, s, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "the server built its sums and caseload from the store in %s\n", srv.build.Round(time.Millisecond))
	base := "http://" + srv.addr
	site := fmt.Sprintf("B%d", time.Now().Unix()%100000)
	token, err := benchUser(base, adminEmail, password, site)
	if err != nil {
		return err
	}
	cfg := bench.Config{Base: base, Token: token, Site: site, Clients: clients, Duration: duration, Seed: uint64(time.Now().UnixNano())}
	fmt.Fprintf(stderr, "submitting SCTs from %d clients for %s…\n", clients, duration)
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	sub, err := bench.Submit(ctx, cfg)
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	resident := residentMiB() // the server's, with the clients', after writing

	fmt.Fprintf(stderr, "inserting the same bodies directly from %d goroutines for %s…\n", clients, duration)
	raw := bench.Raw(ctx, cfg, storedBody, func(ctx context.Context, doc any) error {
		return srv.st.InsertRaw(ctx, "bench_raw_inserts", doc)
	})
	cancel()
	if err := <-srv.done; err != nil {
		return err
	}
	ratio := sub.Rate / raw.Rate
	if asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"clients": clients, "submissions": sub, "raw_inserts": raw, "ratio": ratio,
			"resident_mib_after_submissions": resident})
	}
	fmt.Fprintf(stdout, "store:        %s\n", map[bool]string{true: "embedded FerretDB (SQLite)", false: "MongoDB"}[s.Embedded()])
	fmt.Fprintf(stdout, "clients:      %d\n", clients)
	fmt.Fprintf(stdout, "submissions:  %s\n", sub)
	fmt.Fprintf(stdout, "resident:     %d MiB after the submissions\n", resident)
	fmt.Fprintf(stdout, "raw inserts:  %s\n", raw)
	fmt.Fprintf(stdout, "ratio:        submissions are %.0f%% of the raw insert rate\n", ratio*100)
	return nil
}

// builtServer is a server a bench command runs on loopback, once it has
// built what it holds in memory from its store.
type builtServer struct {
	addr  string
	st    *store.Store
	done  <-chan error  // what server.Run returns, once ctx ends
	build time.Duration // from the server's start to the end of its build
}

// startBuilt starts the server and returns once it has built what it holds
// from the store, so that what a bench command measures does not share the
// machine with the build (the start is timed on its own).
func startBuilt(ctx context.Context, s config.Settings, log *slog.Logger) (builtServer, error) {
	ready := make(chan builtServer, 1)
	warmed := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, s, log, server.Options{Started: func(addr string, st *store.Store) { ready <- builtServer{addr: addr, st: st} },
			Warmed: func(err error) { warmed <- err }})
	}()
	var srv builtServer
	select {
	case srv = <-ready:
	case err := <-done:
		return builtServer{}, err
	}
	start := time.Now()
	select {
	case err := <-warmed:
		if err != nil {
			return builtServer{}, err
		}
	case err := <-done:
		return builtServer{}, err
	}
	srv.build, srv.done = time.Since(start), done
	return srv, nil
}

// benchAdmin makes an administrator in the store the settings name.
func benchAdmin(ctx context.Context, s config.Settings, email, password string, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	st, err := store.Open(ctx, store.Options{URI: s.MongoDBURI, DataDir: s.DataDir, Database: s.Database, Logger: log})
	if err != nil {
		return err
	}
	_, err = accounts.New(accounts.Options{Store: st}).CreateUser(ctx, accounts.NewUser{Email: email, Role: "admin", Password: password})
	return errors.Join(err, st.Close(ctx))
}

// benchUser signs the run's administrator in, sets up a site and a
// coordinator, and returns the coordinator's token.
func benchUser(base, adminEmail, password, site string) (string, error) {
	admin, err := signIn(base, adminEmail, password)
	if err != nil {
		return "", err
	}
	if _, err := postJSON(base, "/api/v1/sites", admin, fmt.Sprintf(`{"code":%q,"name":"Load test"}`, site)); err != nil {
		return "", err
	}
	email := strings.ToLower(site) + "-coordinator@example.org"
	if _, err := postJSON(base, "/api/v1/users", admin, fmt.Sprintf(`{"email":%q,"role":"coordinator","sites":[%q],"password":%q}`, email, site, password)); err != nil {
		return "", err
	}
	return signIn(base, email, password)
}

// postJSON posts a JSON body, with a bearer token if given, and decodes
// the answer.
func postJSON(base, path, token, body string) (map[string]any, error) {
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode >= 300 {
		return nil, fmt.Errorf("%s: %d %v", path, res.StatusCode, out)
	}
	return out, nil
}

// signIn signs a user in and returns their access token.
func signIn(base, email, password string) (string, error) {
	out, err := postJSON(base, "/api/v1/auth/login", "", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
	if err != nil {
		return "", err
	}
	t, _ := out["access_token"].(string)
	return t, nil
}

func randomPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// storedBody is the document the store keeps for a submitted SCT body, with
// its summary inputs: what the raw inserts write, so that they write what
// the server writes.
func storedBody(id string, body []byte) any {
	var req struct {
		Form, Version, Timepoint, Mode string
		ChildID                        string `json:"child_id"`
		CompletedOn                    string `json:"completed_on"`
		Wave                           int
		Answers                        json.RawMessage
	}
	_ = json.Unmarshal(body, &req)
	r := store.Response{ID: id, Form: req.Form, Version: req.Version, ChildID: req.ChildID, Site: "R", Group: "comparison",
		Timepoint: req.Timepoint, Wave: max(req.Wave, 1), CompletedOn: req.CompletedOn, Mode: req.Mode, Status: store.StatusSubmitted,
		Revision: 1, BodyHash: id, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	_ = json.Unmarshal(req.Answers, &r.Answers)
	if f, ok := catalog.Lookup(req.Form); ok && f.Derive != nil {
		_, r.Derived, _ = f.Derived(req.Version, req.Answers)
	}
	return store.StoredForm(r)
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/bench"
	"github.com/lifelong-links/sct/internal/children"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/server"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/submission"
)

// fillSink writes a fill through the services the API calls, with the
// audit entries the server would write, as a coordinator of every site.
type fillSink struct {
	st       *store.Store
	submit   *submission.Service
	children *children.Service
}

const fillActor = "bench-fill"

func (f *fillSink) audit(ctx context.Context, role, action, target, site, detail string) error {
	return f.st.AppendAudit(ctx, store.AuditEntry{Actor: fillActor, Role: role, Action: action, Target: target, Site: site,
		Remote: "127.0.0.1", Detail: detail})
}

func (f *fillSink) Sites(ctx context.Context, codes []string) error {
	for _, code := range codes {
		_, err := f.st.CreateSite(ctx, store.Site{Code: code, Name: "Fill " + code})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return nil
}

func (f *fillSink) Child(ctx context.Context, id, site, group, startedOn string) error {
	c, err := f.children.Register(ctx, store.Child{ID: id, Site: site, Group: group, StartedOn: startedOn})
	if err != nil {
		return err
	}
	return f.audit(ctx, "coordinator", "child.create", "child:"+c.ID, c.Site, "")
}

func (f *fillSink) Response(ctx context.Context, id string, body []byte) error {
	var req struct {
		Form, Version, Timepoint, Mode, Status string
		ChildID                                string `json:"child_id"`
		CompletedOn                            string `json:"completed_on"`
		Wave                                   int
		Answers                                json.RawMessage
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return err
	}
	r, _, err := f.submit.Put(ctx, id, submission.Request{Form: req.Form, Version: req.Version, ChildID: req.ChildID,
		Timepoint: req.Timepoint, Wave: req.Wave, CompletedOn: req.CompletedOn, Mode: req.Mode, Status: req.Status,
		Answers: req.Answers}, submission.Reach{})
	if err != nil {
		return err
	}
	return f.audit(ctx, "coordinator", "response.put", "response:"+r.ID, r.Site, r.Status)
}

func (f *fillSink) Participation(ctx context.Context, childID string, body []byte) error {
	var p struct {
		Eligible, Participating                         *bool
		StartedOn                                       string `json:"started_on"`
		ReasonNotParticipating                          *int   `json:"reason_not_participating"`
		CeasedOn                                        string `json:"ceased_on"`
		ReasonCeased                                    *int   `json:"reason_ceased"`
		PlanCompleted, FGCCompleted, ReviewFGCCompleted *int
		Pauses                                          []store.Pause
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return err
	}
	c, err := f.children.SetParticipation(ctx, childID, store.Participation{Eligible: p.Eligible, Participating: p.Participating,
		StartedOn: p.StartedOn, ReasonNotParticipating: p.ReasonNotParticipating, CeasedOn: p.CeasedOn, ReasonCeased: p.ReasonCeased,
		PlanCompleted: p.PlanCompleted, FGCCompleted: p.FGCCompleted, ReviewFGCCompleted: p.ReviewFGCCompleted, Pauses: p.Pauses})
	if err != nil {
		return err
	}
	return f.audit(ctx, "coordinator", "participation.put", "child:"+c.ID, c.Site, "")
}

func (f *fillSink) ReadAudit(ctx context.Context, responseID, site, childID string) error {
	return f.audit(ctx, "coordinator", "response.read", "response:"+responseID, site, "child "+childID)
}

// fill opens the store the settings name and fills it.
func fill(ctx context.Context, s config.Settings, log *slog.Logger, n, auditReads int, seed uint64, stderr io.Writer) (bench.Filled, error) {
	registry, err := form.Load(forms.FS())
	if err != nil {
		return bench.Filled{}, err
	}
	st, err := store.Open(ctx, store.Options{URI: s.MongoDBURI, DataDir: s.DataDir, Database: s.Database, Logger: log})
	if err != nil {
		return bench.Filled{}, err
	}
	defer st.Close(context.WithoutCancel(ctx))
	sink := &fillSink{st: st, submit: submission.New(registry, st, time.Now), children: children.New(st)}
	fmt.Fprintf(stderr, "filling %s with %d SCTs and %d audit entries of reads…\n", storeName(s), n, auditReads)
	return bench.Fill(ctx, sink, n, auditReads, 64, seed, fmt.Sprintf("F%d-", seed%100000))
}

func storeName(s config.Settings) string {
	if s.MongoDBURI != "" {
		return "the MongoDB at SCT_MONGODB_URI"
	}
	return "the embedded store in " + s.DataDir
}

// fillAndRead fills the store if asked, then times the reads if asked, on
// a server of its own on loopback.
func fillAndRead(ctx context.Context, s config.Settings, fillN, fillAudit int, reads bool, requests int, asJSON bool, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	out := map[string]any{}
	if fillN > 0 {
		filled, err := fill(ctx, s, log, fillN, fillAudit, uint64(time.Now().UnixNano()), stderr)
		if err != nil {
			return err
		}
		out["filled"] = filled
		if !asJSON {
			fmt.Fprintf(stdout, "filled:       %s\n", filled)
		}
	}
	if reads {
		results, rss, err := timeReads(ctx, s, log, requests, stderr)
		if err != nil {
			return err
		}
		out["reads"], out["resident_mib"] = results, rss
		if !asJSON {
			fmt.Fprintf(stdout, "resident:     %d MiB after the reads\n", rss)
			for _, r := range results {
				fmt.Fprintf(stdout, "  %s\n", r)
			}
		}
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(out)
	}
	return nil
}

// timeReads starts the server on the store, signs in an administrator, an
// evaluator and a coordinator of site FA made for the run, and times each
// of bench.UserReads.
func timeReads(ctx context.Context, s config.Settings, log *slog.Logger, requests int, stderr io.Writer) ([]bench.ReadResult, int, error) {
	password := randomPassword()
	suffix := fmt.Sprint(time.Now().UnixNano() % 1_000_000)
	users := map[string]accounts.NewUser{
		"admin":       {Email: "bench-admin-" + suffix + "@example.org", Role: "admin", Password: password},
		"evaluator":   {Email: "bench-evaluator-" + suffix + "@example.org", Role: "evaluator", Password: password},
		"coordinator": {Email: "bench-coordinator-" + suffix + "@example.org", Role: "coordinator", Sites: []string{"FA"}, Password: password},
	}
	st, err := store.Open(ctx, store.Options{URI: s.MongoDBURI, DataDir: s.DataDir, Database: s.Database, Logger: log})
	if err != nil {
		return nil, 0, err
	}
	if err := (&fillSink{st: st}).Sites(ctx, bench.FillSites); err != nil {
		st.Close(ctx)
		return nil, 0, err
	}
	acc := accounts.New(accounts.Options{Store: st})
	for _, u := range users {
		if _, err := acc.CreateUser(ctx, u); err != nil {
			st.Close(ctx)
			return nil, 0, err
		}
	}
	if err := st.Close(ctx); err != nil {
		return nil, 0, err
	}

	s.Addr, s.LogLevel = "127.0.0.1:0", "error"
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, s, log, server.Options{Started: func(addr string, _ *store.Store) { ready <- addr }})
	}()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		return nil, 0, err
	}
	tokens := map[string]string{}
	for name, u := range users {
		tok, err := signIn(base, u.Email, password)
		if err != nil {
			return nil, 0, err
		}
		tokens[name] = tok
	}
	fmt.Fprintf(stderr, "timing %d reads, %d requests each…\n", len(bench.UserReads()), requests)
	results, err := bench.Reads(ctx, base, tokens, bench.UserReads(), requests)
	rss := residentMiB()
	cancel()
	if stopErr := <-done; err == nil {
		err = stopErr
	}
	return results, rss, err
}

// residentMiB is this process's resident memory (Linux; 0 elsewhere).
func residentMiB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb / 1024
		}
	}
	return 0
}

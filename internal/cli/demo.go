package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/bench"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/demo"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
)

// demoSite is the site the demo's coordinator and site lead work in: the
// one with most children and SCTs.
const demoSite = "D"

// demoUser is one account the demo makes, with its random password.
type demoUser struct {
	role, email, password string
	sites                 []string
}

// demoCommand is "sct demo": it fills an empty store (the data directory,
// or the MongoDB the settings name) with a synthetic evaluation shaped like
// the 2020 report, through the services the API uses, and prints how to
// sign in as each kind of user. It refuses a store that holds data.
func demoCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var seed uint64
	s, err := config.Load("sct demo", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.Uint64Var(&seed, "seed", 2020, "what the records say is drawn from this seed (the counts are fixed)")
	})
	if err != nil {
		return err
	}
	registry, err := form.Load(forms.FS())
	if err != nil {
		return err
	}
	// Errors only: the embedded store warns of a harmless missing command
	// as it closes, which would be all a newcomer sees.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	st, err := store.Open(ctx, store.Options{URI: s.MongoDBURI, DataDir: s.DataDir, Database: s.Database, Logger: log})
	if err != nil {
		return err
	}
	defer st.Close(context.WithoutCancel(ctx))
	held, err := st.HoldsData(ctx)
	if err != nil {
		return err
	}
	if held {
		return fmt.Errorf("%s already holds data (accounts, sites, children or responses): the demo fills an empty store only; give it another --data directory", storeName(s))
	}
	fmt.Fprintf(stderr, "filling %s with the demo evaluation…\n", storeName(s))
	start := time.Now()
	n, err := demo.Fill(ctx, bench.NewServiceSink(st, registry).As("demo"), seed, 8)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	users := []demoUser{
		{role: "admin", email: "admin@example.org"},
		{role: "coordinator", email: "coordinator@example.org", sites: []string{demoSite}},
		{role: "site_lead", email: "lead@example.org", sites: []string{demoSite}},
		{role: "evaluator", email: "evaluator@example.org"},
	}
	acc := accounts.New(accounts.Options{Store: st})
	for i := range users {
		u := &users[i]
		u.password = randomPassword()
		made, err := acc.CreateUser(ctx, accounts.NewUser{Email: u.email, Role: u.role, Sites: u.sites, Password: u.password})
		if err != nil {
			return fmt.Errorf("demo account %s: %w", u.email, err)
		}
		if err := st.AppendAudit(ctx, store.AuditEntry{Actor: "demo", Action: "user.create", Target: "user:" + made.ID, Detail: "role " + made.Role}); err != nil {
			return err
		}
	}
	if err := st.Close(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "The demo evaluation is in %s (made in %.0fs):\n", storeName(s), time.Since(start).Seconds())
	fmt.Fprintf(stdout, "  %d sites (A to M), %d referred children and %d in the comparison group\n", n.Sites, n.Referred, n.Comparison)
	fmt.Fprintf(stdout, "  %d baseline SCTs, %d follow-ups, %d comparison-group SCTs\n", n.Baselines, n.FollowUps, n.ComparisonSCTs)
	fmt.Fprintf(stdout, "  %d practice summaries (%d old format, %d new), %d participation records\n\n", n.PracticeOld+n.PracticeNew, n.PracticeOld, n.PracticeNew, n.Participation)
	serve := "go run ./cmd/sct"
	if s.DataDir != config.Defaults().DataDir && s.Embedded() {
		serve += " --data " + s.DataDir
	}
	fmt.Fprintf(stdout, "Start the server (%s) and sign in at http://%s as:\n", serve, s.Addr)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, u := range users {
		where := "all sites"
		if len(u.sites) > 0 {
			where = "site " + u.sites[0]
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t(%s)\n", u.role, u.email, u.password, where)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nThe passwords are shown only now. The records are made up: no real child is in them.")
	return nil
}

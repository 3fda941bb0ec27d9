package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/google/uuid"

	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/store"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// userAddCommand is "sct user add": it creates an account directly in the
// store, for use while the server is stopped.
func userAddCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var email, role, password string
	var sites listFlag
	s, err := config.Load("sct user add", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the user's email (required)")
		fs.StringVar(&role, "role", "", "admin, evaluator, site_lead or coordinator (required)")
		fs.Var(&sites, "site", "a site the user works in (repeat for several; site_lead and coordinator only)")
		fs.StringVar(&password, "password", "", "the password; read from standard input when not given")
	})
	if err != nil {
		return err
	}
	if email == "" || role == "" {
		return errors.New("--email and --role are required")
	}
	if err := access.CheckAccountSites(access.Role(role), sites); err != nil {
		return err
	}
	if password == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if err := auth.ValidatePassword(password, email); err != nil {
		return fmt.Errorf("password: %w", err)
	}
	st, err := openStore(ctx, s, stderr)
	if err != nil {
		return err
	}
	defer st.Close(context.WithoutCancel(ctx))
	for _, site := range sites {
		ok, err := st.SiteExists(ctx, site)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no site %s; create it with: sct site add --code %s --name NAME", site, site)
		}
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u, err := st.CreateUser(ctx, store.User{ID: uuid.NewString(), Email: email, PasswordHash: hash, Role: role, Sites: sites})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("a user with email %s exists already", strings.ToLower(email))
	}
	if err != nil {
		return err
	}
	if err := st.AppendAudit(ctx, store.AuditEntry{Actor: "cli", Action: "user.create", Target: "user:" + u.ID, Detail: "role " + u.Role}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s %s (id %s)\n", u.Role, u.Email, u.ID)
	return nil
}

// siteAddCommand is "sct site add".
func siteAddCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var code, name string
	s, err := config.Load("sct site add", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&code, "code", "", "the site code, e.g. A (required)")
		fs.StringVar(&name, "name", "", "the site's name (required)")
	})
	if err != nil {
		return err
	}
	if code == "" || name == "" {
		return errors.New("--code and --name are required")
	}
	st, err := openStore(ctx, s, stderr)
	if err != nil {
		return err
	}
	defer st.Close(context.WithoutCancel(ctx))
	site, err := st.CreateSite(ctx, store.Site{Code: code, Name: name})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("site %s exists already", code)
	}
	if err != nil {
		return err
	}
	if err := st.AppendAudit(ctx, store.AuditEntry{Actor: "cli", Action: "site.create", Target: "site:" + site.Code, Site: site.Code}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created site %s (%s)\n", site.Code, site.Name)
	return nil
}

func openStore(ctx context.Context, s config.Settings, stderr io.Writer) (*store.Store, error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return store.Open(ctx, store.Options{URI: s.MongoDBURI, DataDir: s.DataDir, Database: s.Database, Logger: log})
}

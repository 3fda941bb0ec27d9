package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/store"
)

// loadKeys returns the access-token keys: from the settings, or for the
// embedded store from <data>/jwt-keys, made on first start.
func loadKeys(s config.Settings, now time.Time) (*auth.KeyRing, error) {
	if s.JWTKeys != "" {
		k, err := auth.ParseKeys(s.JWTKeys)
		if err != nil {
			return nil, fmt.Errorf("jwt-keys: %w", err)
		}
		return k, nil
	}
	path := filepath.Join(s.DataDir, "jwt-keys")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		spec, err := auth.GenerateKeySpec(now)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("jwt keys: %w", err)
		}
		_, werr := f.WriteString(spec + "\n")
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return nil, fmt.Errorf("jwt keys: %w", err)
		}
		b = []byte(spec)
	} else if err != nil {
		return nil, fmt.Errorf("jwt keys: %w", err)
	}
	k, err := auth.ParseKeys(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// bootstrapAdmin creates the administrator named in the settings, once: only
// while the store has no users at all.
func bootstrapAdmin(ctx context.Context, st *store.Store, s config.Settings, log *slog.Logger) error {
	if s.BootstrapAdminEmail == "" {
		return nil
	}
	n, err := st.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	if err := auth.ValidatePassword(s.BootstrapAdminPassword, s.BootstrapAdminEmail); err != nil {
		return fmt.Errorf("SCT_BOOTSTRAP_ADMIN_PASSWORD: %w", err)
	}
	hash, err := auth.HashPassword(s.BootstrapAdminPassword)
	if err != nil {
		return err
	}
	u, err := st.CreateUser(ctx, store.User{ID: uuid.NewString(), Email: s.BootstrapAdminEmail, PasswordHash: hash, Role: string(access.Admin)})
	if errors.Is(err, store.ErrConflict) {
		return nil // another instance starting beside this one made it
	}
	if err != nil {
		return fmt.Errorf("bootstrap admin: %w", err)
	}
	log.Info("created the bootstrap administrator", "email", u.Email)
	return st.AppendAudit(ctx, store.AuditEntry{Actor: "system", Action: "user.create", Target: "user:" + u.ID, Detail: "bootstrap admin"})
}

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

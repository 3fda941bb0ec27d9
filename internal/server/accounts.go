package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/accounts"
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

// firstRunToken returns the setup token of a first run: made when the store
// has no account and the settings name no administrator to create, else "".
// A first administrator claimed but not yet made (the process stopped
// between the two writes) is made first.
func firstRunToken(ctx context.Context, st *store.Store, s config.Settings) (string, error) {
	if _, err := st.FinishFirstAdmin(ctx); err != nil {
		return "", err
	}
	if s.BootstrapAdminEmail != "" {
		return "", nil
	}
	n, err := st.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	return accounts.NewSetupToken()
}

// setupAddress is the page where the first administrator is made, with the
// token in its fragment (never sent to a server, so kept out of access logs
// and Referer headers): on the public URL if one is set, else on the listen
// address (localhost for a wildcard one).
func setupAddress(public *url.URL, addr net.Addr, token string) string {
	base := "http://" + addr.String()
	if public != nil {
		base = public.String()
	} else if tcp, ok := addr.(*net.TCPAddr); ok && (tcp.IP == nil || tcp.IP.IsUnspecified()) {
		base = "http://" + net.JoinHostPort("localhost", strconv.Itoa(tcp.Port))
	}
	return base + "/setup#token=" + token
}

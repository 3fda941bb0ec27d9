package server

import (
	"context"
	"errors"
	"fmt"
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

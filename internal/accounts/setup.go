package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/store"
)

// The first run. A server started on a store with no account, and no
// administrator named in its settings, makes a setup token and logs the
// address that holds it. With the token, and only with it, a person creates
// the first administrator; that is all the token can do, and it works until
// it has done so or the server stops. It is kept in memory only.

// Errors of the first run's setup.
var (
	ErrSetupClosed   = errors.New("setup is closed: an account exists; sign in")
	ErrBadSetupToken = errors.New("this setup address does not work: open the one the server wrote in its log when it last started")
)

// NewSetupToken returns a new setup token: 32 random bytes, URL-safe.
func NewSetupToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("setup token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// firstRun is the setup token's state: its hash (compared in constant time,
// and of equal length whatever is tried), and whether setup has closed.
type firstRun struct {
	hash   [sha256.Size]byte
	closed bool // guarded by Service.setupMu
}

// SetupOpen reports whether the first administrator may be created
// through this server: it holds a setup token not yet used, and the store
// has no account. Once closed, setup stays closed.
func (s *Service) SetupOpen(ctx context.Context) (bool, error) {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	return s.setupOpenLocked(ctx)
}

func (s *Service) setupOpenLocked(ctx context.Context) (bool, error) {
	if s.setup == nil || s.setup.closed {
		return false, nil
	}
	n, err := s.store.CountUsers(ctx)
	if err != nil {
		return false, err
	}
	if n > 0 {
		s.setup.closed = true
		return false, nil
	}
	return true, nil
}

// CreateFirstAdmin creates the first administrator with the setup token,
// tried from addr: ErrSetupClosed once any account exists or the token has
// been used, ErrBadSetupToken for any other token (counted against the
// address as a failed sign-in is, *LimitedError over the limit), and a
// *form.RequestError for a password the rules refuse. One caller at a time
// is served on this server; the store decides between servers.
func (s *Service) CreateFirstAdmin(ctx context.Context, token, email, password, addr string) (store.User, error) {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	open, err := s.setupOpenLocked(ctx)
	if err != nil {
		return store.User{}, err
	}
	if !open {
		return store.User{}, ErrSetupClosed
	}
	release, err := s.reserve(ctx, []limit{{"setup-address:" + addr, MaxAddressFailures, FailureWindow}})
	if err != nil {
		return store.User{}, err
	}
	given := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(given[:], s.setup.hash[:]) != 1 {
		return store.User{}, ErrBadSetupToken
	}
	release()
	if err := s.checkAccount(ctx, access.Admin, nil, email, &password); err != nil {
		return store.User{}, err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return store.User{}, err
	}
	u, err := s.store.CreateFirstAdmin(ctx, store.User{ID: uuid.NewString(), Email: email, PasswordHash: hash, Role: string(access.Admin)})
	if errors.Is(err, store.ErrConflict) {
		s.setup.closed = true
		return store.User{}, ErrSetupClosed
	}
	if err != nil {
		return store.User{}, err
	}
	s.setup.closed = true
	return u, nil
}

package accounts

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/lifelong-links/sct/internal/store"
)

// LiveFor is how long an instance trusts what it last read of an account
// before reading it again: a change made on any instance (disabled, new
// password, role or sites, signed out) stops the account's older access
// tokens everywhere within it.
const LiveFor = 2 * time.Second

// accountReader is what liveAccounts needs of the store.
type accountReader interface {
	User(ctx context.Context, id string) (store.User, error)
}

// liveAccounts says whether a staff access token's account still stands as
// it did when the token was issued: it exists, is enabled, and its token
// generation has not moved on.
type liveAccounts struct {
	store accountReader
	now   func() time.Time
	mu    sync.Mutex
	seen  map[string]seenAccount
}

type seenAccount struct {
	gen      int
	disabled bool
	role     string
	sites    []string
	at       time.Time
}

func newLiveAccounts(st accountReader, now func() time.Time) *liveAccounts {
	return &liveAccounts{store: st, now: now, seen: map[string]seenAccount{}}
}

// stands reports whether a token of account id issued at generation gen
// may still be used.
func (l *liveAccounts) stands(ctx context.Context, id string, gen int) (bool, error) {
	a, found, err := l.read(ctx, id)
	return found && !a.disabled && a.gen == gen, err
}

// read is what this instance knows of an account, read again when it is
// more than LiveFor old (found false: there is no such account).
func (l *liveAccounts) read(ctx context.Context, id string) (seenAccount, bool, error) {
	now := l.now()
	l.mu.Lock()
	a, ok := l.seen[id]
	l.mu.Unlock()
	if !ok || now.Sub(a.at) >= LiveFor || now.Before(a.at) {
		u, err := l.store.User(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return seenAccount{}, false, nil
		}
		if err != nil {
			return seenAccount{}, false, err
		}
		a = seenAccount{gen: u.TokenGen, disabled: u.Disabled, role: u.Role, sites: u.Sites, at: now}
		l.mu.Lock()
		l.seen[id] = a
		l.mu.Unlock()
	}
	return a, true, nil
}

// forget drops what this instance knows of an account it has just changed,
// so the change takes effect here at once.
func (l *liveAccounts) forget(id string) {
	l.mu.Lock()
	delete(l.seen, id)
	l.mu.Unlock()
}

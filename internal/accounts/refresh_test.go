package accounts_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// The accounts' tests run on the embedded store, then in MongoDB mode.
func TestMain(m *testing.M) { os.Exit(storetest.RunBoth(m)) }

// racingReset is the store with an administrator's password reset made in
// the middle of a renewal, as revoking an account's tokens can interleave
// with it: the reset raises the account's SignInGen and reads the account's
// tokens just before the renewal stores its new token, so its revocation
// (written whenever) misses that token, and has not yet reached the old
// ones when the renewal looks at its sign-in's tokens.
type racingReset struct {
	*store.Store
	user  string
	armed bool
}

func (r *racingReset) InsertRefreshToken(ctx context.Context, t store.RefreshToken) error {
	if r.armed {
		r.armed = false
		if _, err := r.Store.UpdateUser(ctx, r.user, store.UserChange{}); err != nil {
			return err
		}
	}
	return r.Store.InsertRefreshToken(ctx, t)
}

// A renewal that a password reset overtakes ends with the sign-in, even
// when the reset's revocation misses the renewal's new token.
func TestRefresh_OvertakenByAResetEnds(t *testing.T) {
	ctx := t.Context()
	st := storetest.Open(t, store.Options{})
	const password = "quince lantern meadow otter"
	hash, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, store.User{ID: "u1", Email: "coordinator@example.org", PasswordHash: hash, Role: "coordinator", Sites: []string{"A"}})
	if err != nil {
		t.Fatal(err)
	}
	racing := &racingReset{Store: st, user: u.ID}
	acc := newAccounts(t, racing)
	in, err := acc.Login(ctx, u.Email, password, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if in, err = acc.Refresh(ctx, in.RefreshToken); err != nil {
		t.Fatalf("a renewal with nothing in its way: %v", err)
	}

	racing.armed = true
	renewed, err := acc.Refresh(ctx, in.RefreshToken)
	if err == nil {
		if _, err := acc.Refresh(ctx, renewed.RefreshToken); err == nil {
			t.Fatal("a sign-in renewed while the password was reset outlived the reset")
		}
		t.Fatal("a renewal overtaken by a password reset gave a new sign-in")
	}
	if !errors.Is(err, accounts.ErrSignInEnded) {
		t.Fatalf("renewal overtaken by a reset: %v, want the sign-in ended", err)
	}
}

// A token stored before tokens kept the account's sign-in generation ends
// when the account was changed after it was made: a reset racing its first
// renewal cannot hand the renewal the new generation.
func TestRefresh_OldTokenEndsWhenTheAccountChangedSince(t *testing.T) {
	ctx := t.Context()
	st := storetest.Open(t, store.Options{})
	u, err := st.CreateUser(ctx, store.User{ID: "u1", Email: "lead@example.org", PasswordHash: "x", Role: "site_lead", Sites: []string{"A"}})
	if err != nil {
		t.Fatal(err)
	}
	acc := newAccounts(t, st)
	old := func() string {
		tok, hash, err := auth.NewOpaqueToken()
		if err != nil {
			t.Fatal(err)
		}
		if err := st.InsertRefreshToken(ctx, store.RefreshToken{Hash: hash, UserID: u.ID, Family: tok[:12], ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	untouched := old()
	if _, err := acc.Refresh(ctx, untouched); err != nil {
		t.Fatalf("an old token of an account unchanged since: %v", err)
	}
	overtaken := old()
	time.Sleep(2 * time.Millisecond)
	if _, err := st.UpdateUser(ctx, u.ID, store.UserChange{}); err != nil { // the reset, its revocation not yet written
		t.Fatal(err)
	}
	if _, err := acc.Refresh(ctx, overtaken); !errors.Is(err, accounts.ErrSignInEnded) {
		t.Fatalf("an old token of an account changed since: %v, want the sign-in ended", err)
	}
}

// newAccounts is the accounts service on st, with keys of its own.
func newAccounts(t *testing.T, st accounts.Store) *accounts.Service {
	t.Helper()
	return newAccountsWith(t, accounts.Options{Store: st, RefreshTTL: time.Hour, SignInLifetime: 24 * time.Hour})
}

// newAccountsWith is the service with o and tokens signed by fresh keys.
func newAccountsWith(t *testing.T, o accounts.Options) *accounts.Service {
	t.Helper()
	spec, err := auth.GenerateKeySpec(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.ParseKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	o.Tokens = auth.NewTokens(keys, "sct", time.Now)
	return accounts.New(o)
}

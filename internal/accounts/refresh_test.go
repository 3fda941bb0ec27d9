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
	spec, err := auth.GenerateKeySpec(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.ParseKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
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
	acc := accounts.New(accounts.Options{Store: racing, Tokens: auth.NewTokens(keys, "sct", time.Now),
		RefreshTTL: time.Hour, SignInLifetime: 24 * time.Hour})
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

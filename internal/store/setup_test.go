package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/lifelong-links/sct/internal/store"
)

// Of forty first administrators asked for at once, each with an email of
// its own, exactly one is made; every other caller is refused with
// ErrConflict, as is any later one, and an account made otherwise closes
// it too.
func TestCreateFirstAdmin_OneOfManyAtOnce(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = st.CreateFirstAdmin(ctx, store.User{ID: uuid.NewString(), Email: fmt.Sprintf("Admin%d@Example.org", i), PasswordHash: "h", Role: "admin"})
		})
	}
	wg.Wait()
	made := 0
	for i, err := range errs {
		switch {
		case err == nil:
			made++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("caller %d: %v, want ErrConflict", i, err)
		}
	}
	users, err := st.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if made != 1 || len(users) != 1 || users[0].Role != "admin" || users[0].PasswordHash != "h" {
		t.Fatalf("%d made, accounts %+v; want exactly one administrator", made, users)
	}
	if _, err := st.CreateFirstAdmin(ctx, store.User{ID: uuid.NewString(), Email: "late@example.org", Role: "admin"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a later first administrator: %v, want ErrConflict", err)
	}
	claimed, err := st.FinishFirstAdmin(ctx)
	if err != nil || !claimed {
		t.Errorf("FinishFirstAdmin = %v, %v; want claimed", claimed, err)
	}

	other := newStore(t)
	if _, err := other.CreateUser(ctx, store.User{ID: uuid.NewString(), Email: "cli@example.org", Role: "coordinator"}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.CreateFirstAdmin(ctx, store.User{ID: uuid.NewString(), Email: "first@example.org", Role: "admin"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a first administrator on a store with an account: %v, want ErrConflict", err)
	}
	if claimed, err := other.FinishFirstAdmin(ctx); err != nil || claimed {
		t.Errorf("FinishFirstAdmin on a store never set up = %v, %v; want not claimed", claimed, err)
	}
}

package webhook

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// countingStore counts the reads of the webhooks.
type countingStore struct {
	*store.Store
	mu    sync.Mutex
	reads int
}

func (s *countingStore) Webhooks(ctx context.Context) ([]store.Webhook, error) {
	s.mu.Lock()
	s.reads++
	s.mu.Unlock()
	return s.Store.Webhooks(ctx)
}

func (s *countingStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// Every commit starts a round, and a round reads the webhooks again only
// when they may have changed: told so by the service that registered or
// deleted one, after listAgainAfter (another instance's change), or when
// a fresh read is asked for. A webhook registered or deleted through the
// service is known at the next round.
func TestRecord_ReadsTheWebhooksAgainOnlyWhenTheyMayHaveChanged(t *testing.T) {
	ctx := t.Context()
	st := storetest.Open(t, store.Options{})
	if _, err := st.CreateSite(ctx, store.Site{Code: "A", Name: "Site A"}); err != nil {
		t.Fatal(err)
	}
	counting := &countingStore{Store: st}
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	guard, err := ParseAllow("127.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	d := New(Options{Store: counting, Guard: guard, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock, Owner: "one"})
	rounds := func(n int) {
		t.Helper()
		for range n {
			if err := d.record(ctx, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	expect := func(want int, after string) {
		t.Helper()
		if got := counting.count(); got != want {
			t.Fatalf("after %s the webhooks were read %d times, want %d", after, got, want)
		}
	}
	rounds(50)
	expect(1, "50 rounds")
	d.WebhooksChanged()
	rounds(10)
	expect(2, "a change and 10 rounds")
	mu.Lock()
	now = now.Add(listAgainAfter)
	mu.Unlock()
	rounds(10)
	expect(3, "a second and 10 rounds")
	if err := d.RecordNow(ctx); err != nil {
		t.Fatal(err)
	}
	expect(4, "a fresh read")

	svc := NewService(ServiceOptions{Store: st, Guard: guard, Now: clock, Notify: d.Notify, Changed: d.WebhooksChanged})
	w, err := svc.Register(ctx, Registration{URL: "http://127.0.0.1:9/hook", Events: EventTypes(), By: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	known := func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		_, ok := d.hooks[w.ID]
		return ok
	}
	rounds(1)
	if !known() {
		t.Fatal("a webhook registered through the service is not known at the next round")
	}
	if err := svc.Delete(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	rounds(1)
	if known() {
		t.Fatal("a webhook deleted through the service is still known at the next round")
	}
}

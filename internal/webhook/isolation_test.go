package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
	"github.com/lifelong-links/sct/internal/webhook"
)

// One webhook whose receiver is down, with more than a batch of responses
// revised while it is (revisions waiting for their first), holds up no
// other webhook: a healthy one gets every event, the late one too. (The
// batch is 10 here, 100 in production.)
func TestDispatcher_ADownReceiverDoesNotHoldUpOtherWebhooks(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	g := newRig(t, st)
	down, healthy := newReceiver(t), newReceiver(t)
	down.answer = func(int) int { return http.StatusServiceUnavailable }
	g.hook(t, down, []string{webhook.ResponseSubmitted, webhook.ResponseRevised})
	g.hook(t, healthy, []string{webhook.ResponseSubmitted, webhook.ResponseRevised})
	// A batch and one of responses submitted and revised while the
	// dispatcher is not reading (e.g. a busy moment): both revisions of
	// each are recorded.
	tune := fast
	tune.Batch = 10
	tune.FirstRetry, tune.MaxRetry = time.Minute, time.Hour // the down receiver's first revisions wait a while
	n := tune.Batch + 1
	for i := range n {
		id := fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012d", i)
		c := fmt.Sprintf("K%d", i)
		child(t, st, c, "A")
		submit(t, st, id, c, "A")
		submit(t, st, id, c, "A")
	}
	run(t, st, tune, "one")
	child(t, st, "LATE", "A")
	late := "bbbbbbbb-0000-4000-8000-000000000001"
	submit(t, st, late, "LATE", "A")

	// The healthy receiver has all 2n+1 events in well under 20 s.
	deadline := time.Now().Add(20 * time.Second)
	for len(healthy.accepted()) < 2*n+1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	got := healthy.accepted()
	have := map[string]bool{}
	for _, r := range got {
		have[key(r)] = true
	}
	if len(got) < 2*n+1 {
		t.Errorf("the healthy receiver got %d of %d events in 20 s (the late submission: %v); the down receiver's %d waiting revisions hold up the dispatcher",
			len(got), 2*n+1, have[late+"#1"], n)
	}
}

// A response event recorded before its child is erased, and not yet
// received, is never sent after the erasure, nor listed or retried.
func TestDispatcher_AnErasedChildsPendingResponseIsNotDeliveredAfterTheErasure(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	g := newRig(t, st)
	rec := newReceiver(t)
	var up atomic.Bool
	rec.answer = func(int) int {
		if up.Load() {
			return http.StatusNoContent
		}
		return http.StatusServiceUnavailable
	}
	w := g.hook(t, rec, webhook.EventTypes())
	child(t, st, "C9", "A")
	run(t, st, fast, "one")
	submit(t, st, r1, "C9", "A")
	// The first attempt fails: the delivery is pending.
	deadline := time.Now().Add(10 * time.Second)
	for len(rec.all()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no attempt")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := st.EraseChild(t.Context(), "C9"); err != nil {
		t.Fatal(err)
	}
	erasedAt := time.Now()
	up.Store(true)
	rec.waitForKeys(t, 10*time.Second, "erased C9")
	time.Sleep(500 * time.Millisecond)
	for _, got := range rec.accepted() {
		if got.Event.Type != webhook.ChildErased && got.Event.Data.ChildID == "C9" {
			t.Errorf("after C9 was erased (%s) the receiver was sent %s about it: %s", erasedAt.Format(time.RFC3339Nano), got.Event.Type, got.Raw)
		}
	}
	list, _, err := g.svc.Deliveries(t.Context(), w.ID, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list {
		if d.Type != webhook.ChildErased && strings.Contains(d.Body, `"child_id":"C9"`) {
			t.Errorf("the erased child's response event is still stored and listed (retryable): %s %s", d.ID, d.Body)
			if _, err := g.svc.Retry(t.Context(), w.ID, d.ID); err == nil {
				t.Errorf("and an administrator can send it again after the erasure")
			}
		}
	}
}

// A receiver may keep a token in its URL's query: a failed delivery's log
// line and last_error name the URL without it.
func TestDispatcher_AFailedDeliveryNamesTheURLWithoutItsQuery(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	g := newRig(t, st)
	var logs syncBuf
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// A receiver that is not listening: a connection error (url.Error).
	w, err := g.svc.Register(t.Context(), webhook.Registration{URL: "http://127.0.0.1:1/hook?token=RECEIVER-SECRET-TOKEN",
		Events: webhook.EventTypes(), By: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	d := webhook.New(webhook.Options{Store: st, Guard: loopback, Tuning: fast, Logger: log, Owner: "one", Sole: st.Embedded()})
	st.OnCommit(func(string, *store.Response) { d.Notify() })
	stop := runDispatcher(t, d)
	child(t, st, "C1", "A")
	submit(t, st, r1, "C1", "A")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "delivery failed") {
		if time.Now().After(deadline) {
			t.Fatal("no failed delivery logged")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if strings.Contains(logs.String(), "RECEIVER-SECRET-TOKEN") {
		t.Errorf("the log holds the receiver's token from the URL's query:\n%s", firstLineWith(logs.String(), "RECEIVER-SECRET-TOKEN"))
	}
	list, _, _ := g.svc.Deliveries(t.Context(), w.ID, nil, 10)
	for _, dl := range list {
		if strings.Contains(dl.LastError, "RECEIVER-SECRET-TOKEN") {
			t.Errorf("last_error holds the token: %s", dl.LastError)
		}
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func firstLineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

func runDispatcher(t *testing.T, d *webhook.Dispatcher) func() {
	ctx, cancel := contextWithCancel()
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// A receiver that answers nothing (each attempt waits for the timeout)
// holds no more than its share of the workers: another webhook's events
// go out meanwhile.
func TestDispatcher_ASlowReceiverHoldsOnlyItsShareOfTheWorkers(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	g := newRig(t, st)
	slow, healthy := newReceiver(t), newReceiver(t)
	hold := make(chan struct{})
	slow.hold = hold
	t.Cleanup(func() { close(hold) })
	g.hook(t, slow, []string{webhook.ResponseSubmitted})
	g.hook(t, healthy, []string{webhook.ResponseSubmitted})
	tune := fast
	tune.Workers, tune.PerWebhook, tune.Timeout, tune.Lease = 4, 2, 30*time.Second, time.Minute
	run(t, st, tune, "one")
	var keys []string
	for i := range 6 {
		id := fmt.Sprintf("cccccccc-0000-4000-8000-%012d", i)
		c := fmt.Sprintf("S%d", i)
		child(t, st, c, "A")
		submit(t, st, id, c, "A")
		keys = append(keys, id+"#1")
	}
	healthy.waitForKeys(t, 10*time.Second, keys...)
	if n := len(slow.all()); n != 0 {
		t.Errorf("the held receiver answered %d requests", n)
	}
}

// A webhook deleted while the dispatcher records deliveries to it (after
// the deletion took the deliveries it found) is left with none.
func TestDispatcher_AWebhookDeletedWhileRecordingIsLeftWithNoDeliveries(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	g := newRig(t, st)
	rec := newReceiver(t)
	w := g.hook(t, rec, webhook.EventTypes())
	child(t, st, "C1", "A")
	submit(t, st, r1, "C1", "A")
	submit(t, st, r1, "C1", "A")
	racing := &deletingStore{Store: st, webhook: w.ID}
	d := webhook.New(webhook.Options{Store: racing, Guard: loopback, Tuning: fast, Logger: quiet(), Owner: "one"})
	if err := d.RecordNow(t.Context()); err != nil {
		t.Fatal(err)
	}
	if racing.recorded == 0 {
		t.Fatal("nothing was recorded: the race was not run")
	}
	list, _, err := st.Deliveries(t.Context(), w.ID, nil, 100)
	if err != nil || len(list) != 0 {
		t.Fatalf("the deleted webhook has %d deliveries (%v): %+v", len(list), err, list)
	}
}

// deletingStore deletes a webhook just before recording the first
// delivery, as an administrator deleting it then would.
type deletingStore struct {
	*store.Store
	webhook  string
	recorded int
}

func (s *deletingStore) RecordDelivery(ctx context.Context, d store.Delivery) (bool, error) {
	if s.recorded == 0 {
		if err := s.DeleteWebhook(ctx, s.webhook); err != nil {
			return false, err
		}
	}
	s.recorded++
	return s.Store.RecordDelivery(ctx, d)
}

// A response's delivery recorded after its child's erasure (a dispatcher
// that read the response just before) is dropped, not sent, and its retry
// is refused.
func TestDispatcher_ADeliveryRecordedAfterItsChildsErasureIsDroppedNotSent(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	g := newRig(t, st)
	rec := newReceiver(t)
	w := g.hook(t, rec, []string{webhook.ResponseSubmitted})
	child(t, st, "C9", "A")
	if err := st.EraseChild(t.Context(), "C9"); err != nil {
		t.Fatal(err)
	}
	late := store.Delivery{ID: "msg_0123456789abcdef0123456789abcdef", WebhookID: w.ID, Type: webhook.ResponseSubmitted,
		Key: r1, Seq: 1, ChildID: "C9", Site: "A", Body: `{"type":"response.submitted","data":{"child_id":"C9"}}`,
		Deadline: time.Now().Add(time.Hour)}
	if _, err := st.RecordDelivery(t.Context(), late); err != nil {
		t.Fatal(err)
	}
	if _, err := g.svc.Retry(t.Context(), w.ID, late.ID); !errors.Is(err, webhook.ErrErased) {
		t.Fatalf("retry: %v, want refused as erased", err)
	}
	if _, err := st.Delivery(t.Context(), late.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the refused retry the delivery is still stored: %v", err)
	}
	if _, err := st.RecordDelivery(t.Context(), late); err != nil {
		t.Fatal(err)
	}
	run(t, st, fast, "one")
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := st.Delivery(t.Context(), late.ID)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery is still stored: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(rec.all()); n != 0 {
		t.Fatalf("the receiver was sent %d requests about the erased child", n)
	}
}

// A revision waiting for the one before it is looked at again once that
// one's attempt must have been made, so a release lost (a process stopped
// between finishing the first and releasing the second) delays it only
// that long.
func TestDispatcher_ARevisionWhoseReleaseWasLostIsSentAfterAWhile(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	g := newRig(t, st)
	rec := newReceiver(t)
	g.hook(t, rec, []string{webhook.ResponseSubmitted, webhook.ResponseRevised})
	child(t, st, "C1", "A")
	submit(t, st, r1, "C1", "A")
	submit(t, st, r1, "C1", "A")
	tune := fast
	tune.Timeout, tune.Lease = 500*time.Millisecond, time.Second
	d := webhook.New(webhook.Options{Store: releaseLost{st}, Guard: loopback, Tuning: tune, Logger: quiet(), Owner: "one", Sole: st.Embedded()})
	runDispatcher(t, d)
	rec.waitForKeys(t, 10*time.Second, r1+"#1", r1+"#2")
	if got := rec.accepted(); len(got) != 2 || key(got[0]) != r1+"#1" {
		t.Fatalf("received %s, want #1 then #2", describe(got))
	}
}

// releaseLost loses every release of a waiting delivery.
type releaseLost struct{ *store.Store }

func (releaseLost) ReleaseDelivery(context.Context, string) error { return nil }

package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// clockStore opens a fresh store whose clock the test moves.
func clockStore(t *testing.T) (*store.Store, *atomic.Int64) {
	t.Helper()
	var now atomic.Int64
	now.Store(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC).UnixMilli())
	s := storetest.Open(t, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return time.UnixMilli(now.Load()).UTC() }})
	return s, &now
}

func delivery(id, hook string, seq int) store.Delivery {
	return store.Delivery{ID: id, WebhookID: hook, Type: "response.submitted", Key: "r1", Seq: seq, Body: `{"type":"x"}`,
		Deadline: time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)}
}

func TestWebhooks_CreateListDeleteTakesDeliveriesAlong(t *testing.T) {
	s, _ := clockStore(t)
	ctx := t.Context()
	a, err := s.CreateWebhook(ctx, store.Webhook{ID: "h1", URL: "https://a.example.org/", Events: []string{"child.erased"}, Secret: "whsec_x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateWebhook(ctx, store.Webhook{ID: "h1", URL: "https://b.example.org/"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second webhook with the same id: %v, want a conflict", err)
	}
	if _, err := s.CreateWebhook(ctx, store.Webhook{ID: "h2", URL: "https://b.example.org/", Sites: []string{"A"}}); err != nil {
		t.Fatal(err)
	}
	list, err := s.Webhooks(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "h1" || list[1].Sites[0] != "A" {
		t.Fatalf("listed %+v, %v", list, err)
	}
	if got, err := s.Webhook(ctx, "h1"); err != nil || got.Secret != "whsec_x" || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("read %+v, %v", got, err)
	}
	for _, d := range []store.Delivery{delivery("d1", "h1", 1), delivery("d2", "h2", 1)} {
		if _, err := s.RecordDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteWebhook(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Webhook(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a deleted webhook reads %v, want not found", err)
	}
	if _, err := s.Delivery(ctx, "d1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a deleted webhook's delivery reads %v, want not found", err)
	}
	if _, err := s.Delivery(ctx, "d2"); err != nil {
		t.Fatalf("another webhook's delivery: %v", err)
	}
	if err := s.DeleteWebhook(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting again: %v, want not found", err)
	}
}

func TestRecordDelivery_SameEventTwiceIsOneDelivery(t *testing.T) {
	s, _ := clockStore(t)
	ctx := t.Context()
	first, err := s.RecordDelivery(ctx, delivery("d1", "h1", 1))
	if err != nil || !first {
		t.Fatalf("first record: %v %v", first, err)
	}
	// Recorded again (a catch-up reading the change again, another
	// instance) while its first attempt failed: nothing changes.
	if err := s.FinishAttempt(ctx, "d1", store.Attempt{N: 1, Status: store.DeliveryPending, HTTPStatus: 503, Error: "answered 503",
		NextAt: time.Date(2026, 5, 1, 9, 0, 5, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	again, err := s.RecordDelivery(ctx, delivery("d1", "h1", 1))
	if err != nil || again {
		t.Fatalf("second record: %v %v, want false and no error", again, err)
	}
	d, err := s.Delivery(ctx, "d1")
	if err != nil || d.Attempts != 1 || d.LastError != "answered 503" || d.LastStatus != 503 {
		t.Fatalf("after recording again: %+v, %v", d, err)
	}
}

func TestDueDeliveries_PendingAndDueOnlyLongestDueFirst(t *testing.T) {
	s, now := clockStore(t)
	ctx := t.Context()
	t0 := time.UnixMilli(now.Load()).UTC()
	for i, off := range []time.Duration{3 * time.Second, time.Second, 2 * time.Second} {
		d := delivery(fmt.Sprintf("d%d", i), "h1", 1)
		d.NextAt = t0.Add(off)
		if _, err := s.RecordDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FinishAttempt(ctx, "d2", store.Attempt{N: 1, Status: store.DeliveryDelivered, HTTPStatus: 204}); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueDeliveries(ctx, "h1", t0.Add(5*time.Second), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 || due[0].ID != "d1" || due[1].ID != "d0" {
		t.Fatalf("due %+v, want d1 then d0 (d2 is delivered)", due)
	}
	if due, _ := s.DueDeliveries(ctx, "h1", t0.Add(1500*time.Millisecond), 10); len(due) != 1 || due[0].ID != "d1" {
		t.Fatalf("due at +1.5s: %+v, want d1 alone", due)
	}
	next, err := s.NextDue(ctx, t0)
	if err != nil || !next.Equal(t0.Add(time.Second)) {
		t.Fatalf("next due %v, %v; want %v", next, err, t0.Add(time.Second))
	}
	if next, err := s.NextDue(ctx, t0.Add(time.Second)); err != nil || !next.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("next due after +1s: %v, %v; want +3s (d2 is delivered)", next, err)
	}
	if next, err := s.NextDue(ctx, t0.Add(3*time.Second)); err != nil || !next.IsZero() {
		t.Fatalf("next due after +3s: %v, %v; want none", next, err)
	}
	d2, _ := s.Delivery(ctx, "d2")
	if d2.Status != store.DeliveryDelivered || d2.FinishedAt == nil || d2.Attempts != 1 {
		t.Fatalf("delivered: %+v", d2)
	}
}

func TestClaimAttempt_OneClaimantAtATimeUntilTheClaimRunsOut(t *testing.T) {
	s, now := clockStore(t)
	ctx := t.Context()
	if _, err := s.RecordDelivery(ctx, delivery("d1", "h1", 1)); err != nil {
		t.Fatal(err)
	}
	d, _ := s.Delivery(ctx, "d1")
	t0 := time.UnixMilli(now.Load())
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			n, ok, err := s.ClaimAttempt(ctx, d, fmt.Sprintf("instance-%d", i), t0.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
				if n != 1 {
					t.Errorf("claimed attempt %d, want 1", n)
				}
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d claimants won attempt 1, want 1", wins.Load())
	}
	// Its maker was killed: once the claim runs out, the next attempt is
	// another's to make.
	now.Store(t0.Add(2 * time.Minute).UnixMilli())
	n, ok, err := s.ClaimAttempt(ctx, d, "instance-late", t0.Add(3*time.Minute))
	if err != nil || !ok || n != 2 {
		t.Fatalf("after the claim ran out: attempt %d, %v, %v; want attempt 2", n, ok, err)
	}
	// A released claim can be taken again.
	if err := s.ReleaseAttempt(ctx, "d1", 2, "instance-late"); err != nil {
		t.Fatal(err)
	}
	if n, ok, _ := s.ClaimAttempt(ctx, d, "instance-next", t0.Add(4*time.Minute)); !ok || n != 2 {
		t.Fatalf("after release: attempt %d, %v; want attempt 2", n, ok)
	}
	if err := s.ClearClaims(ctx); err != nil {
		t.Fatal(err)
	}
	if n, ok, _ := s.ClaimAttempt(ctx, d, "instance-restarted", t0.Add(5*time.Minute)); !ok || n != 1 {
		t.Fatalf("after clearing: attempt %d, %v; want attempt 1", n, ok)
	}
}

func TestFinishAttempt_AnEarlierAttemptDoesNotOverwriteALater(t *testing.T) {
	s, _ := clockStore(t)
	ctx := t.Context()
	if _, err := s.RecordDelivery(ctx, delivery("d1", "h1", 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishAttempt(ctx, "d1", store.Attempt{N: 2, Status: store.DeliveryDelivered, HTTPStatus: 200}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishAttempt(ctx, "d1", store.Attempt{N: 1, Status: store.DeliveryPending, Error: "late", NextAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Delivery(ctx, "d1"); d.Status != store.DeliveryDelivered || d.Attempts != 2 || d.LastError != "" {
		t.Fatalf("after a late first attempt: %+v", d)
	}
}

func TestRetryDelivery_MakesAGivenUpDeliveryDueAgain(t *testing.T) {
	s, now := clockStore(t)
	ctx := t.Context()
	if _, err := s.RecordDelivery(ctx, delivery("d1", "h1", 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishAttempt(ctx, "d1", store.Attempt{N: 9, Status: store.DeliveryFailed, Error: "answered 500"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RetryDelivery(ctx, "other-hook", "d1", time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("retry through another webhook: %v, want not found", err)
	}
	deadline := time.UnixMilli(now.Load()).Add(24 * time.Hour).UTC()
	d, err := s.RetryDelivery(ctx, "h1", "d1", deadline)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != store.DeliveryPending || d.FinishedAt != nil || !d.Deadline.Equal(deadline) || d.Attempts != 9 {
		t.Fatalf("retried: %+v", d)
	}
	if due, _ := s.DueDeliveries(ctx, "h1", time.UnixMilli(now.Load()), 10); len(due) != 1 {
		t.Fatalf("due after retry: %+v", due)
	}
}

func TestDeliveries_PagesNewestFirst(t *testing.T) {
	s, now := clockStore(t)
	ctx := t.Context()
	for i := range 5 {
		now.Add(1000)
		if _, err := s.RecordDelivery(ctx, delivery(fmt.Sprintf("d%d", i), "h1", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RecordDelivery(ctx, delivery("x", "h2", 1)); err != nil {
		t.Fatal(err)
	}
	var got []string
	var before *store.DeliveryCursor
	for page := 0; ; page++ {
		list, more, err := s.Deliveries(ctx, "h1", before, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range list {
			got = append(got, d.ID)
		}
		if !more {
			break
		}
		last := list[len(list)-1]
		before = &store.DeliveryCursor{At: last.CreatedAt, ID: last.ID}
	}
	if fmt.Sprint(got) != "[d4 d3 d2 d1 d0]" {
		t.Fatalf("pages %v, want d4 to d0", got)
	}
}

func TestPruneDeliveries_DropsOnlyFinishedOnesPastKeeping(t *testing.T) {
	s, now := clockStore(t)
	ctx := t.Context()
	for _, id := range []string{"old-done", "old-pending", "new-done"} {
		if _, err := s.RecordDelivery(ctx, delivery(id, "h1", 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FinishAttempt(ctx, "old-done", store.Attempt{N: 1, Status: store.DeliveryDelivered}); err != nil {
		t.Fatal(err)
	}
	now.Add(int64(48 * time.Hour / time.Millisecond))
	if err := s.FinishAttempt(ctx, "new-done", store.Attempt{N: 1, Status: store.DeliveryDelivered}); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneDeliveries(ctx, time.UnixMilli(now.Load()).Add(-24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want 1", n, err)
	}
	for id, want := range map[string]bool{"old-done": false, "old-pending": true, "new-done": true} {
		if _, err := s.Delivery(ctx, id); (err == nil) != want {
			t.Errorf("%s: %v; want kept %v", id, err, want)
		}
	}
}

func TestWebhookMark_ReadsBackWhatWasSet(t *testing.T) {
	s, _ := clockStore(t)
	ctx := t.Context()
	if m, err := s.WebhookMark(ctx); err != nil || !m.IsZero() {
		t.Fatalf("a new store's mark: %v, %v", m, err)
	}
	at := time.Date(2026, 5, 1, 9, 30, 0, 123456789, time.UTC)
	for range 2 {
		if err := s.SetWebhookMark(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	if m, err := s.WebhookMark(ctx); err != nil || !m.Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("mark %v, %v; want %v", m, err, at)
	}
}

func TestChangesSince_ListSubmittedAndErasedWithTheChildsSite(t *testing.T) {
	s, now := clockStore(t)
	ctx := context.Background()
	if _, err := s.CreateChild(ctx, store.Child{ID: "C1", Site: "B", Group: "comparison"}); err != nil {
		t.Fatal(err)
	}
	t0 := time.UnixMilli(now.Load()).UTC()
	old := sct("11111111-1111-4111-8111-111111111111", "C1", "baseline", 1, store.StatusSubmitted)
	old.Site, old.UpdatedAt = "B", t0.Add(-time.Hour)
	recent := sct("22222222-2222-4222-8222-222222222222", "C1", "follow_up", 1, store.StatusSubmitted)
	recent.Site, recent.UpdatedAt = "B", t0
	mustInsert(t, s, old, recent)
	changed, err := s.ResponsesChangedSince(ctx, t0.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || changed[0].ID != recent.ID || changed[0].Revision != 1 || changed[0].Site != "B" ||
		changed[0].Status != store.StatusSubmitted || !changed[0].UpdatedAt.Equal(t0) {
		t.Fatalf("changed since a minute ago: %+v", changed)
	}
	now.Add(1000)
	if err := s.EraseChild(ctx, "C1"); err != nil {
		t.Fatal(err)
	}
	erased, err := s.ErasuresSince(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	var child *store.Erasure
	for i, e := range erased {
		if e.ID == store.ErasedChild("C1") {
			child = &erased[i]
		}
	}
	if len(erased) != 3 || child == nil || child.Site != "B" || !child.At.Equal(t0.Add(time.Second)) {
		t.Fatalf("erasures %+v, want both responses and the child, of site B", erased)
	}
}

func TestDeliveries_AWaitingOneIsNotDueUntilReleased(t *testing.T) {
	s, now := clockStore(t)
	ctx := t.Context()
	t0 := time.UnixMilli(now.Load()).UTC()
	for _, id := range []string{"d1", "d2"} {
		if _, err := s.RecordDelivery(ctx, delivery(id, "h1", 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WaitDelivery(ctx, "d2", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueDeliveries(ctx, "h1", t0, 10); len(due) != 1 || due[0].ID != "d1" {
		t.Fatalf("due while d2 waits: %+v, want d1 alone", due)
	}
	if due, _ := s.DueDeliveries(ctx, "h2", t0, 10); len(due) != 0 {
		t.Fatalf("due for another webhook: %+v", due)
	}
	// Releasing one that is not waiting changes nothing.
	if err := s.FinishAttempt(ctx, "d1", store.Attempt{N: 1, Status: store.DeliveryPending, NextAt: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseDelivery(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Delivery(ctx, "d1"); !d.NextAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("a delivery not waiting was released: %+v", d)
	}
	now.Add(1000)
	if err := s.ReleaseDelivery(ctx, "d2"); err != nil {
		t.Fatal(err)
	}
	d, err := s.Delivery(ctx, "d2")
	if err != nil || d.Waiting || !d.NextAt.Equal(t0.Add(time.Second)) {
		t.Fatalf("released: %+v %v", d, err)
	}
}

func TestDeliveries_OrphansOfDeletedWebhooksAreDeleted(t *testing.T) {
	s, now := clockStore(t)
	ctx := t.Context()
	for _, d := range []store.Delivery{delivery("d1", "h1", 1), delivery("d2", "gone", 1)} {
		if _, err := s.RecordDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	now.Add(1000)
	if _, err := s.RecordDelivery(ctx, delivery("d3", "new", 1)); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteOrphanDeliveries(ctx, []string{"h1"}, time.UnixMilli(now.Load()).Add(-500*time.Millisecond))
	if err != nil || n != 1 {
		t.Fatalf("deleted %d, %v; want d2 alone", n, err)
	}
	for id, want := range map[string]bool{"d1": true, "d2": false, "d3": true} {
		if _, err := s.Delivery(ctx, id); (err == nil) != want {
			t.Errorf("%s: %v, want kept %v", id, err, want)
		}
	}
	if err := s.DeleteDeliveriesOf(ctx, "new"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delivery(ctx, "d3"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("d3 after its webhook's deliveries were deleted: %v", err)
	}
}

// A child's erasure deletes the deliveries of their responses, of every
// webhook, and keeps that of the erasure itself and those of other
// children.
func TestEraseChild_DeletesTheDeliveriesOfTheirResponses(t *testing.T) {
	s, _ := clockStore(t)
	ctx := t.Context()
	for _, d := range []store.Delivery{
		{ID: "r1", WebhookID: "h1", Key: "resp-1", Seq: 1, ChildID: "C1"},
		{ID: "r2", WebhookID: "h2", Key: "resp-1", Seq: 2, ChildID: "C1"},
		{ID: "e1", WebhookID: "h1", Key: "child:C1", ChildID: "C1"},
		{ID: "o1", WebhookID: "h1", Key: "resp-2", Seq: 1, ChildID: "C2"},
	} {
		d.Type, d.Body = "response.submitted", "{}"
		if _, err := s.RecordDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // a second run (finishing one cut short) changes nothing more
		if err := s.EraseChild(ctx, "C1"); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]bool{"r1": false, "r2": false, "e1": true, "o1": true} {
			if _, err := s.Delivery(ctx, id); (err == nil) != want {
				t.Errorf("%s: %v, want kept %v", id, err, want)
			}
		}
	}
	if gone, err := s.Erased(ctx, "resp-x", store.ErasedChild("C1")); err != nil || !gone {
		t.Fatalf("erased C1: %v %v", gone, err)
	}
	if gone, err := s.Erased(ctx, "resp-x", store.ErasedChild("C2")); err != nil || gone {
		t.Fatalf("erased C2: %v %v", gone, err)
	}
}

package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
	"github.com/lifelong-links/sct/internal/webhook"
)

// fast are timings that let a test see retries in milliseconds.
var fast = webhook.Tuning{FirstRetry: 20 * time.Millisecond, MaxRetry: 100 * time.Millisecond, Timeout: 2 * time.Second,
	Lease: 5 * time.Second, Poll: 50 * time.Millisecond, Skew: 2 * time.Second}

// loopback lets deliveries reach the receivers the tests start.
var loopback, _ = webhook.ParseAllow("127.0.0.1")

func quiet() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// received is one request a receiver got.
type received struct {
	ID     string // webhook-id
	Event  webhook.Event
	Raw    string
	Status int   // what the receiver answered
	Err    error // what the verification found
}

// receiver is a webhook receiver in the test process: it verifies each
// request as the specification says and answers what answer says.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	got    []received
	answer func(n int) int // the status for the nth request (from 1)
	hold   chan struct{}   // when set, requests wait on it
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{answer: func(int) int { return http.StatusNoContent }}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	hold := r.hold
	r.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-req.Context().Done():
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := received{ID: req.Header.Get("webhook-id"), Raw: string(body), Err: verify(r.secret, req.Header, body, time.Now())}
	if err := json.Unmarshal(body, &rec.Event); err != nil {
		rec.Err = err
	}
	rec.Status = r.answer(len(r.got) + 1)
	r.got = append(r.got, rec)
	w.WriteHeader(rec.Status)
}

// accepted lists the requests answered 2xx, in the order they came.
func (r *receiver) accepted() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []received
	for _, g := range r.got {
		if g.Status/100 == 2 {
			out = append(out, g)
		}
	}
	return out
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// waitFor waits until the receiver has accepted n requests.
func (r *receiver) waitFor(t *testing.T, n int, within time.Duration) []received {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := r.accepted()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver accepted %d requests in %s, want %d: %s", len(got), within, n, describe(r.all()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitForKeys waits until the receiver has accepted every event named (see
// key).
func (r *receiver) waitForKeys(t *testing.T, within time.Duration, keys ...string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		have := map[string]bool{}
		for _, g := range r.accepted() {
			have[key(g)] = true
		}
		missing := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return have[k] })
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver lacks %v after %s: %s", missing, within, describe(r.all()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func describe(rs []received) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "\n  %s %s %s#%d → %d", r.ID, r.Event.Type, r.Event.Data.ResponseID+r.Event.Data.ChildID, r.Event.Data.Revision, r.Status)
	}
	return b.String()
}

// rig is a store with sites A and B and the webhook service over it.
type rig struct {
	st  *store.Store
	svc *webhook.Service
}

func newRig(t *testing.T, st *store.Store) *rig {
	t.Helper()
	for _, s := range []string{"A", "B"} {
		if _, err := st.CreateSite(t.Context(), store.Site{Code: s, Name: "Site " + s}); err != nil {
			t.Fatal(err)
		}
	}
	return &rig{st: st, svc: webhook.NewService(webhook.ServiceOptions{Store: st, Guard: loopback})}
}

// hook registers a webhook for the receiver and tells it the secret.
func (g *rig) hook(t *testing.T, r *receiver, events []string, sites ...string) store.Webhook {
	t.Helper()
	w, err := g.svc.Register(t.Context(), webhook.Registration{URL: r.srv.URL + "/hook", Events: events, Sites: sites, By: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.secret = w.Secret
	r.mu.Unlock()
	return w
}

// run starts a dispatcher on the store, told of its commits, until the
// test ends or stop is called.
func run(t *testing.T, st *store.Store, tune webhook.Tuning, owner string) (stop func()) {
	t.Helper()
	d := webhook.New(webhook.Options{Store: st, Guard: loopback, Tuning: tune, Logger: quiet(), Owner: owner, Sole: st.Embedded()})
	st.OnCommit(func(string, *store.Response) { d.Notify() })
	st.OnChildCommit(func(string, *store.Child) { d.Notify() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// submit stores a submitted revision of a response: the first, or the
// next after the stored one. The answers name people, as an SCT does.
func submit(t *testing.T, st *store.Store, id, child, site string) store.Response {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	r := store.Response{ID: id, Form: "sct", Version: "1", ChildID: child, Site: site, Group: "lifelong_links", Timepoint: "baseline",
		Wave: 1, CompletedOn: "2026-05-01", Mode: "paper", Status: store.StatusSubmitted, CreatedAt: now, UpdatedAt: now, SubmittedAt: &now,
		Answers: map[string]any{"nominees": []any{map[string]any{"name": "Nanna-Secret", "relationship": "grandparent"}}}}
	prev, err := st.Response(ctx, id)
	switch {
	case err == nil:
		r.Revision, r.BodyHash, r.CreatedAt = prev.Revision+1, fmt.Sprintf("h%d", prev.Revision+1), prev.CreatedAt
		r.Answers["nominees"] = append(r.Answers["nominees"].([]any), map[string]any{"name": "Mr-K-Secret", "relationship": "school_staff"})
		if prev.Status == store.StatusDraft {
			r.Revision = 1
		}
		err = st.UpdateResponse(ctx, r, prev)
	default:
		r.Revision, r.BodyHash = 1, "h1"
		err = st.InsertResponse(ctx, r)
	}
	if err != nil {
		t.Fatalf("submit %s: %v", id, err)
	}
	return r
}

func draft(t *testing.T, st *store.Store, id, child, site string) {
	t.Helper()
	now := time.Now().UTC()
	if err := st.InsertResponse(t.Context(), store.Response{ID: id, Form: "sct", Version: "1", ChildID: child, Site: site, Group: "comparison",
		Timepoint: "baseline", Wave: 1, Mode: "online", Status: store.StatusDraft, BodyHash: "d", CreatedAt: now, UpdatedAt: now,
		Answers: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
}

func child(t *testing.T, st *store.Store, id, site string) {
	t.Helper()
	if _, err := st.CreateChild(t.Context(), store.Child{ID: id, Site: site, Group: "lifelong_links"}); err != nil {
		t.Fatal(err)
	}
}

// key is what an accepted request was about: a response's revision, or an
// erased child.
func key(r received) string {
	if r.Event.Type == webhook.ChildErased {
		return "erased " + r.Event.Data.ChildID
	}
	return fmt.Sprintf("%s#%d", r.Event.Data.ResponseID, r.Event.Data.Revision)
}

func checkSignedAndNameless(t *testing.T, got []received) {
	t.Helper()
	for _, g := range got {
		if g.Err != nil {
			t.Errorf("%s: %v", g.ID, g.Err)
		}
		for _, name := range []string{"Nanna-Secret", "Mr-K-Secret", "nominees", "answers"} {
			if strings.Contains(g.Raw, name) {
				t.Errorf("%s carries %q: %s", g.ID, name, g.Raw)
			}
		}
	}
}

const (
	r1 = "11111111-1111-4111-8111-111111111111"
	r2 = "22222222-2222-4222-8222-222222222222"
	r3 = "33333333-3333-4333-8333-333333333333"
)

func TestDispatcher_DeliversEveryEventOnceSignedInOrderAsEachWebhookAsked(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	g := newRig(t, st)
	all, onlyB := newReceiver(t), newReceiver(t)
	g.hook(t, all, webhook.EventTypes())
	g.hook(t, onlyB, []string{webhook.ResponseSubmitted}, "B")

	child(t, st, "C1", "A")
	child(t, st, "C3", "B")
	// Three revisions before the dispatcher first reads: the first two
	// are read from the history.
	submit(t, st, r1, "C1", "A")
	submit(t, st, r1, "C1", "A")
	submit(t, st, r1, "C1", "A")
	draft(t, st, r2, "C1", "A")
	run(t, st, fast, "one")
	submit(t, st, r3, "C3", "B")
	// (A response erased before it is read for webhooks is not told of:
	// the erasure is.)
	// (Received before the erasure: a delivery of C3's response still
	// pending then would be deleted with it.)
	onlyB.waitFor(t, 1, 5*time.Second)
	all.waitForKeys(t, 5*time.Second, r3+"#1")
	if err := st.EraseChild(t.Context(), "C3"); err != nil {
		t.Fatal(err)
	}

	all.waitFor(t, 5, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // time for anything more to arrive, which it must not
	got, gotB := all.accepted(), onlyB.accepted()
	checkSignedAndNameless(t, got)
	checkSignedAndNameless(t, gotB)

	var keys []string
	ids := map[string]bool{}
	for _, r := range got {
		keys = append(keys, key(r))
		ids[r.ID] = true
	}
	if len(got) != 5 || len(ids) != 5 {
		t.Fatalf("the first webhook got %v (%d ids), want 5 events once each", keys, len(ids))
	}
	want := []string{r1 + "#1", r1 + "#2", r1 + "#3"}
	var ofR1 []string
	for _, k := range keys {
		if strings.HasPrefix(k, r1) {
			ofR1 = append(ofR1, k)
		}
	}
	if !slices.Equal(ofR1, want) {
		t.Fatalf("the revisions of one response came as %v, want %v", ofR1, want)
	}
	if !slices.Contains(keys, r3+"#1") || !slices.Contains(keys, "erased C3") {
		t.Fatalf("got %v, want site B's submission and the erasure too", keys)
	}
	for _, r := range got {
		d := r.Event.Data
		switch key(r) {
		case r1 + "#1":
			if r.Event.Type != webhook.ResponseSubmitted || d.ChildID != "C1" || d.Site != "A" || d.Form != "sct" || d.Version != "1" ||
				d.Timepoint != "baseline" || d.Wave != 1 || d.Status != "submitted" || d.Time.IsZero() || !r.Event.Timestamp.Equal(d.Time) {
				t.Errorf("the first submission: %+v", r.Event)
			}
		case r1 + "#2", r1 + "#3":
			if r.Event.Type != webhook.ResponseRevised {
				t.Errorf("%s is a %s, want a revision", key(r), r.Event.Type)
			}
		case "erased C3":
			if d.Site != "B" || d.ResponseID != "" {
				t.Errorf("the erasure: %+v", r.Event)
			}
		}
	}
	if len(gotB) != 1 || key(gotB[0]) != r3+"#1" || gotB[0].Event.Type != webhook.ResponseSubmitted {
		t.Fatalf("the site B webhook for submissions got %s, want site B's submission alone", describe(gotB))
	}
}

func TestDispatcher_AReceiverDownForAWhileGetsEveryEventOnceBack(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	g := newRig(t, st)
	rec := newReceiver(t)
	down := true
	rec.answer = func(int) int {
		if down {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
	w := g.hook(t, rec, webhook.EventTypes())
	run(t, st, fast, "one")
	for i, id := range []string{r1, r2, r3} {
		child(t, st, fmt.Sprint("C", i), "A")
		submit(t, st, id, fmt.Sprint("C", i), "A")
	}
	submit(t, st, r1, "C0", "A")
	submit(t, st, r2, "C1", "A")

	// Down until every delivery has failed at least twice.
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, _, err := g.svc.Deliveries(t.Context(), w.ID, nil, 100)
		if err != nil {
			t.Fatal(err)
		}
		failing := 0
		for _, d := range list {
			if d.Attempts >= 2 && strings.Contains(d.LastError, "503") && d.Status == store.DeliveryPending {
				failing++
			}
		}
		// The revisions wait for the first submissions: three are tried.
		if failing >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries while down: %+v", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, r := range rec.all() {
		if r.Event.Type == webhook.ResponseRevised {
			t.Fatalf("a revision was sent before its submission was received: %s", describe(rec.all()))
		}
	}
	rec.mu.Lock()
	down = false
	rec.mu.Unlock()
	rec.waitFor(t, 5, 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	got := rec.accepted()
	checkSignedAndNameless(t, got)
	var keys []string
	for _, r := range got {
		keys = append(keys, key(r))
	}
	if len(got) != 5 {
		t.Fatalf("accepted %v, want 5 events once each", keys)
	}
	for _, id := range []string{r1, r2} {
		if slices.Index(keys, id+"#1") > slices.Index(keys, id+"#2") {
			t.Errorf("%s's revision came before its submission: %v", id, keys)
		}
	}
	// Each retry of a delivery carried the same webhook-id.
	tries := map[string]map[string]bool{}
	for _, r := range rec.all() {
		if tries[key(r)] == nil {
			tries[key(r)] = map[string]bool{}
		}
		tries[key(r)][r.ID] = true
	}
	for k, idset := range tries {
		if len(idset) != 1 {
			t.Errorf("%s was sent under %d webhook-ids", k, len(idset))
		}
	}
	list, _, _ := g.svc.Deliveries(t.Context(), w.ID, nil, 100)
	for _, d := range list {
		// The submissions failed while it was down; the revisions waited
		// for them, and went at their first attempt.
		if d.Status != store.DeliveryDelivered || d.FinishedAt == nil || (d.Seq == 1) != (d.Attempts >= 2) {
			t.Errorf("after the receiver came back: %+v", d)
		}
	}
}

func TestDispatcher_GivesUpAtTheDeadlineAndARetrySendsAgain(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	g := newRig(t, st)
	rec := newReceiver(t)
	failing := true
	rec.answer = func(int) int {
		if failing {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	w := g.hook(t, rec, []string{webhook.ResponseSubmitted})
	tune := fast
	tune.GiveUpAfter = 2 * time.Second
	run(t, st, tune, "one")
	child(t, st, "C1", "A")
	submit(t, st, r1, "C1", "A")
	var d store.Delivery
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, _, err := g.svc.Deliveries(t.Context(), w.ID, nil, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 && list[0].Status == store.DeliveryFailed {
			d = list[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not given up on: %+v", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d.Attempts < 2 || !strings.Contains(d.LastError, "500") || !strings.Contains(d.LastError, "given up") || d.LastStatus != 500 || d.FinishedAt == nil {
		t.Fatalf("given up: %+v", d)
	}
	rec.mu.Lock()
	failing = false
	rec.mu.Unlock()
	if _, err := g.svc.Retry(t.Context(), w.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	got := rec.waitFor(t, 1, 5*time.Second)
	if got[0].ID != d.ID {
		t.Fatalf("the retry was sent as %s, want the delivery's own id %s", got[0].ID, d.ID)
	}
}

func TestDispatcher_NoAnswerInTimeIsAFailureTriedAgain(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	g := newRig(t, st)
	rec := newReceiver(t)
	rec.hold = make(chan struct{})
	w := g.hook(t, rec, []string{webhook.ResponseSubmitted})
	tune := fast
	tune.Timeout = 200 * time.Millisecond
	run(t, st, tune, "one")
	child(t, st, "C1", "A")
	submit(t, st, r1, "C1", "A")
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, _, _ := g.svc.Deliveries(t.Context(), w.ID, nil, 10)
		if len(list) == 1 && list[0].Attempts >= 1 {
			if !strings.Contains(list[0].LastError, "no answer within 200ms") || list[0].Status != store.DeliveryPending {
				t.Fatalf("after a receiver that did not answer: %+v", list[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no attempt recorded: %+v", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rec.mu.Lock()
	close(rec.hold)
	rec.hold = nil
	rec.mu.Unlock()
	rec.waitFor(t, 1, 5*time.Second)
}

// Two instances on one store (here two dispatchers, each with its own
// connection to the store in MongoDB mode) send each event once.
func TestDispatcher_TwoInstancesSendEachEventOnce(t *testing.T) {
	dir := t.TempDir()
	st := storetest.OpenAt(t, dir, store.Options{})
	other := st
	if !st.Embedded() {
		other = storetest.OpenAt(t, dir, store.Options{}) // another instance's connection
	}
	g := newRig(t, st)
	rec := newReceiver(t)
	g.hook(t, rec, webhook.EventTypes())
	run(t, st, fast, "one")
	run(t, other, fast, "two")
	const n = 12
	for i := range n {
		id, c := fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012d", i), fmt.Sprint("C", i)
		child(t, st, c, "A")
		submit(t, st, id, c, "A")
		if i%3 == 0 {
			submit(t, other, id, c, "A")
		}
	}
	want := n + n/3
	rec.waitFor(t, want, 15*time.Second)
	time.Sleep(500 * time.Millisecond)
	got := rec.all()
	seen := map[string]int{}
	for _, r := range got {
		seen[r.ID]++
	}
	if len(got) != want || len(seen) != want {
		t.Fatalf("%d requests for %d events, want each of %d once: %s", len(got), len(seen), want, describe(got))
	}
	checkSignedAndNameless(t, got)
}

// A stop between a commit and its delivery (the process killed) loses
// nothing: what was committed while no dispatcher ran is read from the
// mark, and an attempt cut short is made again under the same id.
func TestDispatcher_AStopBetweenCommitAndDeliveryLosesNothing(t *testing.T) {
	dir := t.TempDir()
	st := storetest.OpenAt(t, dir, store.Options{})
	g := newRig(t, st)
	rec := newReceiver(t)
	rec.hold = make(chan struct{})
	g.hook(t, rec, webhook.EventTypes())
	tune := fast
	tune.Lease = 500 * time.Millisecond // the stopped instance's claim runs out soon (MongoDB mode)
	stop := run(t, st, tune, "first")
	child(t, st, "C1", "A")
	submit(t, st, r1, "C1", "A")
	// The attempt is under way, held by the receiver, when the instance stops.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if hooks, _ := st.Webhooks(t.Context()); len(hooks) == 1 {
			if ds, _, _ := st.Deliveries(t.Context(), hooks[0].ID, nil, 10); len(ds) == 1 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no delivery recorded")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the request is held by the receiver now
	stop()
	// Committed while nothing dispatches.
	child(t, st, "C2", "A")
	submit(t, st, r1, "C1", "A")
	submit(t, st, r2, "C2", "A")
	rec.mu.Lock()
	close(rec.hold)
	rec.hold = nil
	rec.mu.Unlock()

	// Started again (on the embedded store, as its only user).
	if !st.Embedded() {
		st = storetest.OpenAt(t, dir, store.Options{})
	}
	run(t, st, tune, "second")
	rec.waitForKeys(t, 10*time.Second, r1+"#1", r1+"#2", r2+"#1")
	got := rec.accepted()
	var keys []string
	for _, r := range got {
		keys = append(keys, key(r))
	}
	// The held attempt may have been answered to the stopped instance too:
	// at least once, and the revision after the submission.
	if i, j := slices.Index(keys, r1+"#1"), slices.Index(keys, r1+"#2"); i > j {
		t.Fatalf("out of order: %v", keys)
	}
	ids := map[string]string{}
	for _, r := range got {
		if prev, ok := ids[key(r)]; ok && prev != r.ID {
			t.Errorf("%s sent under two ids", key(r))
		}
		ids[key(r)] = r.ID
	}
	checkSignedAndNameless(t, got)
}

func TestBackoff_DoublesFromTheFirstRetryWithJitterUpToTheCap(t *testing.T) {
	tune := webhook.Defaults()
	none := func(int64) int64 { return 0 }
	most := func(n int64) int64 { return n - 1 }
	for n, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 3: 20 * time.Second, 10: 2560 * time.Second, 11: time.Hour, 40: time.Hour} {
		if got := tune.Backoff(n, none); got != want {
			t.Errorf("after attempt %d: %s, want %s", n, got, want)
		}
		if got := tune.Backoff(n, most); got != want/2 {
			t.Errorf("after attempt %d with the most jitter: %s, want %s", n, got, want/2)
		}
	}
	if tune.FirstRetry > 10*time.Second || tune.GiveUpAfter != 24*time.Hour || tune.Timeout != 10*time.Second {
		t.Fatalf("defaults %+v", tune)
	}
}

// A retry goes when it falls due, though a later revision waits for it and
// nothing else happens meanwhile (no poll, no commit).
func TestDispatcher_RetriesOnTimeWhileALaterRevisionWaits(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	g := newRig(t, st)
	rec := newReceiver(t)
	rec.answer = func(n int) int {
		if n <= 2 {
			return http.StatusBadGateway
		}
		return http.StatusOK
	}
	g.hook(t, rec, webhook.EventTypes())
	child(t, st, "C1", "A")
	submit(t, st, r1, "C1", "A")
	submit(t, st, r1, "C1", "A")
	tune := fast
	tune.Poll = time.Hour
	tune.FirstRetry = 50 * time.Millisecond
	run(t, st, tune, "one")
	got := rec.waitFor(t, 2, 5*time.Second)
	if key(got[0]) != r1+"#1" || key(got[1]) != r1+"#2" {
		t.Fatalf("got %s", describe(rec.all()))
	}
}

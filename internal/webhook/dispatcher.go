// Package webhook tells registered receivers of what is stored, signed as
// the Standard Webhooks specification says: a response submitted or
// revised, a child erased.
//
// Deliveries are derived from the stored changes, as the summaries are:
// the dispatcher reads the responses written and the erasures noted since
// a mark kept in the store (reading back a margin for writes stamped before
// they committed and for instances' clocks), records a delivery per event
// and webhook under an id made from both (so reading a change twice, or
// two instances reading it, records it once), and then moves the mark on.
// A kill at any point loses nothing: what was not recorded is read again
// from the mark, what was recorded is sent. Each attempt is claimed first
// with a unique key in the store, so two instances do not both make it;
// a failed attempt is tried again later, with exponential backoff and
// jitter, until the delivery's deadline. Of one response's revisions, one
// is sent only once the one before it was received or given up on: it
// waits meanwhile, not due, and is released when that one finishes. Each
// webhook's due deliveries are read and sent on their own, a few at a
// time, so that one receiver down or slow holds up no other. Deliveries
// of a deleted webhook, or of an erased child's responses, are deleted.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lifelong-links/sct/internal/store"
)

// Store is what the dispatcher reads and writes.
type Store interface {
	Webhooks(ctx context.Context) ([]store.Webhook, error)
	ResponsesChangedSince(ctx context.Context, since time.Time) ([]store.ResponseInfo, error)
	Revisions(ctx context.Context, id string) ([]store.Response, error)
	ErasuresSince(ctx context.Context, since time.Time) ([]store.Erasure, error)
	WebhookMark(ctx context.Context) (time.Time, error)
	SetWebhookMark(ctx context.Context, at time.Time) error
	RecordDelivery(ctx context.Context, d store.Delivery) (bool, error)
	Delivery(ctx context.Context, id string) (store.Delivery, error)
	DueDeliveries(ctx context.Context, webhookID string, now time.Time, limit int) ([]store.Delivery, error)
	WaitDelivery(ctx context.Context, id string, until time.Time) error
	ReleaseDelivery(ctx context.Context, id string) error
	DeleteDelivery(ctx context.Context, id string) error
	DeleteDeliveriesOf(ctx context.Context, webhookID string) error
	DeleteOrphanDeliveries(ctx context.Context, webhooks []string, before time.Time) (int64, error)
	Erased(ctx context.Context, ids ...string) (bool, error)
	NextDue(ctx context.Context, after time.Time) (time.Time, error)
	ClaimAttempt(ctx context.Context, d store.Delivery, owner string, until time.Time) (int, bool, error)
	ReleaseAttempt(ctx context.Context, id string, attempt int, owner string) error
	ClearClaims(ctx context.Context) error
	FinishAttempt(ctx context.Context, id string, a store.Attempt) error
	PruneDeliveries(ctx context.Context, before time.Time) (int64, error)
}

// Tuning sets the dispatcher's timings; zero fields take Defaults'.
type Tuning struct {
	// FirstRetry is the wait before the second attempt; each later wait
	// doubles, up to MaxRetry, and is shortened at random by up to half
	// (jitter, so that receivers coming back are not hit all at once).
	FirstRetry, MaxRetry time.Duration
	// GiveUpAfter is how long after it was recorded a delivery is given up
	// on if not received.
	GiveUpAfter time.Duration
	// Timeout is how long a receiver has to answer.
	Timeout time.Duration
	// Lease is how long a claimed attempt is left to its maker: longer than
	// Timeout, so that an attempt is never made twice at once.
	Lease time.Duration
	// Poll is how often the dispatcher looks for changes and due
	// deliveries besides being told of them.
	Poll time.Duration
	// Skew is how far back of its mark the reading of changes starts: more
	// than a write may take to commit after it is stamped, and than the
	// instances' clocks differ.
	Skew time.Duration
	// Keep is how long a finished delivery stays listed.
	Keep time.Duration
	// Workers is how many deliveries are sent at once.
	Workers int
	// PerWebhook is how many of them may go to one webhook at once, so
	// that a slow receiver does not hold every worker.
	PerWebhook int
	// Batch is how many due deliveries of one webhook are read at once.
	Batch int
}

// Defaults are the production timings: a first retry within 5 s, waits
// doubling to an hour, given up on after 24 hours; four attempts at once,
// two of them to one webhook.
func Defaults() Tuning {
	return Tuning{FirstRetry: 5 * time.Second, MaxRetry: time.Hour, GiveUpAfter: 24 * time.Hour, Timeout: 10 * time.Second,
		Lease: time.Minute, Poll: 2 * time.Second, Skew: 10 * time.Second, Keep: 30 * 24 * time.Hour, Workers: 4, PerWebhook: 2, Batch: 100}
}

func (t Tuning) withDefaults() Tuning {
	d := Defaults()
	for _, f := range []struct{ v, def *time.Duration }{
		{&t.FirstRetry, &d.FirstRetry}, {&t.MaxRetry, &d.MaxRetry}, {&t.GiveUpAfter, &d.GiveUpAfter}, {&t.Timeout, &d.Timeout},
		{&t.Lease, &d.Lease}, {&t.Poll, &d.Poll}, {&t.Skew, &d.Skew}, {&t.Keep, &d.Keep},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	if t.Workers <= 0 {
		t.Workers = d.Workers
	}
	if t.Batch <= 0 {
		t.Batch = d.Batch
	}
	if t.PerWebhook <= 0 {
		t.PerWebhook = max(1, t.Workers/2)
	}
	t.PerWebhook = min(t.PerWebhook, t.Workers)
	return t
}

// Backoff is the wait after failed attempt n (1, 2, ...) before the next:
// FirstRetry doubled n-1 times, at most MaxRetry, less a random part of up
// to half of it.
func (t Tuning) Backoff(n int, rnd func(int64) int64) time.Duration {
	t = t.withDefaults()
	d := t.FirstRetry
	for i := 1; i < n && d < t.MaxRetry; i++ {
		d *= 2
	}
	d = min(d, t.MaxRetry)
	half := int64(d / 2)
	if half > 0 {
		d -= time.Duration(rnd(half + 1))
	}
	return d
}

// Options make a dispatcher.
type Options struct {
	Store Store
	// Guard says where deliveries may go (the zero Guard: the public
	// internet only).
	Guard Guard
	// Client sends deliveries (nil: NewClient with Guard and the timeout).
	Client *http.Client
	Tuning Tuning
	Logger *slog.Logger
	Now    func() time.Time
	// Owner names this instance in its claims (random when empty).
	Owner string
	// Sole says this is the store's only user (the embedded store's
	// server): claims left in it were made by a process that has stopped.
	Sole bool
}

// Dispatcher records and sends deliveries.
type Dispatcher struct {
	st     Store
	client *http.Client
	t      Tuning
	log    *slog.Logger
	now    func() time.Time
	owner  string
	sole   bool
	wake   chan struct{}

	mu       sync.Mutex
	lanes    map[string]bool      // webhooks with a batch of due deliveries under way
	workers  chan struct{}        // a token per attempt under way (Workers)
	recorded map[string]time.Time // delivery ids recorded lately → the event's time
	hooks    map[string]store.Webhook
	pruned   time.Time
	wg       sync.WaitGroup

	// The webhooks as last read, and when: a round started by a commit
	// reads them again only once they may have changed (see listHooks).
	listMu     sync.Mutex
	listed     []store.Webhook
	listedAt   time.Time
	hooksStale atomic.Bool
}

// New makes a dispatcher; Run runs it.
func New(o Options) *Dispatcher {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	t := o.Tuning.withDefaults()
	if o.Client == nil {
		o.Client = NewClient(o.Guard, t.Timeout)
	}
	if o.Owner == "" {
		o.Owner = "instance-" + strconv.FormatUint(rand.Uint64(), 36)
	}
	return &Dispatcher{st: o.Store, client: o.Client, t: t, log: o.Logger, now: o.Now, owner: o.Owner, sole: o.Sole,
		wake: make(chan struct{}, 1), lanes: map[string]bool{}, workers: make(chan struct{}, t.Workers), recorded: map[string]time.Time{}}
}

// NewClient is the HTTP client deliveries are sent with: connections only
// where the guard allows (checked on the address connected to: plain http
// only inside the allow list, https to a public address too), no proxy
// (which would connect on its own terms), redirects not followed, and an
// answer within timeout.
func NewClient(g Guard, timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:       nil,
			DialContext: g.DialContext,
			DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				ctx, cancel := context.WithTimeout(ctx, timeout)
				defer cancel()
				return g.DialTLSContext(ctx, network, addr, nil)
			},
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          16,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       timeout,
	}
}

// WebhooksChanged tells the dispatcher that a webhook was registered or
// deleted, and wakes it: its next round reads the webhooks again.
func (d *Dispatcher) WebhooksChanged() {
	d.hooksStale.Store(true)
	d.Notify()
}

// listAgainAfter is how long a round uses the webhooks as last read when it
// has not been told they changed: another instance's registration or
// deletion is seen within it. (A registration loses nothing meanwhile: its
// deliveries are recorded from the stored changes since it was made.)
// Every commit starts a round, and reading the webhooks each time cost
// the embedded store's submissions a few per cent of their rate.
const listAgainAfter = time.Second

// listHooks is the webhooks: read again if fresh is asked for, if they
// were said to have changed, or if the last read is older than
// listAgainAfter; otherwise as last read.
func (d *Dispatcher) listHooks(ctx context.Context, fresh bool) ([]store.Webhook, error) {
	d.listMu.Lock()
	defer d.listMu.Unlock()
	if !fresh && !d.hooksStale.Load() && !d.listedAt.IsZero() && d.now().Sub(d.listedAt) < listAgainAfter {
		return d.listed, nil
	}
	d.hooksStale.Store(false) // before the read: a change while it is made marks them again
	at := d.now()
	hooks, err := d.st.Webhooks(ctx)
	if err != nil {
		d.hooksStale.Store(true)
		return nil, err
	}
	d.listed, d.listedAt = hooks, at
	return hooks, nil
}

// Notify tells the dispatcher that something changed: a commit, a webhook
// registered, a delivery to retry. It never blocks; hook it to the store's
// commits.
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run records and sends deliveries until ctx ends, then waits for the
// attempts under way.
func (d *Dispatcher) Run(ctx context.Context) {
	defer d.wg.Wait()
	if d.sole {
		if err := d.st.ClearClaims(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("webhooks: clearing the claims of a stopped process", "err", err)
		}
	}
	for {
		if err := d.record(ctx, false); err != nil && ctx.Err() == nil {
			d.log.Warn("webhooks: recording deliveries", "err", err)
		}
		next, err := d.dispatch(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.Warn("webhooks: sending deliveries", "err", err)
		}
		d.prune(ctx)
		wait := d.t.Poll
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(d.now()), 0))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-d.wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// RecordNow records the deliveries of what changed since the mark: what
// Run does on each round.
func (d *Dispatcher) RecordNow(ctx context.Context) error { return d.record(ctx, true) }

// record records the deliveries of what changed since the mark, reading
// the webhooks again if fresh (or if listHooks would).
func (d *Dispatcher) record(ctx context.Context, fresh bool) error {
	hooks, err := d.listHooks(ctx, fresh)
	if err != nil {
		return err
	}
	d.mu.Lock()
	before := d.hooks
	d.hooks = map[string]store.Webhook{}
	for _, h := range hooks {
		d.hooks[h.ID] = h
	}
	d.mu.Unlock()
	for id := range before {
		if _, ok := d.hooks[id]; !ok {
			// Deleted by another instance, or by this one's API: its
			// deliveries go with it (DeleteWebhook deletes them too;
			// this finishes a deletion cut short).
			if err := d.st.DeleteDeliveriesOf(ctx, id); err != nil {
				return err
			}
		}
	}
	start := d.now()
	if len(hooks) == 0 {
		return nil // a webhook registered later reads from when it was
	}
	if err := d.recordChanges(ctx, hooks, start); err != nil {
		return err
	}
	// A webhook deleted while this round recorded deliveries to it (after
	// DeleteWebhook deleted those it found) leaves them behind: delete
	// them now.
	now, err := d.listHooks(ctx, fresh)
	if err != nil {
		return err
	}
	for _, h := range hooks {
		if !slices.ContainsFunc(now, func(n store.Webhook) bool { return n.ID == h.ID }) {
			if err := d.st.DeleteDeliveriesOf(ctx, h.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// recordChanges records the deliveries of what changed since the mark to
// hooks, and moves the mark to start.
func (d *Dispatcher) recordChanges(ctx context.Context, hooks []store.Webhook, start time.Time) error {
	mark, err := d.st.WebhookMark(ctx)
	if err != nil {
		return err
	}
	since := mark.Add(-d.t.Skew)
	earliest := hooks[0].CreatedAt
	for _, h := range hooks {
		earliest = minTime(earliest, h.CreatedAt)
	}
	if since.Before(earliest.Add(-d.t.Skew)) {
		since = earliest.Add(-d.t.Skew)
	}
	changed, err := d.st.ResponsesChangedSince(ctx, since)
	if err != nil {
		return err
	}
	slices.SortFunc(changed, func(a, b store.ResponseInfo) int {
		if c := a.UpdatedAt.Compare(b.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, r := range changed {
		if r.Status != store.StatusSubmitted || r.Revision < 1 {
			continue // drafts make no event
		}
		for _, h := range hooks {
			if err := d.recordRevision(ctx, h, factsOfInfo(r), since); err != nil {
				return err
			}
		}
	}
	erased, err := d.st.ErasuresSince(ctx, since)
	if err != nil {
		return err
	}
	for _, e := range erased {
		child, ok := strings.CutPrefix(e.ID, store.ErasedChild(""))
		if !ok {
			continue
		}
		for _, h := range hooks {
			if wants(h, ChildErased, e.Site, e.At) {
				if err := d.keep(ctx, erasureDelivery(h.ID, child, e.Site, e.At), e.At); err != nil {
					return err
				}
			}
		}
	}
	d.forget(since)
	return d.st.SetWebhookMark(ctx, start)
}

// recordRevision records the delivery of a submitted revision to a
// webhook, after those of its earlier revisions stored since since that
// were not seen (a response revised twice between two reads): they are
// read from its history, so that every revision is told of, in order.
func (d *Dispatcher) recordRevision(ctx context.Context, h store.Webhook, f revisionFacts, since time.Time) error {
	dl := f.delivery(h.ID)
	if d.seen(dl.ID) {
		return nil
	}
	if f.Revision > 1 {
		prev := deliveryID(h.ID, revisionEvent(f.ID, f.Revision-1))
		_, err := d.st.Delivery(ctx, prev)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if errors.Is(err, store.ErrNotFound) {
			revs, err := d.st.Revisions(ctx, f.ID)
			if err != nil {
				return err
			}
			for _, r := range revs {
				if r.Revision < f.Revision && !r.UpdatedAt.Before(since) && wants(h, responseType(r.Revision), r.Site, r.UpdatedAt) {
					if err := d.keep(ctx, factsOfResponse(r).delivery(h.ID), r.UpdatedAt); err != nil {
						return err
					}
				}
			}
		}
	}
	if !wants(h, dl.Type, f.Site, f.At) {
		d.remember(dl.ID, f.At)
		return nil
	}
	return d.keep(ctx, dl, f.At)
}

// keep records a delivery (once) and remembers that it did.
func (d *Dispatcher) keep(ctx context.Context, dl store.Delivery, at time.Time) error {
	if d.seen(dl.ID) {
		return nil
	}
	dl.Deadline = d.now().Add(d.t.GiveUpAfter)
	var prev string
	if dl.Seq > 1 {
		// A revision whose previous revision's delivery is pending waits
		// for it: it is recorded not due, and released when that one
		// finishes (or checked again at the latest when it must have).
		prev = deliveryID(dl.WebhookID, revisionEvent(dl.Key, dl.Seq-1))
		p, err := d.st.Delivery(ctx, prev)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil && p.Status == store.DeliveryPending {
			dl.Waiting, dl.NextAt = true, d.waitUntil(p)
		}
	}
	recorded, err := d.st.RecordDelivery(ctx, dl)
	if err != nil {
		return err
	}
	if recorded && dl.Waiting {
		if err := d.releaseIfDone(ctx, dl.ID, prev); err != nil {
			return err
		}
	}
	d.remember(dl.ID, at)
	return nil
}

// waitUntil is when a delivery waiting for prev is looked at again if
// nothing released it (a process stopped between finishing prev and
// releasing it): once prev's next attempt must have been made. Found still
// waiting then, it waits for the attempt after.
func (d *Dispatcher) waitUntil(prev store.Delivery) time.Time {
	t := d.now()
	if prev.NextAt.After(t) {
		t = prev.NextAt
	}
	return t.Add(d.t.Lease)
}

// releaseIfDone releases a waiting delivery whose previous one (prev) is
// no longer pending. Read after the delivery was set waiting, so that a
// previous one that finished meanwhile (and found nothing to release) is
// seen.
func (d *Dispatcher) releaseIfDone(ctx context.Context, id, prev string) error {
	p, err := d.st.Delivery(ctx, prev)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err == nil && p.Status == store.DeliveryPending {
		return nil
	}
	return d.st.ReleaseDelivery(ctx, id)
}

// releaseNext releases the delivery of the revision after a finished
// (or dropped) delivery's, if it waits for it.
func (d *Dispatcher) releaseNext(ctx context.Context, dl store.Delivery) error {
	if dl.Seq < 1 {
		return nil
	}
	return d.st.ReleaseDelivery(ctx, deliveryID(dl.WebhookID, revisionEvent(dl.Key, dl.Seq+1)))
}

func (d *Dispatcher) seen(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.recorded[id]
	return ok
}

func (d *Dispatcher) remember(id string, at time.Time) {
	d.mu.Lock()
	d.recorded[id] = at
	d.mu.Unlock()
}

// forget drops what no later read can see again.
func (d *Dispatcher) forget(before time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, at := range d.recorded {
		if at.Before(before) {
			delete(d.recorded, id)
		}
	}
}

// dispatch starts sending the deliveries due now, a batch per webhook
// (one at a time for each), and says when the next one falls due after
// now (zero: none).
func (d *Dispatcher) dispatch(ctx context.Context) (time.Time, error) {
	d.mu.Lock()
	hooks := make([]store.Webhook, 0, len(d.hooks))
	for _, h := range d.hooks {
		if !d.lanes[h.ID] {
			hooks = append(hooks, h)
		}
	}
	none := len(d.hooks) == 0
	d.mu.Unlock()
	if none {
		return time.Time{}, nil // a deleted webhook's deliveries go with it
	}
	slices.SortFunc(hooks, func(a, b store.Webhook) int { return strings.Compare(a.ID, b.ID) })
	now := d.now()
	for _, h := range hooks {
		due, err := d.st.DueDeliveries(ctx, h.ID, now, d.t.Batch)
		if err != nil {
			return time.Time{}, err
		}
		if len(due) > 0 {
			d.send(ctx, h, due)
		}
	}
	// What is due now but waits (another instance's attempt) is looked at
	// again when a batch ends, or at the next poll; what falls due later,
	// when it does.
	return d.st.NextDue(ctx, now)
}

// send sends a webhook's batch of due deliveries, PerWebhook at a time
// (so that a slow receiver holds no more workers than that), each taking
// one of the Workers; the batch's end tells the dispatcher to look again.
func (d *Dispatcher) send(ctx context.Context, h store.Webhook, due []store.Delivery) {
	d.mu.Lock()
	d.lanes[h.ID] = true
	d.mu.Unlock()
	queue := make(chan store.Delivery, len(due))
	for _, dl := range due {
		queue <- dl
	}
	close(queue)
	var lane sync.WaitGroup
	for range min(d.t.PerWebhook, len(due)) {
		lane.Add(1)
		go func() {
			defer lane.Done()
			for dl := range queue {
				if ctx.Err() != nil {
					return
				}
				if err := d.deliver(ctx, h, dl); err != nil && ctx.Err() == nil {
					d.log.Warn("webhooks: sending deliveries", "webhook", h.ID, "delivery", dl.ID, "err", err)
				}
			}
		}()
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		lane.Wait()
		d.mu.Lock()
		delete(d.lanes, h.ID)
		d.mu.Unlock()
		d.Notify()
	}()
}

// deliver makes a due delivery's next attempt, unless it must wait: for
// the revision before it, which is then waited for (so that the delivery
// is no longer due), or for another instance's attempt. The delivery of an
// erased response or child is deleted instead.
func (d *Dispatcher) deliver(ctx context.Context, h store.Webhook, dl store.Delivery) error {
	d.mu.Lock()
	_, hooked := d.hooks[h.ID]
	d.mu.Unlock()
	if !hooked {
		return nil // deleted since the batch was read
	}
	if gone, err := d.erased(ctx, dl); err != nil || gone {
		if err != nil {
			return err
		}
		d.log.Info("webhooks: delivery dropped, its child was erased", "webhook", h.ID, "delivery", dl.ID)
		if err := d.st.DeleteDelivery(ctx, dl.ID); err != nil {
			return err
		}
		return d.releaseNext(ctx, dl)
	}
	if dl.Seq > 1 {
		prevID := deliveryID(dl.WebhookID, revisionEvent(dl.Key, dl.Seq-1))
		prev, err := d.st.Delivery(ctx, prevID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil && prev.Status == store.DeliveryPending {
			// The revision before it goes first.
			if err := d.st.WaitDelivery(ctx, dl.ID, d.waitUntil(prev)); err != nil {
				return err
			}
			return d.releaseIfDone(ctx, dl.ID, prevID)
		}
	}
	select {
	case d.workers <- struct{}{}:
	case <-ctx.Done():
		return nil
	}
	defer func() { <-d.workers }()
	now := d.now()
	n, ok, err := d.st.ClaimAttempt(ctx, dl, d.owner, now.Add(d.t.Lease))
	if err != nil || !ok {
		return err
	}
	// Read again once claimed: another instance may have finished an
	// attempt since the list was read.
	cur, err := d.st.Delivery(ctx, dl.ID)
	if err != nil || cur.Status != store.DeliveryPending || cur.NextAt.After(now) || cur.Attempts >= n {
		if rerr := d.st.ReleaseAttempt(context.WithoutCancel(ctx), dl.ID, n, d.owner); rerr != nil {
			return rerr
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	d.attempt(ctx, h, cur, n)
	return nil
}

// erased reports whether a delivery tells of a response, or a child's
// response, that has been erased since it was recorded.
func (d *Dispatcher) erased(ctx context.Context, dl store.Delivery) (bool, error) {
	if dl.Seq < 1 {
		return false, nil // a child's erasure itself
	}
	ids := []string{dl.Key}
	if dl.ChildID != "" {
		ids = append(ids, store.ErasedChild(dl.ChildID))
	}
	return d.st.Erased(ctx, ids...)
}

// attempt sends a delivery and records what came of it.
func (d *Dispatcher) attempt(ctx context.Context, h store.Webhook, dl store.Delivery, n int) {
	code, err := d.post(ctx, h, dl)
	if ctx.Err() != nil {
		return // stopping: the claim runs out and the attempt is made again
	}
	a := store.Attempt{N: n, Status: store.DeliveryDelivered, HTTPStatus: code}
	if err != nil {
		a.Error = err.Error()
		next := d.now().Add(d.t.Backoff(n, rand.Int64N))
		if next.After(dl.Deadline) {
			a.Status = store.DeliveryFailed
			a.Error += "; given up after " + strconv.Itoa(n) + " attempts"
		} else {
			a.Status, a.NextAt = store.DeliveryPending, next
		}
		d.log.Info("webhooks: delivery failed", "webhook", h.ID, "delivery", dl.ID, "attempt", n, "err", err, "status", a.Status)
	}
	if err := d.st.FinishAttempt(context.WithoutCancel(ctx), dl.ID, a); err != nil {
		d.log.Warn("webhooks: recording an attempt", "delivery", dl.ID, "err", err)
		return
	}
	if a.Status != store.DeliveryPending {
		if err := d.releaseNext(context.WithoutCancel(ctx), dl); err != nil {
			d.log.Warn("webhooks: releasing the next revision", "delivery", dl.ID, "err", err)
		}
	}
}

// post makes one attempt: the receiver's status, and an error unless it
// answered 2xx in time.
func (d *Dispatcher) post(ctx context.Context, h store.Webhook, dl store.Delivery) (int, error) {
	at := d.now()
	sig, err := Sign(h.Secret, dl.ID, at, []byte(dl.Body))
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.t.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader([]byte(dl.Body)))
	if err != nil {
		return 0, errors.New("the receiver's URL cannot be read")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sct-webhooks")
	req.Header.Set("webhook-id", dl.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	res, err := d.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return 0, fmt.Errorf("no answer within %s", d.t.Timeout)
		}
		return 0, withoutQuery(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		if res.StatusCode >= 300 && res.StatusCode < 400 {
			return res.StatusCode, fmt.Errorf("answered %s; redirects are not followed", res.Status)
		}
		return res.StatusCode, fmt.Errorf("answered %s", res.Status)
	}
	return res.StatusCode, nil
}

// withoutQuery is err with the URL it names (a *url.Error's) cut to its
// scheme, host and path: the query and user information, where a receiver
// may keep a token, reach neither the log nor the delivery's last error.
func withoutQuery(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &url.Error{Op: ue.Op, URL: Redact(ue.URL), Err: ue.Err}
}

// Redact is a receiver's URL as logs and errors may name it: scheme, host
// and path only.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL that cannot be read)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// pruneEvery is how often finished deliveries past keeping are deleted.
const pruneEvery = time.Hour

func (d *Dispatcher) prune(ctx context.Context) {
	now := d.now()
	if now.Sub(d.pruned) < pruneEvery {
		return
	}
	d.pruned = now
	if _, err := d.st.PruneDeliveries(ctx, now.Add(-d.t.Keep)); err != nil && ctx.Err() == nil {
		d.log.Warn("webhooks: pruning deliveries", "err", err)
	}
	// Deliveries of webhooks that are gone, left by a process stopped
	// between recording them and finding their webhook deleted: the
	// webhooks are read first, so that none registered since counts as
	// gone.
	hooks, err := d.st.Webhooks(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("webhooks: pruning deliveries", "err", err)
		}
		return
	}
	ids := make([]string, len(hooks))
	for i, h := range hooks {
		ids[i] = h.ID
	}
	if _, err := d.st.DeleteOrphanDeliveries(ctx, ids, now.Add(-d.t.Skew)); err != nil && ctx.Err() == nil {
		d.log.Warn("webhooks: deleting the deliveries of deleted webhooks", "err", err)
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

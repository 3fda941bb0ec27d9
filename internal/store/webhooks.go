package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Webhook is a receiver an administrator registered: where to send which
// events, of which sites (none: every site), signed with Secret.
type Webhook struct {
	ID        string    `bson:"_id"`
	URL       string    `bson:"url"`
	Events    []string  `bson:"events"`
	Sites     []string  `bson:"sites,omitempty"`
	Secret    string    `bson:"secret"`
	CreatedAt time.Time `bson:"created_at"`
	CreatedBy string    `bson:"created_by,omitempty"`
}

// Delivery statuses: waiting for its next attempt (or its first), received
// (a 2xx answer), or given up on.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is one event to send to one webhook, with what its attempts
// came to. Its ID is made from the webhook and the event, so recording the
// same event twice (by a catch-up reading a change again, or by another
// instance) keeps one delivery.
type Delivery struct {
	ID        string `bson:"_id"`
	WebhookID string `bson:"webhook_id"`
	Type      string `bson:"type"`
	// Key and Seq order deliveries: of those with the same webhook and key
	// (a response), one is sent only once the one before it (Seq-1) is no
	// longer pending.
	Key  string `bson:"key"`
	Seq  int    `bson:"seq"`
	Body string `bson:"body"` // the JSON sent, the same at every attempt
	// Site is the site the event is about, for the record.
	Site string `bson:"site,omitempty"`
	// ChildID is the child the event is about: a child's erasure deletes
	// the deliveries of their responses.
	ChildID string `bson:"child_id,omitempty"`
	Status  string `bson:"status"`
	// Waiting says a pending delivery waits for the one before it (Seq-1)
	// to finish: it is not due meanwhile (NextAt is then when to look
	// again at the latest), and is released when that one finishes.
	Waiting    bool       `bson:"waiting,omitempty"`
	Attempts   int        `bson:"attempts"`
	LastStatus int        `bson:"last_status,omitempty"` // the HTTP status of the last answer
	LastError  string     `bson:"last_error,omitempty"`
	NextAt     time.Time  `bson:"next_at"`  // the next attempt, while pending
	Deadline   time.Time  `bson:"deadline"` // given up on if not received by then
	CreatedAt  time.Time  `bson:"created_at"`
	UpdatedAt  time.Time  `bson:"updated_at"`
	FinishedAt *time.Time `bson:"finished_at,omitempty"`
}

// claimDoc says who is making attempt n of a delivery, and until when
// others must leave it alone. Its _id (<delivery>#<n>) is the lock: only
// one insert of it succeeds, on every backend (a unique key needs no
// transaction).
type claimDoc struct {
	ID         string    `bson:"_id"`
	DeliveryID string    `bson:"delivery_id"`
	Owner      string    `bson:"owner"`
	Until      time.Time `bson:"until"`
	At         time.Time `bson:"at"`
}

// CreateWebhook stores a new webhook.
func (s *Store) CreateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	w.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	if _, err := s.wdb.Collection(collWebhooks).InsertOne(ctx, w); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return Webhook{}, fmt.Errorf("webhook %s exists: %w", w.ID, ErrConflict)
		}
		return Webhook{}, classify(fmt.Errorf("create webhook: %w", err))
	}
	return w, nil
}

// Webhooks lists every webhook, oldest first.
func (s *Store) Webhooks(ctx context.Context) ([]Webhook, error) {
	cur, err := s.db.Collection(collWebhooks).Find(ctx, bson.D{})
	if err != nil {
		return nil, classify(fmt.Errorf("list webhooks: %w", err))
	}
	out := []Webhook{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, classify(fmt.Errorf("list webhooks: %w", err))
	}
	slices.SortFunc(out, func(a, b Webhook) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Webhook reads one webhook.
func (s *Store) Webhook(ctx context.Context, id string) (Webhook, error) {
	return byID[Webhook](ctx, s.db, collWebhooks, "webhook", id)
}

// DeleteWebhook removes a webhook and then its deliveries: nothing more is
// sent to it. Deleting again finishes a deletion cut short.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	res, err := s.wdb.Collection(collWebhooks).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return classify(fmt.Errorf("delete webhook: %w", err))
	}
	if _, err := s.wdb.Collection(collDeliveries).DeleteMany(ctx, bson.D{{Key: "webhook_id", Value: id}}); err != nil {
		return classify(fmt.Errorf("delete webhook deliveries: %w", err))
	}
	if res.DeletedCount == 0 {
		return fmt.Errorf("webhook %s: %w", id, ErrNotFound)
	}
	return nil
}

// RecordDelivery stores a new delivery, pending, due at once; it reports
// false (and changes nothing) when that delivery is recorded already.
func (s *Store) RecordDelivery(ctx context.Context, d Delivery) (bool, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	d.Status, d.Attempts, d.CreatedAt, d.UpdatedAt, d.FinishedAt = DeliveryPending, 0, now, now, nil
	if d.NextAt.IsZero() {
		d.NextAt = now
	}
	_, err := s.wdb.Collection(collDeliveries).InsertOne(ctx, d)
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, classify(fmt.Errorf("record delivery: %w", err))
	}
	return true, nil
}

// Delivery reads one delivery.
func (s *Store) Delivery(ctx context.Context, id string) (Delivery, error) {
	return byID[Delivery](ctx, s.db, collDeliveries, "delivery", id)
}

// DueDeliveries lists up to limit pending deliveries of a webhook due at
// now, the longest due first.
func (s *Store) DueDeliveries(ctx context.Context, webhookID string, now time.Time, limit int) ([]Delivery, error) {
	cur, err := s.db.Collection(collDeliveries).Find(ctx,
		bson.D{{Key: "webhook_id", Value: webhookID}, {Key: "status", Value: DeliveryPending},
			{Key: "next_at", Value: bson.D{{Key: "$lte", Value: now.UTC()}}}},
		options.Find().SetSort(bson.D{{Key: "next_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, classify(fmt.Errorf("read due deliveries: %w", err))
	}
	out := []Delivery{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, classify(fmt.Errorf("read due deliveries: %w", err))
	}
	return out, nil
}

// WaitDelivery sets a pending delivery waiting for the one before it,
// not due before until.
func (s *Store) WaitDelivery(ctx context.Context, id string, until time.Time) error {
	now := s.now().UTC().Truncate(time.Millisecond)
	_, err := s.wdb.Collection(collDeliveries).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "status", Value: DeliveryPending}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "waiting", Value: true},
			{Key: "next_at", Value: until.UTC().Truncate(time.Millisecond)}, {Key: "updated_at", Value: now}}}})
	if err != nil {
		return classify(fmt.Errorf("set delivery waiting: %w", err))
	}
	return nil
}

// ReleaseDelivery makes a waiting delivery due at once (the one before it
// has finished); a delivery not waiting is left as it is.
func (s *Store) ReleaseDelivery(ctx context.Context, id string) error {
	now := s.now().UTC().Truncate(time.Millisecond)
	_, err := s.wdb.Collection(collDeliveries).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "status", Value: DeliveryPending}, {Key: "waiting", Value: true}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "next_at", Value: now}, {Key: "updated_at", Value: now}}},
			{Key: "$unset", Value: bson.D{{Key: "waiting", Value: ""}}}})
	if err != nil {
		return classify(fmt.Errorf("release delivery: %w", err))
	}
	return nil
}

// DeleteDelivery deletes one delivery (none: no error).
func (s *Store) DeleteDelivery(ctx context.Context, id string) error {
	if _, err := s.wdb.Collection(collDeliveries).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return classify(fmt.Errorf("delete delivery: %w", err))
	}
	return nil
}

// DeleteDeliveriesOf deletes the deliveries of a webhook that is gone.
func (s *Store) DeleteDeliveriesOf(ctx context.Context, webhookID string) error {
	if _, err := s.wdb.Collection(collDeliveries).DeleteMany(ctx, bson.D{{Key: "webhook_id", Value: webhookID}}); err != nil {
		return classify(fmt.Errorf("delete webhook deliveries: %w", err))
	}
	return nil
}

// DeleteOrphanDeliveries deletes the deliveries recorded before before of
// every webhook but those named (the webhooks stored at before): those of
// webhooks deleted while a delivery to them was being recorded.
func (s *Store) DeleteOrphanDeliveries(ctx context.Context, webhooks []string, before time.Time) (int64, error) {
	res, err := s.wdb.Collection(collDeliveries).DeleteMany(ctx, bson.D{
		{Key: "webhook_id", Value: bson.D{{Key: "$nin", Value: webhooks}}},
		{Key: "created_at", Value: bson.D{{Key: "$lt", Value: before.UTC()}}}})
	if err != nil {
		return 0, classify(fmt.Errorf("delete orphan deliveries: %w", err))
	}
	return res.DeletedCount, nil
}

// NextDue is when the next pending delivery falls due after after (zero:
// none does).
func (s *Store) NextDue(ctx context.Context, after time.Time) (time.Time, error) {
	var d struct {
		NextAt time.Time `bson:"next_at"`
	}
	err := s.db.Collection(collDeliveries).FindOne(ctx,
		bson.D{{Key: "status", Value: DeliveryPending}, {Key: "next_at", Value: bson.D{{Key: "$gt", Value: after.UTC()}}}},
		options.FindOne().SetSort(bson.D{{Key: "next_at", Value: 1}}).SetProjection(bson.D{{Key: "next_at", Value: 1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, classify(fmt.Errorf("read due deliveries: %w", err))
	}
	return d.NextAt, nil
}

// ClaimAttempt takes the next attempt of a delivery for owner until until,
// so that no other instance makes it meanwhile, and returns its number
// (from d.Attempts+1). An attempt claimed by someone else and not yet over
// (their claim has not run out) leaves it: ok is false. A claim that ran
// out was an attempt whose maker stopped (killed, say) before recording
// what came of it: it counts as made, and the next is claimed.
func (s *Store) ClaimAttempt(ctx context.Context, d Delivery, owner string, until time.Time) (attempt int, ok bool, err error) {
	now := s.now().UTC()
	claims := s.wdb.Collection(collClaims)
	for n := d.Attempts + 1; n <= d.Attempts+8; n++ {
		c := claimDoc{ID: d.ID + "#" + strconv.Itoa(n), DeliveryID: d.ID, Owner: owner, Until: until.UTC(), At: now}
		_, err := claims.InsertOne(ctx, c)
		if err == nil {
			return n, true, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return 0, false, classify(fmt.Errorf("claim delivery: %w", err))
		}
		var held claimDoc
		err = s.db.Collection(collClaims).FindOne(ctx, bson.D{{Key: "_id", Value: c.ID}}).Decode(&held)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return 0, false, nil // released meanwhile: the next pass sees the delivery as it is now
		}
		if err != nil {
			return 0, false, classify(fmt.Errorf("claim delivery: %w", err))
		}
		if held.Until.After(now) {
			return 0, false, nil
		}
	}
	return 0, false, nil
}

// ReleaseAttempt gives up a claimed attempt that was not made.
func (s *Store) ReleaseAttempt(ctx context.Context, id string, attempt int, owner string) error {
	_, err := s.wdb.Collection(collClaims).DeleteOne(ctx,
		bson.D{{Key: "_id", Value: id + "#" + strconv.Itoa(attempt)}, {Key: "owner", Value: owner}})
	if err != nil {
		return classify(fmt.Errorf("release delivery: %w", err))
	}
	return nil
}

// ClearClaims forgets every claimed attempt: what a store's only user
// (the embedded store's server) does at start, when whoever held them has
// stopped.
func (s *Store) ClearClaims(ctx context.Context) error {
	if _, err := s.wdb.Collection(collClaims).DeleteMany(ctx, bson.D{}); err != nil {
		return classify(fmt.Errorf("clear delivery claims: %w", err))
	}
	return nil
}

// Attempt is what came of one attempt at a delivery.
type Attempt struct {
	N      int    // its number
	Status string // DeliveryDelivered, DeliveryPending (to try again at NextAt) or DeliveryFailed
	// HTTPStatus is the receiver's answer (0: none).
	HTTPStatus int
	Error      string
	NextAt     time.Time
}

// FinishAttempt records what came of an attempt, unless a later attempt
// has been recorded already.
func (s *Store) FinishAttempt(ctx context.Context, id string, a Attempt) error {
	now := s.now().UTC().Truncate(time.Millisecond)
	set := bson.D{{Key: "attempts", Value: a.N}, {Key: "status", Value: a.Status}, {Key: "last_status", Value: a.HTTPStatus},
		{Key: "last_error", Value: a.Error}, {Key: "updated_at", Value: now}}
	if a.Status == DeliveryPending {
		set = append(set, bson.E{Key: "next_at", Value: a.NextAt.UTC().Truncate(time.Millisecond)})
	} else {
		set = append(set, bson.E{Key: "finished_at", Value: now})
	}
	_, err := s.wdb.Collection(collDeliveries).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "attempts", Value: bson.D{{Key: "$lt", Value: a.N}}}},
		bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return classify(fmt.Errorf("record delivery attempt: %w", err))
	}
	return nil
}

// RetryDelivery makes a delivery of a webhook pending again, due at once,
// with until deadline to be received.
func (s *Store) RetryDelivery(ctx context.Context, webhookID, id string, deadline time.Time) (Delivery, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	var d Delivery
	err := s.wdb.Collection(collDeliveries).FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "webhook_id", Value: webhookID}},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "status", Value: DeliveryPending}, {Key: "next_at", Value: now},
				{Key: "deadline", Value: deadline.UTC().Truncate(time.Millisecond)}, {Key: "updated_at", Value: now}}},
			{Key: "$unset", Value: bson.D{{Key: "finished_at", Value: ""}, {Key: "waiting", Value: ""}}},
		},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Delivery{}, fmt.Errorf("delivery %s of webhook %s: %w", id, webhookID, ErrNotFound)
	}
	if err != nil {
		return Delivery{}, classify(fmt.Errorf("retry delivery: %w", err))
	}
	return d, nil
}

// MaxDeliveriesPage is the most deliveries one page lists.
const MaxDeliveriesPage = 500

// DeliveryCursor is a delivery's place in a webhook's list: newest first,
// then by id.
type DeliveryCursor struct {
	At time.Time
	ID string
}

// Deliveries lists up to limit of a webhook's deliveries, newest first
// (then by id, descending), after before (nil: from the newest), and says
// whether more follow.
func (s *Store) Deliveries(ctx context.Context, webhookID string, before *DeliveryCursor, limit int) ([]Delivery, bool, error) {
	if limit <= 0 || limit > MaxDeliveriesPage {
		limit = MaxDeliveriesPage
	}
	q := bson.D{{Key: "webhook_id", Value: webhookID}}
	if before != nil {
		q = append(q, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "created_at", Value: bson.D{{Key: "$lt", Value: before.At.UTC()}}}},
			bson.D{{Key: "created_at", Value: before.At.UTC()}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: before.ID}}}},
		}})
	}
	cur, err := s.db.Collection(collDeliveries).Find(ctx, q,
		options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit+1)))
	if err != nil {
		return nil, false, classify(fmt.Errorf("list deliveries: %w", err))
	}
	out := []Delivery{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, false, classify(fmt.Errorf("list deliveries: %w", err))
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// PruneDeliveries deletes the deliveries finished (received or given up
// on) before before, and the claims of attempts made before it.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.wdb.Collection(collDeliveries).DeleteMany(ctx, bson.D{
		{Key: "status", Value: bson.D{{Key: "$ne", Value: DeliveryPending}}},
		{Key: "finished_at", Value: bson.D{{Key: "$lt", Value: before.UTC()}}}})
	if err != nil {
		return 0, classify(fmt.Errorf("prune deliveries: %w", err))
	}
	if _, err := s.wdb.Collection(collClaims).DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: before.UTC()}}}}); err != nil {
		return res.DeletedCount, classify(fmt.Errorf("prune delivery claims: %w", err))
	}
	return res.DeletedCount, nil
}

// markChanges is the mark of how far the stored changes have been read for
// webhooks.
const markChanges = "changes"

// WebhookMark is the time up to which the stored changes have been turned
// into deliveries (zero: never).
func (s *Store) WebhookMark(ctx context.Context) (time.Time, error) {
	var m struct {
		At time.Time `bson:"at"`
	}
	err := s.db.Collection(collWebhookMarks).FindOne(ctx, bson.D{{Key: "_id", Value: markChanges}}).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, classify(fmt.Errorf("read webhook mark: %w", err))
	}
	return m.At, nil
}

// SetWebhookMark records the time up to which the stored changes have been
// turned into deliveries.
func (s *Store) SetWebhookMark(ctx context.Context, at time.Time) error {
	_, err := s.wdb.Collection(collWebhookMarks).ReplaceOne(ctx, bson.D{{Key: "_id", Value: markChanges}},
		bson.D{{Key: "_id", Value: markChanges}, {Key: "at", Value: at.UTC().Truncate(time.Millisecond)}},
		options.Replace().SetUpsert(true))
	if err != nil {
		return classify(fmt.Errorf("set webhook mark: %w", err))
	}
	return nil
}

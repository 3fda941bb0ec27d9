package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
)

// ServiceStore is what registering and listing webhooks needs of the store.
type ServiceStore interface {
	CreateWebhook(ctx context.Context, w store.Webhook) (store.Webhook, error)
	Webhooks(ctx context.Context) ([]store.Webhook, error)
	Webhook(ctx context.Context, id string) (store.Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error
	Deliveries(ctx context.Context, webhookID string, before *store.DeliveryCursor, limit int) ([]store.Delivery, bool, error)
	RetryDelivery(ctx context.Context, webhookID, id string, deadline time.Time) (store.Delivery, error)
	Delivery(ctx context.Context, id string) (store.Delivery, error)
	DeleteDelivery(ctx context.Context, id string) error
	Erased(ctx context.Context, ids ...string) (bool, error)
	SiteExists(ctx context.Context, code string) (bool, error)
}

// Service registers, lists and removes webhooks and their deliveries.
type Service struct {
	st       ServiceStore
	guard    Guard
	resolver Resolver
	now      func() time.Time
	giveUp   time.Duration
	notify   func()
	changed  func()
}

// ServiceOptions make a Service.
type ServiceOptions struct {
	Store    ServiceStore
	Guard    Guard
	Resolver Resolver // nil: net.DefaultResolver
	Now      func() time.Time
	// GiveUpAfter is how long a retried delivery is tried for (0: the
	// default).
	GiveUpAfter time.Duration
	// Notify tells the dispatcher of a change (nil: nothing).
	Notify func()
	// Changed tells the dispatcher that a webhook was registered or
	// deleted (Dispatcher.WebhooksChanged; nil: Notify).
	Changed func()
}

// NewService makes a Service.
func NewService(o ServiceOptions) *Service {
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = Defaults().GiveUpAfter
	}
	if o.Notify == nil {
		o.Notify = func() {}
	}
	if o.Changed == nil {
		o.Changed = o.Notify
	}
	return &Service{st: o.Store, guard: o.Guard, resolver: o.Resolver, now: o.Now, giveUp: o.GiveUpAfter, notify: o.Notify,
		changed: o.Changed}
}

// Registration is what an administrator asks for.
type Registration struct {
	URL    string
	Events []string
	Sites  []string
	By     string // who registers it
}

// Register checks and stores a new webhook and returns it with its signing
// secret, which is shown this once. Faults come as *form.RequestError
// with the field paths.
func (s *Service) Register(ctx context.Context, r Registration) (store.Webhook, error) {
	var faults []form.FieldError
	if err := s.guard.CheckURL(ctx, s.resolver, r.URL); err != nil {
		faults = append(faults, form.FieldError{Path: "url", Reason: err.Error()})
	}
	if len(r.Events) == 0 {
		faults = append(faults, form.FieldError{Path: "events", Reason: "must name at least one of response.submitted, response.revised, child.erased"})
	}
	for i, e := range r.Events {
		switch {
		case !slices.Contains(EventTypes(), e):
			faults = append(faults, form.FieldError{Path: fmt.Sprintf("events[%d]", i), Reason: "must be response.submitted, response.revised or child.erased (drafts make no event)"})
		case slices.Index(r.Events, e) < i:
			faults = append(faults, form.FieldError{Path: fmt.Sprintf("events[%d]", i), Reason: "is named twice"})
		}
	}
	for i, site := range r.Sites {
		if slices.Index(r.Sites, site) < i {
			faults = append(faults, form.FieldError{Path: fmt.Sprintf("sites[%d]", i), Reason: "is named twice"})
			continue
		}
		ok, err := s.st.SiteExists(ctx, site)
		if err != nil {
			return store.Webhook{}, err
		}
		if !ok {
			faults = append(faults, form.FieldError{Path: fmt.Sprintf("sites[%d]", i), Reason: "is not a site"})
		}
	}
	if len(faults) > 0 {
		return store.Webhook{}, &form.RequestError{Message: "the webhook cannot be registered", Faults: faults}
	}
	secret, err := NewSecret()
	if err != nil {
		return store.Webhook{}, fmt.Errorf("make a signing secret: %w", err)
	}
	w, err := s.st.CreateWebhook(ctx, store.Webhook{ID: uuid.NewString(), URL: r.URL, Events: r.Events, Sites: r.Sites,
		Secret: secret, CreatedBy: r.By})
	if err != nil {
		return store.Webhook{}, err
	}
	s.changed()
	return w, nil
}

// List lists the webhooks, oldest first.
func (s *Service) List(ctx context.Context) ([]store.Webhook, error) { return s.st.Webhooks(ctx) }

// Get reads one webhook.
func (s *Service) Get(ctx context.Context, id string) (store.Webhook, error) {
	return s.st.Webhook(ctx, id)
}

// Delete removes a webhook; nothing more is sent to it.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := s.st.DeleteWebhook(ctx, id); err != nil {
		return err
	}
	s.changed()
	return nil
}

// Deliveries lists a page of a webhook's deliveries, newest first.
func (s *Service) Deliveries(ctx context.Context, id string, before *store.DeliveryCursor, limit int) ([]store.Delivery, bool, error) {
	if _, err := s.st.Webhook(ctx, id); err != nil {
		return nil, false, err
	}
	return s.st.Deliveries(ctx, id, before, limit)
}

// ErrErased is the retry of a delivery about a child (or a response) that
// has been erased: it is deleted, never sent again.
var ErrErased = errors.New("the delivery tells of a child who has been erased: it is deleted, and not sent again")

// Retry sends a delivery again now (received or given up on, or waiting
// for its next attempt), with a new deadline. The delivery of an erased
// child's response is refused (ErrErased), and deleted.
func (s *Service) Retry(ctx context.Context, webhookID, id string) (store.Delivery, error) {
	d, err := s.st.Delivery(ctx, id)
	if err != nil {
		return store.Delivery{}, err
	}
	if d.WebhookID != webhookID {
		return store.Delivery{}, fmt.Errorf("delivery %s of webhook %s: %w", id, webhookID, store.ErrNotFound)
	}
	if d.Seq >= 1 {
		ids := []string{d.Key}
		if d.ChildID != "" {
			ids = append(ids, store.ErasedChild(d.ChildID))
		}
		gone, err := s.st.Erased(ctx, ids...)
		if err != nil {
			return store.Delivery{}, err
		}
		if gone {
			if err := s.st.DeleteDelivery(ctx, id); err != nil {
				return store.Delivery{}, err
			}
			return store.Delivery{}, ErrErased
		}
	}
	d, err = s.st.RetryDelivery(ctx, webhookID, id, s.now().Add(s.giveUp))
	if err != nil {
		return store.Delivery{}, err
	}
	s.notify()
	return d, nil
}

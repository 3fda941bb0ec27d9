package api

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/webhook"
)

// webhookRequest is the body of POST /api/v1/webhooks. The event names and
// sites are checked by the service, with the address, so that every fault
// is reported at once.
type webhookRequest struct {
	URL    string   `json:"url" validate:"required,max=2048"`
	Events []string `json:"events" validate:"required,max=3"`
	Sites  []string `json:"sites" validate:"max=50,dive,site"`
}

type webhookJSON struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Sites     []string  `json:"sites"`
	CreatedAt time.Time `json:"created_at"`
	// Secret is shown once, in the answer to the registration.
	Secret string `json:"secret,omitempty"`
}

func webhookOut(w store.Webhook) webhookJSON {
	sites := w.Sites
	if sites == nil {
		sites = []string{}
	}
	return webhookJSON{ID: w.ID, URL: w.URL, Events: w.Events, Sites: sites, CreatedAt: w.CreatedAt}
}

type deliveryJSON struct {
	ID          string     `json:"id"` // the webhook-id header of every attempt
	Type        string     `json:"type"`
	Status      string     `json:"status"` // pending, delivered, failed (given up)
	Attempts    int        `json:"attempts"`
	LastStatus  int        `json:"last_status,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	GiveUpAt    time.Time  `json:"give_up_at"`
	CreatedAt   time.Time  `json:"created_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	Event       any        `json:"event"` // the body sent
}

func deliveryOut(d store.Delivery) deliveryJSON {
	out := deliveryJSON{ID: d.ID, Type: d.Type, Status: d.Status, Attempts: d.Attempts, LastStatus: d.LastStatus,
		LastError: d.LastError, GiveUpAt: d.Deadline, CreatedAt: d.CreatedAt, FinishedAt: d.FinishedAt, Event: rawJSON(d.Body)}
	if d.Status == store.DeliveryPending {
		next := d.NextAt
		out.NextAttempt = &next
	}
	return out
}

// rawJSON passes stored JSON through as it is.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

func (h *handlers) createWebhook(c echo.Context) error {
	var req webhookRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	w, err := h.webhooks.Register(c.Request().Context(), webhook.Registration{URL: req.URL, Events: req.Events, Sites: req.Sites,
		By: principal(c).Subject})
	if err != nil {
		return err
	}
	// The address without its query, which a receiver may use for a token.
	where, _, _ := strings.Cut(w.URL, "?")
	if err := h.audit(c, "webhook.create", "webhook:"+w.ID, "", strings.Join(w.Events, " ")+" "+where); err != nil {
		return err
	}
	out := webhookOut(w)
	out.Secret = w.Secret
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/webhooks/"+w.ID)
	return c.JSON(http.StatusCreated, out)
}

func (h *handlers) listWebhooks(c echo.Context) error {
	hooks, err := h.webhooks.List(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"webhooks": each(hooks, webhookOut)})
}

func (h *handlers) deleteWebhook(c echo.Context) error {
	id := c.Param("id")
	if err := h.webhooks.Delete(c.Request().Context(), id); err != nil {
		return err
	}
	if err := h.audit(c, "webhook.delete", "webhook:"+id, "", ""); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// deliveriesPage is the deliveries a page lists unless a limit is given
// (at most store.MaxDeliveriesPage).
const deliveriesPage = 100

// deliveryCursor writes a delivery's place in the list as the next page's
// "before": its time in milliseconds and its id.
func deliveryCursor(d store.Delivery) string {
	return strconv.FormatInt(d.CreatedAt.UnixMilli(), 10) + "." + d.ID
}

func parseDeliveryCursor(s string) (*store.DeliveryCursor, bool) {
	ms, id, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || !deliveryIDPattern.MatchString(id) {
		return nil, false
	}
	return &store.DeliveryCursor{At: time.UnixMilli(n).UTC(), ID: id}, true
}

func (h *handlers) listDeliveries(c echo.Context) error {
	limit, err := pageLimit(c, deliveriesPage, store.MaxDeliveriesPage)
	if err != nil {
		return err
	}
	var before *store.DeliveryCursor
	if v := c.QueryParam("before"); v != "" {
		var ok bool
		if before, ok = parseDeliveryCursor(v); !ok {
			return invalid(http.StatusBadRequest, "a filter has the wrong form",
				form.FieldError{Path: "before", Reason: "must be the next value of an earlier page"})
		}
	}
	list, more, err := h.webhooks.Deliveries(c.Request().Context(), c.Param("id"), before, limit)
	if err != nil {
		return err
	}
	out := map[string]any{"deliveries": each(list, deliveryOut), "limit": limit}
	if more {
		out["next"] = deliveryCursor(list[len(list)-1])
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) retryDelivery(c echo.Context) error {
	id, delivery := c.Param("id"), c.Param("delivery")
	d, err := h.webhooks.Retry(c.Request().Context(), id, delivery)
	if err != nil {
		return err
	}
	if err := h.audit(c, "webhook.retry", "webhook:"+id, d.Site, "delivery "+d.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, deliveryOut(d))
}

// deliveryIDPattern is the shape of a delivery's id.
var deliveryIDPattern = regexp.MustCompile(`^msg_[0-9a-f]{32}$`)

package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/lifelong-links/sct/internal/store"
)

// Event types a webhook may ask for. Drafts make none.
const (
	ResponseSubmitted = "response.submitted" // a response's first submitted revision
	ResponseRevised   = "response.revised"   // each later submitted revision
	ChildErased       = "child.erased"       // a child and everything about them erased
)

// EventTypes lists every event type.
func EventTypes() []string { return []string{ResponseSubmitted, ResponseRevised, ChildErased} }

// Event is the JSON body of a delivery, in the Standard Webhooks shape:
// its type, when it happened, and the pseudonymous facts (never a name or
// any free text).
type Event struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      EventData `json:"data"`
}

// EventData are an event's facts: the response's (absent for an erasure)
// and the child's pseudonymous ID.
type EventData struct {
	ResponseID string    `json:"response_id,omitempty"`
	ChildID    string    `json:"child_id"`
	Site       string    `json:"site,omitempty"`
	Form       string    `json:"form,omitempty"`
	Version    string    `json:"version,omitempty"`
	Timepoint  string    `json:"timepoint,omitempty"`
	Wave       int       `json:"wave,omitempty"`
	Status     string    `json:"status,omitempty"`
	Revision   int       `json:"revision,omitempty"`
	Time       time.Time `json:"time"` // when the revision was stored, or the erasure noted
}

// responseType is the event a submitted revision makes.
func responseType(revision int) string {
	if revision <= 1 {
		return ResponseSubmitted
	}
	return ResponseRevised
}

// revisionFacts are what an event tells of one submitted revision.
type revisionFacts struct {
	ID, ChildID, Site, Form, Version, Timepoint string
	Wave, Revision                              int
	At                                          time.Time
}

func factsOfInfo(r store.ResponseInfo) revisionFacts {
	return revisionFacts{ID: r.ID, ChildID: r.ChildID, Site: r.Site, Form: r.Form, Version: r.Version, Timepoint: r.Timepoint,
		Wave: r.Wave, Revision: r.Revision, At: r.UpdatedAt}
}

func factsOfResponse(r store.Response) revisionFacts {
	return revisionFacts{ID: r.ID, ChildID: r.ChildID, Site: r.Site, Form: r.Form, Version: r.Version, Timepoint: r.Timepoint,
		Wave: r.Wave, Revision: r.Revision, At: r.UpdatedAt}
}

// deliveryID names the delivery of one event to one webhook: the same
// whoever records it, and the webhook-id of every attempt.
func deliveryID(webhookID, event string) string {
	sum := sha256.Sum256([]byte(webhookID + "\x00" + event))
	return "msg_" + hex.EncodeToString(sum[:16])
}

// revisionEvent names the event of a response's submitted revision.
func revisionEvent(responseID string, revision int) string {
	return "response:" + responseID + "#" + strconv.Itoa(revision)
}

// erasureEvent names the event of a child's erasure noted at a time.
func erasureEvent(childID string, at time.Time) string {
	return "child:" + childID + "@" + strconv.FormatInt(at.UnixMilli(), 10)
}

func (f revisionFacts) delivery(webhookID string) store.Delivery {
	typ := responseType(f.Revision)
	at := f.At.UTC()
	body, _ := json.Marshal(Event{Type: typ, Timestamp: at, Data: EventData{
		ResponseID: f.ID, ChildID: f.ChildID, Site: f.Site, Form: f.Form, Version: f.Version, Timepoint: f.Timepoint,
		Wave: f.Wave, Status: store.StatusSubmitted, Revision: f.Revision, Time: at,
	}})
	return store.Delivery{ID: deliveryID(webhookID, revisionEvent(f.ID, f.Revision)), WebhookID: webhookID, Type: typ,
		Key: f.ID, Seq: f.Revision, Body: string(body), Site: f.Site, ChildID: f.ChildID}
}

func erasureDelivery(webhookID, childID, site string, at time.Time) store.Delivery {
	at = at.UTC()
	body, _ := json.Marshal(Event{Type: ChildErased, Timestamp: at, Data: EventData{ChildID: childID, Site: site, Time: at}})
	return store.Delivery{ID: deliveryID(webhookID, erasureEvent(childID, at)), WebhookID: webhookID, Type: ChildErased,
		Key: "child:" + childID, Body: string(body), Site: site, ChildID: childID}
}

// wants reports whether a webhook takes an event of a type, about a site,
// that happened at a time: one it asked for, of its sites, made once it
// was registered.
func wants(w store.Webhook, typ, site string, at time.Time) bool {
	if at.Before(w.CreatedAt) {
		return false
	}
	found := false
	for _, e := range w.Events {
		found = found || e == typ
	}
	if !found {
		return false
	}
	if len(w.Sites) == 0 {
		return true
	}
	for _, s := range w.Sites {
		if s == site {
			return true
		}
	}
	return false
}

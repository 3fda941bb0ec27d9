package api_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/server"
	"github.com/lifelong-links/sct/internal/server/servertest"
	"github.com/lifelong-links/sct/internal/store/storetest"
	"github.com/lifelong-links/sct/internal/webhook"
)

// hookAnswers name people, as an SCT does: none of it may reach a receiver.
const hookAnswers = `{"nominees":[{"name":"Nanna-Secret-Name","relationship":"grandparent"},
	{"name":"N","relationship":"other","other_text":"Neighbour-Secret-Text"}],
	"key_people":[{"nominee":0,"reason":"important","support":{"emotional":4,"trust":4},"let_down":1}],
	"adequacy":{"emotional":3}}`

// verifySpec checks a delivery as the Standard Webhooks specification tells
// a receiver to, written from the specification: the key is the base64
// after "whsec_"; the content signed is id "." timestamp "." body; any of
// the space-separated "v1,<base64 HMAC-SHA256>" may match; the timestamp
// (unix seconds) must be within five minutes of now.
func verifySpec(secret string, h http.Header, body []byte) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if id == "" || err != nil || sigs == "" {
		return errors.New("missing or malformed webhook headers")
	}
	if d := time.Since(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp too far from now")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	for _, s := range strings.Fields(sigs) {
		v, sig, _ := strings.Cut(s, ",")
		if got, err := base64.StdEncoding.DecodeString(sig); v == "v1" && err == nil && hmac.Equal(got, mac.Sum(nil)) {
			return nil
		}
	}
	return errors.New("no signature matches")
}

// hookCall is one request a test receiver got.
type hookCall struct {
	ID, Raw string
	Event   webhook.Event
	Status  int
	Err     error
}

func (c hookCall) key() string {
	if c.Event.Type == webhook.ChildErased {
		return "erased " + c.Event.Data.ChildID
	}
	return fmt.Sprintf("%s#%d", c.Event.Data.ResponseID, c.Event.Data.Revision)
}

// hookReceiver is a webhook receiver in the test process.
type hookReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	calls  []hookCall
	status int           // what it answers (0: 204)
	hold   chan struct{} // when set, a request waits for it to close
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	r := &hookReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
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
		c := hookCall{ID: req.Header.Get("webhook-id"), Raw: string(body), Status: r.status, Err: verifySpec(r.secret, req.Header, body)}
		if c.Status == 0 {
			c.Status = http.StatusNoContent
		}
		if err := json.Unmarshal(body, &c.Event); err != nil && c.Err == nil {
			c.Err = err
		}
		r.calls = append(r.calls, c)
		w.WriteHeader(c.Status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) setSecret(s string) {
	r.mu.Lock()
	r.secret = s
	r.mu.Unlock()
}

func (r *hookReceiver) got() []hookCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// waitForKeys waits until the receiver has accepted, with a good
// signature, every event named, and returns what it got.
func (r *hookReceiver) waitForKeys(t *testing.T, within time.Duration, keys ...string) []hookCall {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		calls := r.got()
		have := map[string]bool{}
		for _, c := range calls {
			if c.Err == nil && c.Status/100 == 2 {
				have[c.key()] = true
			}
		}
		missing := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return have[k] })
		if len(missing) == 0 {
			return calls
		}
		if time.Now().After(deadline) {
			var seen []string
			for _, c := range calls {
				seen = append(seen, fmt.Sprintf("%s %d %v", c.key(), c.Status, c.Err))
			}
			t.Fatalf("after %s the receiver lacks %v; it got %v", within, missing, seen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// quickHooks are webhook timings for tests: retries in milliseconds.
var quickHooks = webhook.Tuning{FirstRetry: 30 * time.Millisecond, MaxRetry: 200 * time.Millisecond, Poll: 100 * time.Millisecond,
	Timeout: 2 * time.Second, Lease: 5 * time.Second}

// startForHooks starts the server with receivers on 127.0.0.1 allowed and
// quick webhook timings, with the test users.
func startForHooks(t *testing.T, dir string) *servertest.Server {
	t.Helper()
	s, err := servertest.StartWithOptions(t, dir, func(c *config.Settings) { c.WebhookAllow = "127.0.0.1" },
		server.Options{Definitions: forms.FS(), Webhooks: quickHooks})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// register registers a webhook for the receiver and returns its id.
func register(t *testing.T, s *servertest.Server, r *hookReceiver, events string, sites string) string {
	t.Helper()
	st, b := s.Do(t, "POST", "/api/v1/webhooks", fmt.Sprintf(`{"url":%q,"events":%s,"sites":%s}`, r.srv.URL+"/hook", events, sites), "admin")
	if st != http.StatusCreated {
		t.Fatalf("register: %d %s", st, b)
	}
	var out struct{ ID, Secret string }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	r.setSecret(out.Secret)
	return out.ID
}

func TestWebhooks_OnlyAnAdministratorManagesThemAndBadRegistrationsSayWhy(t *testing.T) {
	s := startForHooks(t, t.TempDir())
	s.AddUsers(t)
	rec := newHookReceiver(t)
	good := fmt.Sprintf(`{"url":%q,"events":["response.submitted"]}`, rec.srv.URL+"/hook")
	id := "0b0c0d0e-0f10-4111-8213-141516171819"
	var scenarios []servertest.Scenario
	for _, as := range []string{"coordA", "leadA", "evaluator"} {
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/api/v1/webhooks", ""},
			{"POST", "/api/v1/webhooks", good},
			{"DELETE", "/api/v1/webhooks/" + id, ""},
			{"GET", "/api/v1/webhooks/" + id + "/deliveries", ""},
			{"POST", "/api/v1/webhooks/" + id + "/deliveries/msg_00000000000000000000000000000000/retry", ""},
		} {
			scenarios = append(scenarios, servertest.Scenario{Name: as + " " + r.method + " " + r.path, As: as,
				Method: r.method, Path: r.path, Body: r.body, Status: http.StatusForbidden})
		}
	}
	scenarios = append(scenarios,
		servertest.Scenario{Name: "no token", Method: "GET", Path: "/api/v1/webhooks", Status: http.StatusUnauthorized},
		servertest.Scenario{Name: "loopback not allowed", As: "admin", Method: "POST", Path: "/api/v1/webhooks",
			Body: `{"url":"https://[::1]/hook","events":["response.submitted"]}`, Status: 422,
			Want: []string{`"path":"url"`, "SCT_WEBHOOK_ALLOW"}},
		servertest.Scenario{Name: "IPv4-mapped loopback elsewhere in 127/8", As: "admin", Method: "POST", Path: "/api/v1/webhooks",
			Body: `{"url":"https://[::ffff:127.0.0.2]/hook","events":["response.submitted"]}`, Status: 422, Want: []string{`"path":"url"`}},
		servertest.Scenario{Name: "private", As: "admin", Method: "POST", Path: "/api/v1/webhooks",
			Body: `{"url":"https://10.1.2.3/hook","events":["response.submitted"]}`, Status: 422, Want: []string{`"path":"url"`}},
		servertest.Scenario{Name: "cloud metadata", As: "admin", Method: "POST", Path: "/api/v1/webhooks",
			Body: `{"url":"http://169.254.169.254/latest/meta-data","events":["response.submitted"]}`, Status: 422, Want: []string{`"path":"url"`}},
		servertest.Scenario{Name: "plain http to a public address", As: "admin", Method: "POST", Path: "/api/v1/webhooks",
			Body: `{"url":"http://93.184.216.34/hook","events":["response.submitted"]}`, Status: 422, Want: []string{`"path":"url"`, "https://"}},
		servertest.Scenario{Name: "events checked one by one", As: "admin", Method: "POST", Path: "/api/v1/webhooks",
			Body:   fmt.Sprintf(`{"url":%q,"events":["response.submitted","response.draft","response.submitted"],"sites":["A","Z"]}`, rec.srv.URL),
			Status: 422, Want: []string{`"path":"events[1]"`, "drafts make no event", `"path":"events[2]"`, `"path":"sites[1]"`, "not a site"},
			Absent: []string{`"path":"sites[0]"`, `"path":"url"`}},
		servertest.Scenario{Name: "no events", As: "admin", Method: "POST", Path: "/api/v1/webhooks",
			Body: fmt.Sprintf(`{"url":%q,"events":[]}`, rec.srv.URL), Status: 422, Want: []string{`"path":"events"`}},
		servertest.Scenario{Name: "no url", As: "admin", Method: "POST", Path: "/api/v1/webhooks",
			Body: `{"events":["child.erased"]}`, Status: 422, Want: []string{`"path":"url"`}},
		servertest.Scenario{Name: "an unknown field", As: "admin", Method: "POST", Path: "/api/v1/webhooks",
			Body: fmt.Sprintf(`{"url":%q,"events":["child.erased"],"secret":"mine"}`, rec.srv.URL), Status: 400},
		servertest.Scenario{Name: "an unknown webhook", As: "admin", Method: "GET", Path: "/api/v1/webhooks/" + id + "/deliveries", Status: 404},
		servertest.Scenario{Name: "a webhook id of no shape", As: "admin", Method: "DELETE", Path: "/api/v1/webhooks/nope", Status: 404},
		servertest.Scenario{Name: "nothing registered", As: "admin", Method: "GET", Path: "/api/v1/webhooks", Status: 200,
			Want: []string{`"webhooks":[]`}},
	)
	servertest.RunScenarios(t, s, scenarios)

	// Registered: the secret comes once, in the answer.
	st, b := s.Do(t, "POST", "/api/v1/webhooks", good, "admin")
	if st != http.StatusCreated || !strings.Contains(string(b), `"secret":"whsec_`) {
		t.Fatalf("register: %d %s", st, b)
	}
	var created struct{ ID, Secret string }
	_ = json.Unmarshal(b, &created)
	st, b = s.Do(t, "GET", "/api/v1/webhooks", "", "admin")
	if st != 200 || !strings.Contains(string(b), created.ID) || strings.Contains(string(b), "whsec_") || strings.Contains(string(b), "secret") {
		t.Fatalf("list: %d %s", st, b)
	}
	if st, b := s.Do(t, "GET", "/api/v1/webhooks/"+strings.ToUpper(created.ID)+"/deliveries?limit=0", "", "admin"); st != 400 ||
		!strings.Contains(string(b), `"path":"limit"`) {
		t.Fatalf("a limit of 0: %d %s", st, b)
	}
	if st, b := s.Do(t, "DELETE", "/api/v1/webhooks/"+strings.ToUpper(created.ID), "", "admin"); st != http.StatusNoContent {
		t.Fatalf("delete: %d %s", st, b)
	}
	if st, _ := s.Do(t, "GET", "/api/v1/webhooks/"+created.ID+"/deliveries", "", "admin"); st != 404 {
		t.Fatalf("a deleted webhook's deliveries: %d", st)
	}
	st, b = s.Do(t, "GET", "/api/v1/audit?target=webhook:"+created.ID, "", "admin")
	if st != 200 || !strings.Contains(string(b), `"webhook.create"`) || !strings.Contains(string(b), `"webhook.delete"`) {
		t.Fatalf("audit: %d %s", st, b)
	}
}

func TestWebhooks_DeliveriesAreSignedNamelessInOrderAndOfTheSitesAsked(t *testing.T) {
	s := startForHooks(t, t.TempDir())
	s.AddUsers(t)
	all, siteB := newHookReceiver(t), newHookReceiver(t)
	hook := register(t, s, all, `["response.submitted","response.revised","child.erased"]`, `[]`)
	register(t, s, siteB, `["response.submitted","response.revised"]`, `["B"]`)
	createChild(t, s, "coordA", "W1", "A")
	createChild(t, s, "coordB", "W2", "B")

	draftID, sub := idC, sctRequest("W1", "baseline", "2019-06-14", "submitted", hookAnswers)
	if st, b := s.Do(t, "PUT", "/api/v1/responses/"+draftID, `{"form":"sct","version":"1","child_id":"W1","mode":"online","status":"draft","answers":{}}`, "coordA"); st != 201 {
		t.Fatalf("draft: %d %s", st, b)
	}
	if st, b := s.Do(t, "PUT", "/api/v1/responses/"+idA, sub, "coordA"); st != 201 {
		t.Fatalf("submit: %d %s", st, b)
	}
	revised := strings.Replace(sub, `"let_down":1`, `"let_down":2`, 1)
	revised = strings.Replace(revised, `"status":"submitted"`, `"status":"submitted","revision_reason":"Nanna-Secret-Name asked"`, 1)
	if st, b := s.Do(t, "PUT", "/api/v1/responses/"+idA, revised, "coordA"); st != 200 {
		t.Fatalf("revise: %d %s", st, b)
	}
	if st, b := s.Do(t, "PUT", "/api/v1/responses/"+idB, sctRequest("W2", "baseline", "2019-06-20", "submitted", hookAnswers), "coordB"); st != 201 {
		t.Fatalf("submit at B: %d %s", st, b)
	}
	calls := all.waitForKeys(t, 10*time.Second, idA+"#1", idA+"#2", idB+"#1")
	siteB.waitForKeys(t, 10*time.Second, idB+"#1")
	if st, b := s.Do(t, "DELETE", "/api/v1/children/W1", "", "admin"); st != 204 {
		t.Fatalf("erase: %d %s", st, b)
	}
	calls = all.waitForKeys(t, 10*time.Second, "erased W1")
	time.Sleep(300 * time.Millisecond) // anything more would come now
	calls = all.got()

	var keys []string
	for _, c := range calls {
		keys = append(keys, c.key())
		if c.Err != nil {
			t.Errorf("%s: %v", c.key(), c.Err)
		}
		for _, secret := range []string{"Nanna-Secret-Name", "Neighbour-Secret-Text", "nominees", "answers", "revision_reason"} {
			if strings.Contains(c.Raw, secret) {
				t.Errorf("a delivery carries %q: %s", secret, c.Raw)
			}
		}
		if strings.Contains(c.Raw, draftID) {
			t.Errorf("a draft was told of: %s", c.Raw)
		}
	}
	if len(keys) != 4 || slices.Index(keys, idA+"#1") > slices.Index(keys, idA+"#2") {
		t.Fatalf("got %v, want the submission, then its revision, B's submission and the erasure, once each", keys)
	}
	for _, c := range calls {
		d := c.Event.Data
		if c.key() == idA+"#2" && (c.Event.Type != "response.revised" || d.ChildID != "W1" || d.Site != "A" || d.Form != "sct" ||
			d.Version != "1" || d.Timepoint != "baseline" || d.Wave != 1 || d.Status != "submitted" || d.Time.IsZero()) {
			t.Errorf("the revision: %s", c.Raw)
		}
	}
	if got := siteB.got(); len(got) != 1 || got[0].key() != idB+"#1" {
		t.Fatalf("the webhook of site B got %d deliveries: %+v", len(got), got)
	}

	// The erasure took the deliveries of W1's responses with it: the
	// erasure's and W2's response's are left, listed newest first, a page
	// at a time.
	st, b := s.Do(t, "GET", "/api/v1/webhooks/"+hook+"/deliveries", "", "admin")
	if st != 200 || strings.Count(string(b), `"id":"msg_`) != 2 || strings.Contains(string(b), idA) {
		t.Fatalf("after W1's erasure: %d %s", st, b)
	}
	st, b = s.Do(t, "GET", "/api/v1/webhooks/"+hook+"/deliveries?limit=1", "", "admin")
	var page struct {
		Deliveries []struct {
			ID, Type, Status string
			Attempts         int
			NextAttempt      *time.Time `json:"next_attempt"`
			Event            webhook.Event
		}
		Limit int
		Next  string
	}
	if err := json.Unmarshal(b, &page); st != 200 || err != nil || len(page.Deliveries) != 1 || page.Next == "" || page.Limit != 1 {
		t.Fatalf("first page: %d %s", st, b)
	}
	if strings.Contains(string(b), "Nanna") {
		t.Fatalf("the list carries a name: %s", b)
	}
	for _, d := range page.Deliveries {
		if d.Status != "delivered" || d.Attempts != 1 || d.NextAttempt != nil {
			t.Errorf("delivery %+v", d)
		}
	}
	st, b = s.Do(t, "GET", "/api/v1/webhooks/"+hook+"/deliveries?limit=1&before="+page.Next, "", "admin")
	if st != 200 || strings.Count(string(b), `"id":"msg_`) != 1 || strings.Contains(string(b), `"next"`) {
		t.Fatalf("second page: %d %s", st, b)
	}
	if st, b := s.Do(t, "GET", "/api/v1/webhooks/"+hook+"/deliveries?before=nonsense", "", "admin"); st != 400 || !strings.Contains(string(b), `"path":"before"`) {
		t.Fatalf("a bad cursor: %d %s", st, b)
	}

	// A retry sends one again, under its own id.
	first := page.Deliveries[len(page.Deliveries)-1]
	before := len(all.got())
	if st, b := s.Do(t, "POST", "/api/v1/webhooks/"+hook+"/deliveries/"+strings.ToUpper(first.ID)+"/retry", "", "admin"); st != 202 {
		t.Fatalf("retry: %d %s", st, b)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(all.got()) == before {
		if time.Now().After(deadline) {
			t.Fatal("the retry was not sent")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if again := all.got()[before]; again.ID != first.ID || again.Err != nil {
		t.Fatalf("the retry came as %s (%v), want %s", again.ID, again.Err, first.ID)
	}
	if st, b := s.Do(t, "POST", "/api/v1/webhooks/"+hook+"/deliveries/msg_00000000000000000000000000000000/retry", "", "admin"); st != 404 {
		t.Fatalf("retrying an unknown delivery: %d %s", st, b)
	}
	if st, b := s.Do(t, "GET", "/api/v1/audit?action=webhook.retry", "", "admin"); st != 200 || !strings.Contains(string(b), first.ID) {
		t.Fatalf("audit of the retry: %d %s", st, b)
	}
}

// Two servers on one store (MongoDB mode) send each event once.
func TestWebhooks_TwoServersOnOneStoreSendEachEventOnce(t *testing.T) {
	if !storetest.MongoDB() {
		t.Skip("instances share a store only in MongoDB mode: this runs on the MongoDB-mode pass")
	}
	dir := t.TempDir()
	a := startForHooks(t, dir)
	a.AddUsers(t)
	b := startForHooks(t, dir)
	b.Tokens = a.Tokens
	rec := newHookReceiver(t)
	register(t, a, rec, `["response.submitted","response.revised"]`, `[]`)
	var want []string
	for i := range 6 {
		child, id := fmt.Sprintf("T%d", i), fmt.Sprintf("5e5e5e5e-0000-4000-8000-%012d", i)
		createChild(t, a, "coordA", child, "A")
		via := a
		if i%2 == 1 {
			via = b
		}
		if st, body := via.Do(t, "PUT", "/api/v1/responses/"+id, sctRequest(child, "baseline", "2019-06-14", "submitted", hookAnswers), "coordA"); st != 201 {
			t.Fatalf("submit %s: %d %s", id, st, body)
		}
		want = append(want, id+"#1")
	}
	rec.waitForKeys(t, 15*time.Second, want...)
	time.Sleep(500 * time.Millisecond) // long enough for a second copy to come, were one sent
	ids := map[string]int{}
	for _, c := range rec.got() {
		ids[c.ID]++
		if c.Err != nil {
			t.Errorf("%s: %v", c.key(), c.Err)
		}
	}
	if len(rec.got()) != len(want) || len(ids) != len(want) {
		t.Fatalf("%d requests for %d events, want %d once each", len(rec.got()), len(ids), len(want))
	}
}

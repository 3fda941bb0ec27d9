package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// fuzzResponseID is the response every fuzzed body is put to.
const fuzzResponseID = "0b9f8e2a-6c1d-4e3f-a5b7-c9d1e3f5a7b9"

// fuzzCaller is the caller every fuzzed body is sent as.
const fuzzCaller = "coordinator A"

// fuzzSCT is complete SCT answers.
const fuzzSCT = `{"nominees": [{"name": "Nan", "relationship": "grandparent"}, {"name": "Jo", "relationship": "other", "other_text": "neighbour"}],
 "key_people": [{"nominee": 0, "reason": "important", "support": {"trust": 4, "advice": 3}, "let_down": 1},
  {"name": "Mr K", "relationship": "school_staff", "reason": "support", "support": {"advice": 3}}],
 "adequacy": {"emotional": 3, "trust": 2}}`

// fuzzPractice is a complete practice summary of version 2.
const fuzzPractice = `{"started_on": "2019-01-07", "ended_on": "2019-11-29", "tools_used": ["sct"], "connections_identified": 4,
 "connections_retained": 2, "route": "fgc", "fgc_attendees": 9, "outcomes": ["other"], "outcomes_other_text": "a letter",
 "objectives": [{"category": "siblings", "met": true}]}`

// fuzzEnvelope is a request for site A's child CA1 with the given answers;
// extra replaces or adds envelope fields (`"wave": 2`), in JSON.
func fuzzEnvelope(answers string, extra ...string) string {
	fields := map[string]string{
		"form": `"sct"`, "version": `"1"`, "child_id": `"CA1"`, "timepoint": `"baseline"`,
		"completed_on": `"2019-06-14"`, "mode": `"paper"`, "status": `"submitted"`, "answers": answers,
	}
	order := []string{"form", "version", "child_id", "timepoint", "completed_on", "mode", "status", "answers"}
	for _, e := range extra {
		name, value, _ := strings.Cut(e, ":")
		name = strings.Trim(strings.TrimSpace(name), `"`)
		if _, known := fields[name]; !known {
			order = append(order, name)
		}
		fields[name] = strings.TrimSpace(value)
	}
	parts := make([]string, 0, len(order))
	for _, name := range order {
		if v := fields[name]; v != "-" {
			parts = append(parts, `"`+name+`": `+v)
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// fuzzPutSeeds are the bodies every run starts from: valid requests, the
// envelope broken every way, and answers that are huge, deep, mistyped,
// unicode, duplicated, numerically extreme or null.
func fuzzPutSeeds() []string {
	draft := func(answers string, extra ...string) string {
		return fuzzEnvelope(answers, append([]string{`"status": "draft"`, `"completed_on": -`}, extra...)...)
	}
	practice := func(status string) string {
		return fuzzEnvelope(fuzzPractice, `"form": "practice-summary"`, `"version": "2"`, `"timepoint": -`, `"status": "`+status+`"`)
	}
	nominees := make([]string, 10000)
	for i := range nominees {
		nominees[i] = fmt.Sprintf(`{"name": "P%d", "relationship": "friend"}`, i)
	}
	seeds := []string{
		// Valid requests, each stored, retried and erased again.
		draft(`{}`), draft(`null`), draft(`{"nominees": [{"name": "Nan"}]}`), draft(`{}`, `"answers": -`),
		draft(`{"key_people": [{"reason": "important"}]}`, `"timepoint": -`, `"mode": "online"`),
		fuzzEnvelope(fuzzSCT),
		fuzzEnvelope(fuzzSCT, `"timepoint": "follow_up"`), // no baseline yet
		fuzzEnvelope(`{"nominees": [{"relationship": "friend"}]}`, `"completed_on": "2019-06-15"`),
		fuzzEnvelope(`{}`, `"wave": 0`),
		practice("draft"), practice("submitted"),
		fuzzEnvelope(`{}`, `"child_id": "CB1"`), // another site's child
		fuzzEnvelope(`{}`, `"child_id": "NOPE"`),
		// Unknown and misspelt fields.
		fuzzEnvelope(`{}`, `"extra": 1`), fuzzEnvelope(`{}`, `"Form": "sct"`), fuzzEnvelope(`{}`, `"FORM": "sct"`),
		fuzzEnvelope(`{}`, `"answer": {}`, `"answers": -`), fuzzEnvelope(`{}`, `"site": "B"`), fuzzEnvelope(`{}`, `"id": "x"`),
		fuzzEnvelope(`{}`, `"": 0`), fuzzEnvelope(`{}`, `"ключ": "значение"`),
		// Required fields missing or blank, and values out of range.
		`{}`, fuzzEnvelope(`{}`, `"form": -`), fuzzEnvelope(`{}`, `"version": ""`), fuzzEnvelope(`{}`, `"child_id": -`),
		fuzzEnvelope(`{}`, `"mode": -`), fuzzEnvelope(`{}`, `"status": -`), fuzzEnvelope(`{}`, `"completed_on": -`),
		fuzzEnvelope(`{}`, `"form": "nope"`), fuzzEnvelope(`{}`, `"version": "99"`), fuzzEnvelope(`{}`, `"timepoint": "later"`),
		fuzzEnvelope(`{}`, `"timepoint": "follow_up"`), fuzzEnvelope(`{}`, `"timepoint": "follow_up"`, `"wave": 2`),
		fuzzEnvelope(`{}`, `"wave": 2`), fuzzEnvelope(`{}`, `"wave": -1`), fuzzEnvelope(`{}`, `"wave": 100`),
		fuzzEnvelope(`{}`, `"mode": "fax"`), fuzzEnvelope(`{}`, `"status": "final"`),
		fuzzEnvelope(`{}`, `"completed_on": "2999-01-01"`), fuzzEnvelope(`{}`, `"completed_on": "2019-02-30"`),
		fuzzEnvelope(`{}`, `"completed_on": "14/06/2019"`), fuzzEnvelope(`{}`, `"completed_on": "2019-06-14T00:00:00Z"`),
		fuzzEnvelope(`{}`, `"form": "`+strings.Repeat("f", 65)+`"`), fuzzEnvelope(`{}`, `"child_id": "`+strings.Repeat("c", 65)+`"`),
		practice("submitted")[:len(practice("submitted"))-1] + `, "timepoint": "baseline"}`,
		// Wrong types for every envelope field.
		fuzzEnvelope(`{}`, `"form": 1`), fuzzEnvelope(`{}`, `"version": 1`), fuzzEnvelope(`{}`, `"child_id": []`),
		fuzzEnvelope(`{}`, `"timepoint": {}`), fuzzEnvelope(`{}`, `"wave": "1"`), fuzzEnvelope(`{}`, `"wave": 1.5`),
		fuzzEnvelope(`{}`, `"wave": true`), fuzzEnvelope(`{}`, `"completed_on": 20190614`), fuzzEnvelope(`{}`, `"mode": true`),
		fuzzEnvelope(`{}`, `"status": null`), fuzzEnvelope(`{}`, `"status": ["submitted"]`), fuzzEnvelope(`"x"`),
		fuzzEnvelope(`[]`), fuzzEnvelope(`1`), fuzzEnvelope(`true`), fuzzEnvelope(`[{}]`),
		// Numbers at and past every edge.
		fuzzEnvelope(`{}`, `"wave": 1e309`), fuzzEnvelope(`{}`, `"wave": -0`), fuzzEnvelope(`{}`, `"wave": 9999999999999999999`),
		fuzzEnvelope(`{}`, `"wave": 1e2`), fuzzEnvelope(`{}`, `"wave": 1.0`), fuzzEnvelope(`{}`, `"wave": -9223372036854775809`),
		draft(`{"adequacy": {"trust": 1e309}}`), draft(`{"adequacy": {"trust": -0}}`),
		draft(`{"adequacy": {"trust": 9999999999999999999}}`), draft(`{"nominees": [{"relationship": "friend"}], "key_people": [{"nominee": -0, "reason": "support"}]}`),
		// Invalid answers: 422 with paths.
		fuzzEnvelope(`{"nominees": [{"name": "Nan"}]}`), fuzzEnvelope(`{"key_people": [{"reason": "important"}]}`),
		fuzzEnvelope(`{"nominees": "all of them"}`), fuzzEnvelope(`{"adequacy": {"trust": "3"}, "unknown": 1}`),
		fuzzEnvelope(`{"nominees": [` + strings.Join(nominees, ",") + `]}`),
		fuzzEnvelope(`{"nominees": ` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`),
		fuzzEnvelope(`{"adequacy": ` + strings.Repeat(`{"trust":`, 1000) + "1" + strings.Repeat("}", 1000) + `}`),
		fuzzEnvelope(strings.Repeat("[", 20000) + strings.Repeat("]", 20000)),
		fuzzEnvelope(`{` + strings.TrimSuffix(strings.Repeat(`"x": 1, `, 500), ", ") + `}`),
		// Duplicate keys: the last one counts.
		fuzzEnvelope(`{"nominees": 1}, "answers": {}`), fuzzEnvelope(`{}, "answers": {"nominees": 1}`),
		fuzzEnvelope(`{}`, `"status": "draft", "status": "submitted"`), fuzzEnvelope(`{}`, `"child_id": "CB1", "child_id": "CA1"`),
		fuzzEnvelope(`{}`, `"child_id": "CA1", "child_id": "CB1"`),
		draft(`{"nominees": [{"relationship": "friend"}, {"relationship": "sibling"}], "key_people": [{"nominee": 0, "reason": "support"}, {"nominee": 0, "reason": "support"}]}`),
		// Unicode.
		draft(`{"nominees": [{"name": "جدتي ‮ סבתא", "relationship": "grandparent"}, {"name": "👩‍👧🙂", "relationship": "friend"}, {"name": "Z̷̢̛a̶̡l̸g̵o̴", "relationship": "friend"}]}`),
		draft("{\"nominees\": [{\"name\": \"\xff\xfe\xc3(\", \"relationship\": \"friend\"}]}"),
		draft(`{"nominees": [{"name": "\ud800 \u0000 \u202e", "relationship": "friend"}]}`),
		draft(`{"nominees": [{"name": "` + strings.Repeat("🙂", 61) + `", "relationship": "friend"}]}`),
		fuzzEnvelope(`{}`, `"child_id": "‮CA1"`), fuzzEnvelope(`{}`, `"child_id": "CA1\u0000"`), fuzzEnvelope(`{}`, "\"child_id\": \"\xff\""),
		fuzzEnvelope(`{}`, `"form": "ｓｃｔ"`), fuzzEnvelope(`{}`, `"mode": "pap\u0065r"`), fuzzEnvelope(`{}`, "\"\xff\": 1"),
		// Not one JSON object.
		``, ` `, `null`, `true`, `0`, `"text"`, `[]`, `[{"form": "sct"}]`, `{`, `}`, `{"form": "sct",}`, `{'form': 'sct'}`,
		"\xef\xbb\xbf" + fuzzEnvelope(`{}`), // a UTF-8 byte-order mark
		fuzzEnvelope(`{}`) + ` x`, fuzzEnvelope(`{}`) + ` {}`, fuzzEnvelope(`{}`) + "\x00",
		fuzzEnvelope(`{}`)[:40],
		// Trailing data after a valid request: must be refused, not stored.
		draft(`{}`) + `}`, fuzzEnvelope(fuzzSCT) + `]`, draft(`{}`) + `] trailing garbage`,
		// Bodies over the 1 MiB limit: 413.
		fuzzEnvelope(`{"nominees": [{"name": "` + strings.Repeat("x", 2<<20) + `"}]}`),
		strings.Repeat(" ", MaxBody) + `{}`,
		// Over the limit and not JSON well before it, or a request with
		// data after it that runs past the limit: 413 too, with or
		// without a Content-Length.
		`{"form": x` + strings.Repeat("y", MaxBody),
		draft(`{}`) + ` x` + strings.Repeat("y", MaxBody),
	}
	return seeds
}

// fuzzLog collects what the server logs, so a 5xx can show its cause.
type fuzzLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *fuzzLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *fuzzLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	l.buf.Reset()
	return s
}

// newFuzzFixture is the fully wired API on a fresh embedded store with sites
// A and B, children CA1 (site A) and CB1 (site B), and a token for
// coordinator A. Unlike newFixture it takes a testing.TB, so a fuzz target
// builds it once, before fuzzing starts.
func newFuzzFixture(tb testing.TB, logs io.Writer) (*fixture, *form.Registry) {
	tb.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(ctx, storetest.Fresh(tb, store.Options{Database: "fuzz", Logger: quiet}))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close(context.Background()) })
	reg, err := form.Load(forms.FS())
	if err != nil {
		tb.Fatal(err)
	}
	spec, err := auth.GenerateKeySpec(time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := auth.ParseKeys(spec)
	if err != nil {
		tb.Fatal(err)
	}
	tokens := auth.NewTokens(keys, "sct", time.Now)
	srv := serveAPI(tb, Deps{Forms: reg, Store: st, Tokens: tokens, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	f := &fixture{srv: srv, st: st, tokens: map[string]string{}}
	for _, s := range []string{"A", "B"} {
		if _, err := st.CreateSite(ctx, store.Site{Code: s, Name: "Site " + s}); err != nil {
			tb.Fatal(err)
		}
	}
	for _, c := range []store.Child{{ID: "CA1", Site: "A", Group: "lifelong_links"}, {ID: "CB1", Site: "B", Group: "comparison"}} {
		if _, err := st.CreateChild(ctx, c); err != nil {
			tb.Fatal(err)
		}
	}
	claims := auth.Claims{Role: "coordinator", Sites: []string{"A"}}
	claims.Subject = staffUser(tb, st, "coordinator", "A").ID
	tok, _, err := tokens.Issue(claims, 24*time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	f.tokens[fuzzCaller] = tok
	return f, reg
}

// FuzzPutResponse sends any body to PUT /api/v1/responses/{id} as a site-A
// coordinator and checks that the server never fails (no 5xx), refuses in
// the error envelope with a path for every field fault, refuses bodies over
// the limit with 413, and stores only bodies that are valid requests.
func FuzzPutResponse(f *testing.F) {
	logs := &fuzzLog{}
	fx, reg := newFuzzFixture(f, logs)
	client := &http.Client{Timeout: time.Minute}
	for _, s := range fuzzPutSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		logs.take()
		status, header, got := fuzzPut(t, client, fx, bytes.NewReader(body))
		if status < 300 {
			// Every input starts from the same state, so that a failure
			// found while fuzzing fails again when its input is re-run.
			t.Cleanup(func() { fuzzReset(t, fx) })
		}
		checkPut(t, reg, body, status, header, got, logs)
		if status < 300 {
			// A retry is recognised and stores nothing new.
			again, header, got := fuzzPut(t, client, fx, bytes.NewReader(body))
			checkPut(t, reg, body, again, header, got, logs)
			if again != http.StatusOK {
				t.Fatalf("retry of a stored body: status %d, want 200; reply %s", again, got)
			}
		}
		if len(body) > MaxBody {
			// Without a Content-Length the limit is found while reading.
			status, header, got = fuzzPut(t, client, fx, struct{ io.Reader }{bytes.NewReader(body)})
			checkPut(t, reg, body, status, header, got, logs)
		}
	})
}

// fuzzReset erases what a stored body left behind: child CA1 with its
// responses, registered afresh.
func fuzzReset(t *testing.T, fx *fixture) {
	t.Helper()
	ctx := context.Background()
	if err := fx.st.EraseChild(ctx, "CA1"); err != nil {
		t.Errorf("reset: %v", err)
	}
	if _, err := fx.st.CreateChild(ctx, store.Child{ID: "CA1", Site: "A", Group: "lifelong_links"}); err != nil {
		t.Errorf("reset: %v", err)
	}
}

func fuzzPut(t *testing.T, client *http.Client, fx *fixture, body io.Reader) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, fx.srv.URL+"/api/v1/responses/"+fuzzResponseID, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+fx.tokens[fuzzCaller])
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("PUT: %v", err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	return res.StatusCode, res.Header, got
}

// checkPut holds the contract of PUT /api/v1/responses/{id} for one reply.
func checkPut(t *testing.T, reg *form.Registry, body []byte, status int, header http.Header, got []byte, logs *fuzzLog) {
	t.Helper()
	show := func(b []byte) string {
		if len(b) > 300 {
			return fmt.Sprintf("%q… (%d bytes)", b[:300], len(b))
		}
		return fmt.Sprintf("%q", b)
	}
	switch {
	case status >= 500:
		t.Fatalf("status %d for body %s\nreply %s\nserver log:\n%s", status, show(body), got, logs.take())
	case len(body) > MaxBody && status != http.StatusRequestEntityTooLarge:
		t.Fatalf("status %d for a body of %d bytes, want 413; reply %s", status, len(body), got)
	case len(body) <= MaxBody && status == http.StatusRequestEntityTooLarge:
		t.Fatalf("413 for a body of %d bytes, within the limit; reply %s", len(body), got)
	case status < 200 || (status >= 300 && status < 400):
		t.Fatalf("status %d for body %s; reply %s", status, show(body), got)
	}
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("status %d with Content-Type %q, want JSON", status, ct)
	}
	if status < 300 {
		if why := fuzzInvalidRequest(reg, body); why != "" {
			t.Fatalf("status %d for a body that is not a valid request (%s): %s\nreply %s", status, why, show(body), got)
		}
		var r struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(got, &r); err != nil || r.ID != fuzzResponseID {
			t.Fatalf("status %d: reply is not the stored response %s: %s (%v)", status, fuzzResponseID, got, err)
		}
		return
	}
	var p struct {
		Error  *string           `json:"error"`
		Fields []json.RawMessage `json:"fields"`
	}
	dec := json.NewDecoder(bytes.NewReader(got))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.Error == nil {
		t.Fatalf("status %d: reply is not the error envelope: %s (%v); body %s", status, got, err, show(body))
	}
	if strings.TrimSpace(*p.Error) == "" {
		t.Errorf("status %d: empty error; body %s", status, show(body))
	}
	if status == http.StatusUnprocessableEntity && len(p.Fields) == 0 {
		t.Errorf("422 without fields: %s; body %s", got, show(body))
	}
	for i, raw := range p.Fields {
		var fe struct{ Path, Reason string }
		if err := json.Unmarshal(raw, &fe); err != nil {
			t.Errorf("status %d: field %d is not {path, reason}: %s", status, i, raw)
			continue
		}
		if fe.Path == "" || strings.TrimSpace(fe.Reason) == "" {
			t.Errorf("status %d: field %d has no path or no reason: %s; body %s", status, i, raw, show(body))
		}
	}
}

// fuzzInvalidRequest says why body is not a request the API may store for
// site A, or "" when it is one.
func fuzzInvalidRequest(reg *form.Registry, body []byte) string {
	if len(body) > MaxBody {
		return "over the size limit"
	}
	if !json.Valid(body) {
		return "not one JSON value"
	}
	var req responseRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return "does not decode: " + err.Error()
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "trailing data"
	}
	switch {
	case req.ChildID != "CA1":
		return "not site A's child"
	case req.Mode != "online" && req.Mode != "paper":
		return "mode"
	case req.Status != "draft" && req.Status != "submitted":
		return "status"
	case req.Status == "submitted" && req.CompletedOn == "":
		return "submitted without completed_on"
	}
	def, ok := reg.Get(req.Form, req.Version)
	if !ok {
		return "no such form version"
	}
	answers := []byte(req.Answers)
	if len(answers) == 0 || string(answers) == "null" {
		answers = []byte("{}")
	}
	if _, faults := def.Validate(answers, req.Status == "submitted"); len(faults) > 0 {
		return fmt.Sprintf("answers have %d faults, first %v", len(faults), faults[0])
	}
	return ""
}

package submission_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/practice"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
	"github.com/lifelong-links/sct/internal/submission"
	"github.com/lifelong-links/sct/internal/summary"
)

// start is the clock's reading when a test begins: mid-morning, so the
// one-day grace for completed_on is visible as "tomorrow is allowed, the
// day after is not".
var start = time.Date(2020, 1, 15, 10, 30, 0, 0, time.UTC)

// clock is a fixed clock a test can move forward, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness is a submission service over a fresh embedded store.
type harness struct {
	ctx   context.Context
	clock *clock
	st    *store.Store
	forms *form.Registry
	svc   *submission.Service
}

// The submission tests run on the embedded store, then in MongoDB mode.
func TestMain(m *testing.M) { os.Exit(storetest.RunBoth(m)) }

// submitted reads the submitted response holding a child's place for a
// form, timepoint and wave.
func (h *harness) submitted(childID, form, timepoint string, wave int) (store.Response, error) {
	id, _, err := h.st.SlotHolder(h.ctx, childID, form, timepoint, wave)
	if err != nil {
		return store.Response{}, err
	}
	return h.st.Response(h.ctx, id)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := t.Context()
	c := &clock{now: start}
	st, err := store.Open(ctx, storetest.Fresh(t, store.Options{
		Database: "test",
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:      c.Now,
	}))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(context.WithoutCancel(ctx)); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	reg, err := form.Load(forms.FS())
	if err != nil {
		t.Fatalf("load forms: %v", err)
	}
	return &harness{ctx: ctx, clock: c, st: st, forms: reg, svc: submission.New(reg, st, c.Now)}
}

// child registers a child at site B in the Lifelong Links group.
func (h *harness) child(t *testing.T, id string) {
	t.Helper()
	if _, err := h.st.CreateChild(h.ctx, store.Child{ID: id, Site: "B", Group: "lifelong_links"}); err != nil {
		t.Fatalf("create child %s: %v", id, err)
	}
}

// put stores a request that must succeed with the wanted outcome.
func (h *harness) put(t *testing.T, id string, req submission.Request, want submission.Outcome) store.Response {
	t.Helper()
	got, outcome, err := h.svc.Put(h.ctx, id, req, submission.Reach{})
	if err != nil {
		t.Fatalf("put %s: %v", id, err)
	}
	if outcome != want {
		t.Fatalf("put %s: outcome %s, want %s", id, outcomeName(outcome), outcomeName(want))
	}
	return got
}

// stored reads a response that must exist.
func (h *harness) stored(t *testing.T, id string) store.Response {
	t.Helper()
	r, err := h.st.Response(h.ctx, id)
	if err != nil {
		t.Fatalf("read response %s: %v", id, err)
	}
	return r
}

// revisions reads a response's history.
func (h *harness) revisions(t *testing.T, id string) []store.Response {
	t.Helper()
	revs, err := h.st.Revisions(h.ctx, id)
	if err != nil {
		t.Fatalf("read revisions of %s: %v", id, err)
	}
	return revs
}

// absent checks that nothing at all was stored under id.
func (h *harness) absent(t *testing.T, id string) {
	t.Helper()
	if r, err := h.st.Response(h.ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("response %s: got %+v, %v; want store.ErrNotFound", id, r, err)
	}
}

func outcomeName(o submission.Outcome) string {
	switch o {
	case submission.Created:
		return "Created"
	case submission.Unchanged:
		return "Unchanged"
	case submission.Revised:
		return "Revised"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// sctAnswers is the contract's example: 3 nominees, 2 key people (one a
// nominee, one a new name), every adequacy item answered.
func sctAnswers(t *testing.T) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sct-answers.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// oneNominee is a different, smaller valid set of SCT answers.
const oneNominee = `{"nominees":[{"name":"Nan","relationship":"grandparent"}],
	"key_people":[{"nominee":0,"reason":"important","support":{"emotional":4},"let_down":1}]}`

// sct is a submitted online SCT.
func sct(childID, timepoint, completedOn string, answers json.RawMessage) submission.Request {
	return submission.Request{
		Form: "sct", Version: "1", ChildID: childID, Timepoint: timepoint,
		CompletedOn: completedOn, Mode: "online", Status: store.StatusSubmitted, Answers: answers,
	}
}

// draft is the same request as a draft.
func draft(req submission.Request) submission.Request {
	req.Status = store.StatusDraft
	return req
}

// with returns req changed by edit.
func with(req submission.Request, edit func(*submission.Request)) submission.Request {
	edit(&req)
	return req
}

// practiceSummary is a submitted practice summary.
func practiceSummary(childID, version, completedOn, answers string) submission.Request {
	return submission.Request{
		Form: "practice-summary", Version: version, ChildID: childID, CompletedOn: completedOn,
		Mode: "paper", Status: store.StatusSubmitted, Answers: json.RawMessage(answers),
	}
}

// nomineesOf counts the nominees in stored answers, whatever Go types the
// store decoded them into.
func nomineesOf(t *testing.T, answers map[string]any) int {
	t.Helper()
	b, err := json.Marshal(answers)
	if err != nil {
		t.Fatalf("marshal answers: %v", err)
	}
	var a struct {
		Nominees []json.RawMessage `json:"nominees"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("decode answers %s: %v", b, err)
	}
	return len(a.Nominees)
}

func TestPut_NewSubmittedSCTIsCreated(t *testing.T) {
	h := newHarness(t)
	if _, err := h.st.CreateChild(h.ctx, store.Child{ID: "C1", Site: "K", Group: "comparison"}); err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()

	got := h.put(t, id, sct("C1", "baseline", "2019-06-14", sctAnswers(t)), submission.Created)

	if got.ID != id || got.Revision != 1 || got.Status != store.StatusSubmitted || got.Wave != 1 {
		t.Errorf("id %s revision %d status %s wave %d; want %s, 1, submitted, 1", got.ID, got.Revision, got.Status, got.Wave, id)
	}
	if got.Site != "K" || got.Group != "comparison" {
		t.Errorf("site %q group %q; want the child's K, comparison", got.Site, got.Group)
	}
	if got.SubmittedAt == nil || !got.SubmittedAt.Equal(start) {
		t.Errorf("submitted at %v, want %v", got.SubmittedAt, start)
	}
	if !got.CreatedAt.Equal(start) || !got.UpdatedAt.Equal(start) {
		t.Errorf("created %v updated %v, want both %v", got.CreatedAt, got.UpdatedAt, start)
	}
	in := inputsOf(t, got)
	if in == nil {
		t.Fatal("no summary inputs derived for a submitted SCT")
	}
	if in.Nominees != 3 || in.KeyPeople != 2 {
		t.Errorf("inputs: %d nominees, %d key people; want 3, 2", in.Nominees, in.KeyPeople)
	}
	if want := []string{"biological_mother", "friend", "grandparent"}; !slices.Equal(in.Relationships, want) {
		t.Errorf("relationships %v, want %v", in.Relationships, want)
	}
	if want := []string{"grandparent", "school_staff"}; !slices.Equal(in.KeyRelationships, want) {
		t.Errorf("key relationships %v, want %v (the nominee's and the new person's)", in.KeyRelationships, want)
	}
	for support, want := range map[string][4]int{
		"emotional": {0, 0, 1, 1},
		"trust":     {0, 1, 0, 1},
		"advocacy":  {0, 1, 0, 0}, // the second key person skipped it
	} {
		if in.Support[support] != want {
			t.Errorf("support %s counts %v, want %v", support, in.Support[support], want)
		}
	}
	if want := [4]int{1, 1, 0, 0}; in.LetDown != want {
		t.Errorf("let_down counts %v, want %v", in.LetDown, want)
	}
	if in.Adequacy["advocacy"] != 1 || in.Adequacy["practical"] != 2 || len(in.Adequacy) != 8 {
		t.Errorf("adequacy %v, want 8 items with advocacy 1, practical 2", in.Adequacy)
	}

	st := h.stored(t, id)
	if st.Revision != 1 || st.Site != "K" || st.Group != "comparison" || st.SubmittedAt == nil || !st.SubmittedAt.Equal(start) {
		t.Errorf("stored %+v differs from what Put returned", st)
	}
	if inputsOf(t, st) == nil || inputsOf(t, st).Nominees != 3 || inputsOf(t, st).Support["emotional"] != in.Support["emotional"] {
		t.Errorf("stored inputs %+v, want %+v", inputsOf(t, st), in)
	}
	if n := nomineesOf(t, st.Answers); n != 3 {
		t.Errorf("stored answers have %d nominees, want 3", n)
	}
	if revs := h.revisions(t, id); len(revs) != 1 || revs[0].Revision != 1 {
		t.Errorf("history has %d revisions, want revision 1 only", len(revs))
	}
}

func TestPut_RetryOfSameBodyStoresOnce(t *testing.T) {
	h := newHarness(t)
	reordered := func(t *testing.T) json.RawMessage {
		var doc any
		if err := json.Unmarshal(sctAnswers(t), &doc); err != nil {
			t.Fatal(err)
		}
		b, err := json.MarshalIndent(doc, "", "\t") // keys sorted, new layout
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	withNullRating := func(t *testing.T) json.RawMessage {
		var doc map[string]any
		if err := json.Unmarshal(sctAnswers(t), &doc); err != nil {
			t.Fatal(err)
		}
		// The second key person skipped advocacy; null says the same.
		doc["key_people"].([]any)[1].(map[string]any)["support"].(map[string]any)["advocacy"] = nil
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name    string
		first   func(child string) submission.Request
		retry   func(child string) submission.Request
		wantRev int
	}{
		{
			name:    "identical submitted body",
			first:   func(c string) submission.Request { return sct(c, "baseline", "2019-06-14", sctAnswers(t)) },
			retry:   func(c string) submission.Request { return sct(c, "baseline", "2019-06-14", sctAnswers(t)) },
			wantRev: 1,
		},
		{
			name:    "same answers in another key order and layout",
			first:   func(c string) submission.Request { return sct(c, "baseline", "2019-06-14", sctAnswers(t)) },
			retry:   func(c string) submission.Request { return sct(c, "baseline", "2019-06-14", reordered(t)) },
			wantRev: 1,
		},
		{
			name:    "a skipped rating sent as null",
			first:   func(c string) submission.Request { return sct(c, "baseline", "2019-06-14", sctAnswers(t)) },
			retry:   func(c string) submission.Request { return sct(c, "baseline", "2019-06-14", withNullRating(t)) },
			wantRev: 1,
		},
		{
			name:  "wave 1 given where it was left out",
			first: func(c string) submission.Request { return sct(c, "baseline", "2019-06-14", sctAnswers(t)) },
			retry: func(c string) submission.Request {
				return with(sct(c, "baseline", "2019-06-14", sctAnswers(t)), func(r *submission.Request) { r.Wave = 1 })
			},
			wantRev: 1,
		},
		{
			name:    "identical draft",
			first:   func(c string) submission.Request { return draft(sct(c, "baseline", "", json.RawMessage(oneNominee))) },
			retry:   func(c string) submission.Request { return draft(sct(c, "baseline", "", json.RawMessage(oneNominee))) },
			wantRev: 0,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			child := fmt.Sprintf("C%d", i)
			h.child(t, child)
			id := uuid.NewString()
			first := h.put(t, id, tt.first(child), submission.Created)

			h.clock.Advance(time.Hour) // a re-store would show a new UpdatedAt
			again := h.put(t, id, tt.retry(child), submission.Unchanged)

			if again.Revision != tt.wantRev || !again.UpdatedAt.Equal(first.UpdatedAt) || !again.CreatedAt.Equal(first.CreatedAt) {
				t.Errorf("retry returned revision %d updated %v created %v; want the first record: %d, %v, %v",
					again.Revision, again.UpdatedAt, again.CreatedAt, tt.wantRev, first.UpdatedAt, first.CreatedAt)
			}
			if st := h.stored(t, id); !st.UpdatedAt.Equal(first.UpdatedAt) || st.Revision != tt.wantRev {
				t.Errorf("stored updated %v revision %d; want untouched %v, %d", st.UpdatedAt, st.Revision, first.UpdatedAt, tt.wantRev)
			}
			if revs := h.revisions(t, id); len(revs) != tt.wantRev {
				t.Errorf("history has %d revisions, want %d", len(revs), tt.wantRev)
			}
		})
	}
}

func TestPut_ChangedSubmittedBodyIsNewRevision(t *testing.T) {
	h := newHarness(t)
	h.child(t, "C1")
	id := uuid.NewString()
	first := h.put(t, id, sct("C1", "baseline", "2019-06-14", sctAnswers(t)), submission.Created)

	h.clock.Advance(24 * time.Hour)
	later := h.clock.Now()
	got := h.put(t, id, sct("C1", "baseline", "2019-06-15", json.RawMessage(oneNominee)), submission.Revised)

	if got.Revision != 2 || got.CompletedOn != "2019-06-15" {
		t.Errorf("revision %d completed %s; want 2, 2019-06-15", got.Revision, got.CompletedOn)
	}
	if !got.CreatedAt.Equal(first.CreatedAt) || !got.UpdatedAt.Equal(later) || got.SubmittedAt == nil || !got.SubmittedAt.Equal(later) {
		t.Errorf("created %v updated %v submitted %v; want created %v, updated and submitted %v",
			got.CreatedAt, got.UpdatedAt, got.SubmittedAt, first.CreatedAt, later)
	}
	if inputsOf(t, got) == nil || inputsOf(t, got).Nominees != 1 {
		t.Errorf("inputs %+v, want derived from the new answers (1 nominee)", inputsOf(t, got))
	}
	if st := h.stored(t, id); st.Revision != 2 || nomineesOf(t, st.Answers) != 1 || inputsOf(t, st) == nil || inputsOf(t, st).Nominees != 1 {
		t.Errorf("stored revision %d with %d nominees, inputs %+v; want revision 2 with 1", st.Revision, nomineesOf(t, st.Answers), inputsOf(t, st))
	}

	revs := h.revisions(t, id)
	if len(revs) != 2 {
		t.Fatalf("history has %d revisions, want 2", len(revs))
	}
	for i, want := range []struct {
		revision    int
		completedOn string
		nominees    int
	}{{1, "2019-06-14", 3}, {2, "2019-06-15", 1}} {
		r := revs[i]
		if r.Revision != want.revision || r.CompletedOn != want.completedOn || nomineesOf(t, r.Answers) != want.nominees ||
			inputsOf(t, r) == nil || inputsOf(t, r).Nominees != want.nominees {
			t.Errorf("history[%d]: revision %d completed %s with %d nominees (inputs %+v); want %d, %s, %d",
				i, r.Revision, r.CompletedOn, nomineesOf(t, r.Answers), inputsOf(t, r), want.revision, want.completedOn, want.nominees)
		}
	}
}

func TestPut_ChangedDraftStaysRevisionZero(t *testing.T) {
	h := newHarness(t)
	h.child(t, "C1")
	id := uuid.NewString()
	first := h.put(t, id, draft(sct("C1", "", "", json.RawMessage(`{"nominees":[{"relationship":"friend"}]}`))), submission.Created)
	if first.Revision != 0 || first.SubmittedAt != nil || inputsOf(t, first) != nil {
		t.Errorf("new draft: revision %d submitted %v inputs %+v; want 0, none, none", first.Revision, first.SubmittedAt, inputsOf(t, first))
	}

	h.clock.Advance(time.Hour)
	got := h.put(t, id, draft(sct("C1", "baseline", "", json.RawMessage(oneNominee))), submission.Revised)

	if got.Revision != 0 || got.SubmittedAt != nil || inputsOf(t, got) != nil || got.Timepoint != "baseline" {
		t.Errorf("changed draft: revision %d submitted %v inputs %+v timepoint %q; want 0, none, none, baseline",
			got.Revision, got.SubmittedAt, inputsOf(t, got), got.Timepoint)
	}
	if !got.UpdatedAt.Equal(h.clock.Now()) || !got.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("updated %v created %v; want %v, %v", got.UpdatedAt, got.CreatedAt, h.clock.Now(), first.CreatedAt)
	}
	if st := h.stored(t, id); st.Status != store.StatusDraft || st.Revision != 0 || st.Timepoint != "baseline" {
		t.Errorf("stored status %s revision %d timepoint %q; want the changed draft", st.Status, st.Revision, st.Timepoint)
	}
	if revs := h.revisions(t, id); len(revs) != 0 {
		t.Errorf("history has %d revisions; drafts keep none", len(revs))
	}
}

func TestPut_SubmittingDraftMakesRevisionOne(t *testing.T) {
	h := newHarness(t)
	h.child(t, "C1")
	id := uuid.NewString()
	first := h.put(t, id, draft(sct("C1", "baseline", "", json.RawMessage(oneNominee))), submission.Created)

	h.clock.Advance(time.Hour)
	got := h.put(t, id, sct("C1", "baseline", "2019-06-14", sctAnswers(t)), submission.Revised)

	if got.Revision != 1 || got.Status != store.StatusSubmitted || got.SubmittedAt == nil || !got.SubmittedAt.Equal(h.clock.Now()) {
		t.Errorf("revision %d status %s submitted %v; want 1, submitted, %v", got.Revision, got.Status, got.SubmittedAt, h.clock.Now())
	}
	if !got.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("created %v, want the draft's %v", got.CreatedAt, first.CreatedAt)
	}
	if inputsOf(t, got) == nil || inputsOf(t, got).Nominees != 3 {
		t.Errorf("inputs %+v, want derived on submission", inputsOf(t, got))
	}
	if revs := h.revisions(t, id); len(revs) != 1 || revs[0].Revision != 1 || revs[0].Status != store.StatusSubmitted {
		t.Errorf("history %+v, want the submitted revision 1 only", revs)
	}
	if sub, err := h.submitted("C1", "sct", "baseline", 1); err != nil || sub.ID != id {
		t.Errorf("baseline slot holds %q, %v; want %s", sub.ID, err, id)
	}
}

func TestPut_SubmittedCannotGoBackToDraft(t *testing.T) {
	h := newHarness(t)
	h.child(t, "C1")
	id := uuid.NewString()
	req := sct("C1", "baseline", "2019-06-14", sctAnswers(t))
	first := h.put(t, id, req, submission.Created)

	h.clock.Advance(time.Hour)
	_, _, err := h.svc.Put(h.ctx, id, draft(req), submission.Reach{})

	if !errors.Is(err, submission.ErrUnsubmit) {
		t.Fatalf("err = %v, want ErrUnsubmit", err)
	}
	st := h.stored(t, id)
	if st.Status != store.StatusSubmitted || st.Revision != 1 || st.BodyHash != first.BodyHash || !st.UpdatedAt.Equal(first.UpdatedAt) {
		t.Errorf("stored status %s revision %d updated %v; want untouched submitted revision 1 from %v",
			st.Status, st.Revision, st.UpdatedAt, first.UpdatedAt)
	}
	if revs := h.revisions(t, id); len(revs) != 1 {
		t.Errorf("history has %d revisions, want 1", len(revs))
	}
}

func TestPut_RejectsChangeOfFormVersionOrChild(t *testing.T) {
	h := newHarness(t)
	h.child(t, "C1")
	h.child(t, "C2")
	tests := []struct {
		name  string
		first submission.Request
		then  submission.Request
	}{
		{
			name:  "form",
			first: draft(sct("C1", "baseline", "", json.RawMessage(oneNominee))),
			then:  draft(practiceSummary("C1", "1", "", `{"started_on":"2018-05-01"}`)),
		},
		{
			name:  "version",
			first: practiceSummary("C1", "1", "2019-02-01", `{"started_on":"2018-05-01"}`),
			then:  practiceSummary("C1", "2", "2019-02-01", `{"started_on":"2018-05-01"}`),
		},
		{
			name:  "child",
			first: sct("C1", "baseline", "2019-06-14", sctAnswers(t)),
			then:  sct("C2", "baseline", "2019-06-14", sctAnswers(t)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := uuid.NewString()
			first := h.put(t, id, tt.first, submission.Created)

			_, _, err := h.svc.Put(h.ctx, id, tt.then, submission.Reach{})

			if !errors.Is(err, submission.ErrImmutable) {
				t.Fatalf("err = %v, want ErrImmutable", err)
			}
			st := h.stored(t, id)
			if st.Form != first.Form || st.Version != first.Version || st.ChildID != first.ChildID || st.BodyHash != first.BodyHash {
				t.Errorf("stored %s@%s for %s; want untouched %s@%s for %s",
					st.Form, st.Version, st.ChildID, first.Form, first.Version, first.ChildID)
			}
		})
	}
}

func TestPut_ReportsEveryFaultWithItsPath(t *testing.T) {
	h := newHarness(t)
	h.child(t, "C-open") // no responses yet
	h.child(t, "C-base") // has a baseline completed on 2019-06-14
	h.put(t, uuid.NewString(), sct("C-base", "baseline", "2019-06-14", sctAnswers(t)), submission.Created)

	const keyPerson = `{"nominee":0,"reason":"important"}`
	type fault struct{ path, reason string } // reason: a part of the wanted reason
	tests := []struct {
		name string
		req  submission.Request
		want []fault
	}{
		{
			name: "unknown form",
			req:  submission.Request{Form: "sdq", Version: "1", ChildID: "C-open", CompletedOn: "2019-06-14", Mode: "online", Status: "submitted"},
			want: []fault{{"form", `no form "sdq"; forms: practice-summary, sct`}},
		},
		{
			name: "unknown version of sct",
			req:  with(sct("C-open", "baseline", "2019-06-14", sctAnswers(t)), func(r *submission.Request) { r.Version = "2" }),
			want: []fault{{"version", "published: 1"}},
		},
		{
			name: "unknown version of practice summary lists both",
			req:  practiceSummary("C-open", "3", "2019-06-14", `{"started_on":"2018-05-01"}`),
			want: []fault{{"version", "published: 1, 2"}},
		},
		{
			name: "unknown child",
			req:  sct("C-nobody", "baseline", "2019-06-14", sctAnswers(t)),
			want: []fault{{"child_id", `no child "C-nobody"`}},
		},
		{
			name: "submitted without completed_on",
			req:  sct("C-open", "baseline", "", sctAnswers(t)),
			want: []fault{{"completed_on", "is required"}},
		},
		{
			name: "completed_on the day after tomorrow",
			req:  sct("C-open", "baseline", "2020-01-17", sctAnswers(t)),
			want: []fault{{"completed_on", "is in the future"}},
		},
		{
			name: "completed_on next year on a draft",
			req:  draft(sct("C-open", "baseline", "2021-01-01", json.RawMessage(oneNominee))),
			want: []fault{{"completed_on", "is in the future"}},
		},
		{
			name: "timepoint missing on a submitted SCT",
			req:  sct("C-open", "", "2019-06-14", sctAnswers(t)),
			want: []fault{{"timepoint", "is required: one of baseline, follow_up"}},
		},
		{
			name: "timepoint given for a practice summary",
			req:  with(practiceSummary("C-open", "2", "2019-06-14", `{"started_on":"2019-05-01"}`), func(r *submission.Request) { r.Timepoint = "baseline" }),
			want: []fault{{"timepoint", "has no timepoints"}},
		},
		{
			name: "wave 2 on a baseline",
			req:  with(sct("C-open", "baseline", "2019-06-14", sctAnswers(t)), func(r *submission.Request) { r.Wave = 2 }),
			want: []fault{{"wave", "only follow-ups have waves"}},
		},
		{
			name: "key person pointing at a missing nominee",
			req:  sct("C-open", "baseline", "2019-06-14", json.RawMessage(`{"nominees":[{"relationship":"friend"}],"key_people":[{"nominee":3,"reason":"important"}]}`)),
			want: []fault{{"answers.key_people[0].nominee", "points at nominees[3], but nominees has 1 entries"}},
		},
		{
			name: "a 6th key person",
			req: sct("C-open", "baseline", "2019-06-14", json.RawMessage(`{"nominees":[{"relationship":"friend"}],"key_people":[`+
				strings.Repeat(keyPerson+",", 5)+keyPerson+`]}`)),
			want: []fault{{"answers.key_people", "has 6 entries; at most 5 allowed"}},
		},
		{
			name: "a 4th important key person",
			req: sct("C-open", "baseline", "2019-06-14", json.RawMessage(`{"nominees":[{"relationship":"friend"},{"relationship":"sibling"},
				{"relationship":"grandparent"},{"relationship":"other_relative"}],
				"key_people":[{"nominee":0,"reason":"important"},{"nominee":1,"reason":"important"},
				{"nominee":2,"reason":"important"},{"nominee":3,"reason":"important"}]}`)),
			want: []fault{{"answers.key_people[3].reason", `at most 3 entries may have reason "important"`}},
		},
		{
			name: "the same nominee twice",
			req: sct("C-open", "baseline", "2019-06-14", json.RawMessage(`{"nominees":[{"relationship":"friend"}],
				"key_people":[{"nominee":0,"reason":"important"},{"nominee":0,"reason":"support"}]}`)),
			want: []fault{{"answers.key_people[1].nominee", "already chosen at answers.key_people[0]"}},
		},
		{
			name: "a rating of 5",
			req: sct("C-open", "baseline", "2019-06-14", json.RawMessage(`{"nominees":[{"relationship":"friend"}],
				"key_people":[{"nominee":0,"reason":"important","support":{"emotional":4,"trust":5}}]}`)),
			want: []fault{{"answers.key_people[0].support.trust", "must be a rating of 1 (not at all)"}},
		},
		{
			name: "a rating of 5 on a draft",
			req: draft(sct("C-open", "baseline", "", json.RawMessage(`{"nominees":[{"relationship":"friend"}],
				"key_people":[{"nominee":0,"reason":"important","let_down":5}]}`))),
			want: []fault{{"answers.key_people[0].let_down", "got 5"}},
		},
		{
			name: "unknown relationship code",
			req:  sct("C-open", "baseline", "2019-06-14", json.RawMessage(`{"nominees":[{"name":"Auntie","relationship":"aunt"}]}`)),
			want: []fault{{"answers.nominees[0].relationship", `got "aunt"`}},
		},
		{
			name: "objectives are not a field of practice summary version 1",
			req:  practiceSummary("C-open", "1", "2019-02-01", `{"started_on":"2018-05-01","objectives":[{"category":"siblings"}]}`),
			want: []fault{{"answers.objectives", "is not a field of this form version"}},
		},
		{
			name: "follow-up before the child has a submitted baseline",
			req:  sct("C-open", "follow_up", "2019-12-01", sctAnswers(t)),
			want: []fault{{"timepoint", "needs this child's baseline sct submitted first"}},
		},
		{
			name: "follow-up completed before the baseline",
			req:  sct("C-base", "follow_up", "2019-06-13", sctAnswers(t)),
			want: []fault{{"completed_on", "is 2019-06-13, before this child's baseline (2019-06-14)"}},
		},
		{
			name: "several faults at once",
			req: submission.Request{Form: "sct", Version: "1", ChildID: "C-nobody", Wave: 3, Mode: "paper", Status: "submitted",
				Answers: json.RawMessage(`{"nominees":[{"relationship":"aunt"}],
					"key_people":[{"nominee":0,"reason":"important","support":{"trust":5}}],"mood":"fine"}`)},
			want: []fault{
				{"timepoint", "is required"},
				{"wave", "only follow-ups have waves"},
				{"completed_on", "is required"},
				{"answers.mood", "is not a field of this form version"},
				{"answers.nominees[0].relationship", `got "aunt"`},
				{"answers.key_people[0].support.trust", "got 5"},
				{"child_id", `no child "C-nobody"`},
			},
		},
		{
			name: "unknown form and unknown child",
			req:  submission.Request{Form: "sdq", Version: "1", ChildID: "C-nobody", Mode: "online", Status: "draft"},
			want: []fault{{"form", `no form "sdq"`}, {"child_id", `no child "C-nobody"`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := uuid.NewString()

			_, _, err := h.svc.Put(h.ctx, id, tt.req, submission.Reach{})

			var invalid *submission.InvalidError
			if !errors.As(err, &invalid) {
				t.Fatalf("err = %v, want an *InvalidError", err)
			}
			got := make([]fault, len(invalid.Faults))
			for i, f := range invalid.Faults {
				got[i] = fault{f.Path, f.Reason}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("faults %q, want %d: %q", got, len(tt.want), tt.want)
			}
			for _, w := range tt.want {
				i := slices.IndexFunc(got, func(g fault) bool { return g.path == w.path && strings.Contains(g.reason, w.reason) })
				if i < 0 {
					t.Errorf("no fault %s %q among %q", w.path, w.reason, got)
				}
			}
			for _, g := range got {
				if !strings.Contains(err.Error(), g.path+" "+g.reason) {
					t.Errorf("Error() = %q does not name %s %s", err.Error(), g.path, g.reason)
				}
			}
			h.absent(t, id)
		})
	}
}

func TestPut_CompletedOnTomorrowIsAllowed(t *testing.T) {
	// One day of grace: a client a time zone ahead may already be on the
	// next date.
	h := newHarness(t)
	h.child(t, "C1")

	got := h.put(t, uuid.NewString(), sct("C1", "baseline", "2020-01-16", sctAnswers(t)), submission.Created)

	if got.CompletedOn != "2020-01-16" {
		t.Errorf("completed on %s, want 2020-01-16", got.CompletedOn)
	}
}

func TestPut_AcceptsFollowUpAfterBaseline(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name        string
		completedOn string
		wave        int
		wantWave    int
	}{
		{name: "wave left out counts as 1", completedOn: "2019-12-01", wave: 0, wantWave: 1},
		{name: "explicit wave 1", completedOn: "2019-12-01", wave: 1, wantWave: 1},
		{name: "on the baseline's own day", completedOn: "2019-06-14", wave: 0, wantWave: 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			child := fmt.Sprintf("C%d", i)
			h.child(t, child)
			h.put(t, uuid.NewString(), sct(child, "baseline", "2019-06-14", sctAnswers(t)), submission.Created)
			req := sct(child, "follow_up", tt.completedOn, json.RawMessage(oneNominee))
			req.Wave = tt.wave
			id := uuid.NewString()

			got := h.put(t, id, req, submission.Created)

			if got.Timepoint != "follow_up" || got.Wave != tt.wantWave || got.Revision != 1 || inputsOf(t, got) == nil || inputsOf(t, got).Nominees != 1 {
				t.Errorf("got %s wave %d revision %d inputs %+v; want follow_up wave %d revision 1 with inputs",
					got.Timepoint, got.Wave, got.Revision, inputsOf(t, got), tt.wantWave)
			}
			if sub, err := h.submitted(child, "sct", "follow_up", tt.wantWave); err != nil || sub.ID != id {
				t.Errorf("follow-up slot holds %q, %v; want %s", sub.ID, err, id)
			}
		})
	}
}

func TestPut_FollowUpWavesTakeTheirOwnSlots(t *testing.T) {
	h := newHarness(t)
	h.child(t, "C1")
	baseline := uuid.NewString()
	h.put(t, baseline, sct("C1", "baseline", "2019-06-14", sctAnswers(t)), submission.Created)
	wave1 := uuid.NewString()
	h.put(t, wave1, sct("C1", "follow_up", "2019-12-01", sctAnswers(t)), submission.Created)
	wave2 := uuid.NewString()
	req := sct("C1", "follow_up", "2020-01-10", json.RawMessage(oneNominee))
	req.Wave = 2

	got := h.put(t, wave2, req, submission.Created)

	if got.Wave != 2 || got.Revision != 1 {
		t.Errorf("wave %d revision %d, want 2, 1", got.Wave, got.Revision)
	}
	for _, slot := range []struct {
		timepoint string
		wave      int
		want      string
	}{{"baseline", 1, baseline}, {"follow_up", 1, wave1}, {"follow_up", 2, wave2}} {
		if sub, err := h.submitted("C1", "sct", slot.timepoint, slot.wave); err != nil || sub.ID != slot.want {
			t.Errorf("slot %s wave %d holds %q, %v; want %s", slot.timepoint, slot.wave, sub.ID, err, slot.want)
		}
	}
}

func TestPut_SecondResponseForTakenSlotIsRefused(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name      string
		timepoint string
		wave      int
		body      json.RawMessage // of the second response
	}{
		{name: "baseline, different body", timepoint: "baseline", body: json.RawMessage(oneNominee)},
		{name: "baseline, same answers", timepoint: "baseline", body: sctAnswers(t)},
		{name: "follow-up wave 1", timepoint: "follow_up", body: json.RawMessage(oneNominee)},
		{name: "follow-up wave 2", timepoint: "follow_up", wave: 2, body: json.RawMessage(oneNominee)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			child := fmt.Sprintf("C%d", i)
			h.child(t, child)
			if tt.timepoint == "follow_up" {
				h.put(t, uuid.NewString(), sct(child, "baseline", "2019-06-01", sctAnswers(t)), submission.Created)
			}
			firstReq := sct(child, tt.timepoint, "2019-06-14", sctAnswers(t))
			firstReq.Wave = tt.wave
			first := uuid.NewString()
			h.put(t, first, firstReq, submission.Created)
			secondReq := sct(child, tt.timepoint, "2019-06-20", tt.body)
			secondReq.Wave = tt.wave
			second := uuid.NewString()

			_, _, err := h.svc.Put(h.ctx, second, secondReq, submission.Reach{})

			if !errors.Is(err, store.ErrSlotTaken) {
				t.Fatalf("err = %v, want store.ErrSlotTaken", err)
			}
			h.absent(t, second)
			if st := h.stored(t, first); st.Revision != 1 || st.CompletedOn != "2019-06-14" || nomineesOf(t, st.Answers) != 3 {
				t.Errorf("first response now revision %d completed %s; want untouched", st.Revision, st.CompletedOn)
			}
		})
	}
}

func TestPut_DraftForTakenSlotCannotBeSubmitted(t *testing.T) {
	// Drafts hold no slot, so a second form may be started; only submitting
	// it is refused.
	h := newHarness(t)
	h.child(t, "C1")
	h.put(t, uuid.NewString(), sct("C1", "baseline", "2019-06-14", sctAnswers(t)), submission.Created)
	id := uuid.NewString()
	h.put(t, id, draft(sct("C1", "baseline", "", json.RawMessage(oneNominee))), submission.Created)

	_, _, err := h.svc.Put(h.ctx, id, sct("C1", "baseline", "2019-06-20", json.RawMessage(oneNominee)), submission.Reach{})

	if err == nil {
		t.Fatal("submitting a draft into a taken slot succeeded")
	}
	if st := h.stored(t, id); st.Status != store.StatusDraft || st.Revision != 0 || st.SubmittedAt != nil {
		t.Errorf("draft now status %s revision %d submitted %v; want an untouched draft", st.Status, st.Revision, st.SubmittedAt)
	}
	// The slot index refusing the update comes back as ErrSlotTaken, as it
	// is for an insert.
	if !errors.Is(err, store.ErrSlotTaken) {
		t.Errorf("err = %v, want store.ErrSlotTaken", err)
	}
}

func TestPut_RefusedSubmissionLeavesNoHistory(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name  string
		draft bool // the second response exists as a draft before it is submitted
	}{
		{name: "new response for a taken slot"},
		{name: "draft submitted into a taken slot", draft: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			child := fmt.Sprintf("C%d", i)
			h.child(t, child)
			h.put(t, uuid.NewString(), sct(child, "baseline", "2019-06-14", sctAnswers(t)), submission.Created)
			id := uuid.NewString()
			if tt.draft {
				h.put(t, id, draft(sct(child, "baseline", "", json.RawMessage(oneNominee))), submission.Created)
			}

			if _, _, err := h.svc.Put(h.ctx, id, sct(child, "baseline", "2019-06-20", json.RawMessage(oneNominee)), submission.Reach{}); err == nil {
				t.Fatal("second submission for a taken slot succeeded")
			}

			// A refused write leaves no history entry.
			if revs := h.revisions(t, id); len(revs) != 0 {
				t.Errorf("refused submission left history: %s has %d revision(s) (revision %d, status %s), want none",
					id, len(revs), revs[0].Revision, revs[0].Status)
			}
		})
	}
}

func TestPut_SubmittedBaselineCannotBecomeFollowUp(t *testing.T) {
	// The follow-up check finds the response itself as the baseline; moving
	// it would leave the child with a follow-up and no baseline.
	h := newHarness(t)
	h.child(t, "C1")
	id := uuid.NewString()
	h.put(t, id, sct("C1", "baseline", "2019-06-14", sctAnswers(t)), submission.Created)

	got, outcome, err := h.svc.Put(h.ctx, id, sct("C1", "follow_up", "2019-12-01", sctAnswers(t)), submission.Reach{})

	if err == nil {
		_, baselineErr := h.submitted("C1", "sct", "baseline", 1)
		t.Errorf("moving the submitted baseline to follow_up succeeded, want it refused: "+
			"Put returned %s revision %d %s, and the child's baseline is now: %v",
			outcomeName(outcome), got.Revision, got.Timepoint, baselineErr)
	}
	if sub, err := h.submitted("C1", "sct", "baseline", 1); err != nil || sub.ID != id {
		t.Errorf("baseline slot holds %q, %v; want %s", sub.ID, err, id)
	}
}

func TestPut_AcceptsBothPracticeSummaryFormats(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name        string
		version     string
		completedOn string
		answers     string
	}{
		{
			name: "old format, version 1", version: "1", completedOn: "2019-02-01",
			answers: `{"started_on":"2018-05-01","ended_on":"2019-01-10","tools_used":["genogram","ecomap"],
				"connections_identified":12,"connections_retained":8,"route":"fgc","fgc_attendees":9,
				"outcomes":["direct_contact","other"],"outcomes_other_text":"Met her cousin"}`,
		},
		{
			name: "new format, version 2", version: "2", completedOn: "2019-09-01",
			answers: `{"started_on":"2019-04-02","tools_used":["sct"],"connections_identified":5,"connections_retained":5,
				"route":"plan_without_fgc","objectives":[{"category":"siblings","met":true,"description":"See my brother"},
				{"category":"family_photos","met":false}]}`,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			child := fmt.Sprintf("C%d", i)
			h.child(t, child)
			id := uuid.NewString()

			got := h.put(t, id, practiceSummary(child, tt.version, tt.completedOn, tt.answers), submission.Created)

			if got.Version != tt.version || got.Revision != 1 || got.Timepoint != "" || got.Site != "B" || got.Group != "lifelong_links" {
				t.Errorf("version %s revision %d timepoint %q site %s group %s; want %s, 1, none, B, lifelong_links",
					got.Version, got.Revision, got.Timepoint, got.Site, got.Group, tt.version)
			}
			var in practice.Input
			if err := json.Unmarshal(got.Derived, &in); err != nil || in.Version != tt.version || len(in.Tools) == 0 {
				t.Errorf("derived %s (%v); want the practice inputs of version %s", got.Derived, err, tt.version)
			}
			if st := h.stored(t, id); string(st.Derived) != string(got.Derived) || st.Version != tt.version || st.Status != store.StatusSubmitted {
				t.Errorf("stored version %s status %s derived %s; want %s, submitted, %s", st.Version, st.Status, st.Derived, tt.version, got.Derived)
			}
		})
	}
}

func TestPut_ConcurrentRetriesStoreOnce(t *testing.T) {
	h := newHarness(t)
	const callers, rounds = 8, 5
	type result struct {
		r       store.Response
		outcome submission.Outcome
		err     error
	}
	for round := range rounds {
		child := fmt.Sprintf("C%d", round)
		h.child(t, child)
		id := uuid.NewString()
		req := sct(child, "baseline", "2019-06-14", sctAnswers(t))

		results := make([]result, callers)
		begin := make(chan struct{})
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				<-begin
				r, outcome, err := h.svc.Put(h.ctx, id, req, submission.Reach{})
				results[i] = result{r, outcome, err}
			})
		}
		close(begin)
		wg.Wait()

		count := map[string]int{}
		for i, res := range results {
			if res.err != nil {
				t.Errorf("round %d caller %d: %v", round, i, res.err)
				continue
			}
			count[outcomeName(res.outcome)]++
			if res.r.ID != id || res.r.Revision != 1 || !res.r.UpdatedAt.Equal(start) {
				t.Errorf("round %d caller %d got id %s revision %d updated %v; want %s, 1, %v",
					round, i, res.r.ID, res.r.Revision, res.r.UpdatedAt, id, start)
			}
		}
		if count["Created"] != 1 || count["Unchanged"] != callers-1 {
			t.Errorf("round %d outcomes %v, want 1 Created and %d Unchanged", round, count, callers-1)
		}
		if revs := h.revisions(t, id); len(revs) != 1 {
			t.Errorf("round %d: history has %d revisions, want 1", round, len(revs))
		}
		if st := h.stored(t, id); st.Revision != 1 {
			t.Errorf("round %d: stored revision %d, want 1", round, st.Revision)
		}
	}
}

// interleave is the real store with a hook that runs once, just before the
// next insert or update of a response, so that a test can lose a race on
// purpose: what the hook writes lands between the service's read and its
// write.
type interleave struct {
	*store.Store
	mu     sync.Mutex
	before func()
}

func (s *interleave) runHook() {
	s.mu.Lock()
	f := s.before
	s.before = nil
	s.mu.Unlock()
	if f != nil {
		f()
	}
}

func (s *interleave) InsertResponse(ctx context.Context, r store.Response) error {
	s.runHook()
	return s.Store.InsertResponse(ctx, r)
}

func (s *interleave) UpdateResponse(ctx context.Context, r, prev store.Response) error {
	s.runHook()
	return s.Store.UpdateResponse(ctx, r, prev)
}

func TestPut_LostRaceIsRetriedOnFreshState(t *testing.T) {
	h := newHarness(t)
	baseline := func(child, completedOn string) submission.Request {
		return sct(child, "baseline", completedOn, sctAnswers(t))
	}
	tests := []struct {
		name        string
		existing    string // completed_on of a revision stored first; "" for none
		winner      string // completed_on the other caller stores in between
		loser       string // completed_on the slow caller sends
		wantOutcome submission.Outcome
		// wantHistory is the completed_on of each revision, oldest first:
		// the lost write never overwrites the winner's revision.
		wantHistory []string
	}{
		{
			name: "create, same body", winner: "2019-06-14", loser: "2019-06-14",
			wantOutcome: submission.Unchanged, wantHistory: []string{"2019-06-14"},
		},
		{
			name: "create, different body", winner: "2019-06-14", loser: "2019-06-15",
			wantOutcome: submission.Revised, wantHistory: []string{"2019-06-14", "2019-06-15"},
		},
		{
			name: "revise, same body", existing: "2019-06-01", winner: "2019-06-14", loser: "2019-06-14",
			wantOutcome: submission.Unchanged, wantHistory: []string{"2019-06-01", "2019-06-14"},
		},
		{
			name: "revise, different body", existing: "2019-06-01", winner: "2019-06-14", loser: "2019-06-15",
			wantOutcome: submission.Revised, wantHistory: []string{"2019-06-01", "2019-06-14", "2019-06-15"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			child := fmt.Sprintf("C%d", i)
			h.child(t, child)
			id := uuid.NewString()
			if tt.existing != "" {
				h.put(t, id, baseline(child, tt.existing), submission.Created)
			}
			slowStore := &interleave{Store: h.st}
			slow := submission.New(h.forms, slowStore, h.clock.Now)
			slowStore.before = func() {
				h.clock.Advance(time.Minute)
				if _, _, err := h.svc.Put(h.ctx, id, baseline(child, tt.winner), submission.Reach{}); err != nil {
					t.Errorf("winner: %v", err)
				}
			}

			got, outcome, err := slow.Put(h.ctx, id, baseline(child, tt.loser), submission.Reach{})

			if err != nil {
				t.Fatalf("slow caller: %v", err)
			}
			if outcome != tt.wantOutcome || got.CompletedOn != tt.loser {
				t.Errorf("slow caller: %s, completed %s; want %s, %s", outcomeName(outcome), got.CompletedOn, outcomeName(tt.wantOutcome), tt.loser)
			}
			if st := h.stored(t, id); st.Revision != len(tt.wantHistory) || st.CompletedOn != tt.loser {
				t.Errorf("stored revision %d completed %s; want %d, %s", st.Revision, st.CompletedOn, len(tt.wantHistory), tt.loser)
			}
			var history []string
			for j, r := range h.revisions(t, id) {
				if r.Revision != j+1 {
					t.Errorf("history[%d] is revision %d", j, r.Revision)
				}
				history = append(history, r.CompletedOn)
			}
			if !slices.Equal(history, tt.wantHistory) {
				t.Errorf("history %v, want %v", history, tt.wantHistory)
			}
		})
	}
}

// inputsOf reads the summary inputs a response derived (nil: none).
func inputsOf(t *testing.T, r store.Response) *summary.Input {
	t.Helper()
	if r.Derived == nil {
		return nil
	}
	var in summary.Input
	if err := json.Unmarshal(r.Derived, &in); err != nil {
		t.Fatalf("derived inputs %s: %v", r.Derived, err)
	}
	return &in
}

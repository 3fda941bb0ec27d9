package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// fixedTime is deliberately not UTC and has nanoseconds, so tests see the
// store normalise what it stamps.
var fixedTime = time.Date(2024, 3, 5, 10, 20, 30, 123456789, time.FixedZone("BST", 60*60))

func fixedClock() time.Time { return fixedTime }

// stamp is fixedTime as the store keeps times: UTC, millisecond precision.
func stamp() time.Time { return fixedTime.UTC().Truncate(time.Millisecond) }

// openAt opens the store kept under dir (see storetest.At); the caller
// closes it.
func openAt(t *testing.T, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), storetest.At(dir, store.Options{
		Database: "test",
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:      fixedClock,
	}))
	if err != nil {
		t.Fatalf("open store in %s: %v", dir, err)
	}
	return s
}

// submittedResponse reads the submitted response holding a child's place
// for a form, timepoint and wave.
func submittedResponse(t *testing.T, s *store.Store, childID, form, timepoint string, wave int) (store.Response, error) {
	t.Helper()
	id, _, err := s.SlotHolder(t.Context(), childID, form, timepoint, wave)
	if err != nil {
		return store.Response{}, err
	}
	return s.Response(t.Context(), id)
}

// newStore opens a fresh store that is closed when the test ends.
func newStore(t *testing.T) *store.Store {
	t.Helper()
	s := openAt(t, t.TempDir())
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// answers is an SCT-shaped answer document as the form validator normalises
// it: objects as map[string]any, lists as []any, whole numbers as int64.
func answers(emotional int64) map[string]any {
	return map[string]any{
		"nominees": []any{
			map[string]any{"name": "Nan", "relationship": "grandparent"},
			map[string]any{"name": "Mr K", "relationship": "school_staff"},
		},
		"key_people": []any{
			map[string]any{
				"nominee":  int64(0),
				"reason":   "important",
				"support":  map[string]any{"emotional": emotional, "practical": int64(3)},
				"let_down": int64(1),
			},
		},
		"adequacy": map[string]any{"emotional": int64(3), "trust": int64(2)},
	}
}

// sct builds an SCT response; submitted ones are at revision 1.
func sct(id, child, timepoint string, wave int, status string) store.Response {
	r := store.Response{
		ID:          id,
		Form:        "sct",
		Version:     "1",
		ChildID:     child,
		Site:        "A",
		Group:       "lifelong_links",
		Timepoint:   timepoint,
		Wave:        wave,
		CompletedOn: "2024-03-01",
		Mode:        "online",
		Status:      status,
		Answers:     answers(4),
		BodyHash:    "hash-" + id,
		CreatedAt:   stamp(),
		UpdatedAt:   stamp(),
	}
	if status == store.StatusSubmitted {
		at := stamp()
		r.Revision, r.SubmittedAt = 1, &at
	}
	return r
}

// input is derived inputs as a deriver writes them; the store keeps them
// as they are.
func input(nominees int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"nominees":%d,"relationships":["grandparent","school_staff"],"key_people":1,`+
		`"key_relationships":["grandparent"],"support":{"emotional":[0,0,0,1],"practical":[0,0,1,0]},"let_down":[1,0,0,0],`+
		`"adequacy":{"emotional":3,"trust":2}}`, nominees))
}

// nomineesIn reads the nominee count of derived inputs made by input.
func nomineesIn(t *testing.T, in json.RawMessage) int {
	t.Helper()
	var v struct{ Nominees int }
	if err := json.Unmarshal(in, &v); err != nil {
		t.Fatalf("derived inputs %s: %v", in, err)
	}
	return v.Nominees
}

func mustInsert(t *testing.T, s *store.Store, rs ...store.Response) {
	t.Helper()
	for _, r := range rs {
		if err := s.InsertResponse(t.Context(), r); err != nil {
			t.Fatalf("insert response %s: %v", r.ID, err)
		}
	}
}

func mustResponse(t *testing.T, s *store.Store, id string) store.Response {
	t.Helper()
	r, err := s.Response(t.Context(), id)
	if err != nil {
		t.Fatalf("read response %s: %v", id, err)
	}
	return r
}

func mustRevisions(t *testing.T, s *store.Store, id string) []store.Response {
	t.Helper()
	revs, err := s.Revisions(t.Context(), id)
	if err != nil {
		t.Fatalf("revisions of %s: %v", id, err)
	}
	return revs
}

// assertResponse compares a response read back with what was stored. Answers
// are compared by value: TestResponse_AnswersComeBackAsJSONTypes checks their
// Go types once, so that a type difference does not hide every other check.
func assertResponse(t *testing.T, label string, got, want store.Response) {
	t.Helper()
	if got.Answers != nil {
		got.Answers = plain(got.Answers).(map[string]any)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", label, got, want)
	}
}

// plain rebuilds decoded objects as map[string]any and lists as []any,
// going by kind rather than by the driver's type names.
func plain(v any) any {
	rv := reflect.ValueOf(v)
	switch {
	case rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String && !rv.IsNil():
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			m[it.Key().String()] = plain(it.Value().Interface())
		}
		return m
	case rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Interface && !rv.IsNil():
		l := make([]any, rv.Len())
		for i := range l {
			l[i] = plain(rv.Index(i).Interface())
		}
		return l
	}
	return v
}

// revisionsOf lists revision numbers and body hashes, oldest first.
func revisionsOf(revs []store.Response) []string {
	out := make([]string, len(revs))
	for i, r := range revs {
		out[i] = fmt.Sprintf("%d:%s", r.Revision, r.BodyHash)
	}
	return out
}

func TestCreateChild_ReadsBackWithCreatedAtFromClock(t *testing.T) {
	s := newStore(t)
	in := store.Child{ID: "C123", Site: "B", Group: "comparison", AgeBand: "12-14", StartedOn: "2019-05-01"}
	created, err := s.CreateChild(t.Context(), in)
	if err != nil {
		t.Fatalf("create child: %v", err)
	}
	want := in
	want.CreatedAt, want.UpdatedAt = stamp(), stamp()
	if !reflect.DeepEqual(created, want) {
		t.Errorf("created = %#v, want %#v", created, want)
	}
	got, err := s.Child(t.Context(), "C123")
	if err != nil {
		t.Fatalf("read child: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back = %#v, want %#v", got, want)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("created_at location = %v, want UTC", got.CreatedAt.Location())
	}
	if got.CreatedAt.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("created_at %v has sub-millisecond precision", got.CreatedAt)
	}
}

func TestCreateChild_RefusesDuplicateID(t *testing.T) {
	s := newStore(t)
	first := store.Child{ID: "C1", Site: "A", Group: "lifelong_links"}
	if _, err := s.CreateChild(t.Context(), first); err != nil {
		t.Fatalf("create child: %v", err)
	}
	_, err := s.CreateChild(t.Context(), store.Child{ID: "C1", Site: "M", Group: "comparison"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second create of C1: err = %v, want ErrConflict", err)
	}
	got, err := s.Child(t.Context(), "C1")
	if err != nil {
		t.Fatalf("read child: %v", err)
	}
	if got.Site != "A" || got.Group != "lifelong_links" {
		t.Errorf("after refused duplicate, child = %+v, want the first one", got)
	}
}

func TestChild_UnknownIDIsNotFound(t *testing.T) {
	s := newStore(t)
	_, err := s.Child(t.Context(), "nobody")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if _, err := s.Response(t.Context(), "nothing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown response: err = %v, want ErrNotFound", err)
	}
}

func TestInsertResponse_RoundTripsRecord(t *testing.T) {
	withInputs := sct("r-sub", "C2", "baseline", 1, store.StatusSubmitted)
	withInputs.Derived = input(2)
	tests := []struct {
		name string
		r    store.Response
	}{
		{name: "draft", r: sct("r-draft", "C1", "baseline", 1, store.StatusDraft)},
		{name: "submitted with summary inputs", r: withInputs},
		{name: "form without timepoints", r: func() store.Response {
			r := sct("r-practice", "C3", "", 1, store.StatusSubmitted)
			r.Form, r.CompletedOn, r.Mode = "practice-summary", "", "paper"
			return r
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			mustInsert(t, s, tt.r)
			got := mustResponse(t, s, tt.r.ID)
			assertResponse(t, "read back", got, tt.r)
		})
	}
}

// TestResponse_AnswersComeBackAsJSONTypes checks the Go types of stored
// answers: callers walk them as JSON-decoded data (the form validator's
// shapes), so objects must be map[string]any, lists []any and whole numbers
// int64, at every depth.
func TestResponse_AnswersComeBackAsJSONTypes(t *testing.T) {
	s := newStore(t)
	mustInsert(t, s, sct("r", "C1", "baseline", 1, store.StatusDraft))
	got := mustResponse(t, s, "r").Answers
	if !reflect.DeepEqual(plain(got), any(answers(4))) {
		t.Fatalf("answers = %#v, want the values of %#v", got, answers(4))
	}
	adequacy, ok := got["adequacy"].(map[string]any)
	if !ok {
		t.Errorf("answers.adequacy is %T, want map[string]any", got["adequacy"])
	}
	nominees, ok := got["nominees"].([]any)
	if !ok {
		t.Errorf("answers.nominees is %T, want []any", got["nominees"])
	}
	if len(nominees) > 0 {
		_, ok := nominees[0].(map[string]any)
		if !ok {
			t.Errorf("answers.nominees[0] is %T, want map[string]any", nominees[0])
		}
	}
	if adequacy != nil {
		if _, ok := adequacy["emotional"].(int64); !ok {
			t.Errorf("answers.adequacy.emotional is %T, want int64", adequacy["emotional"])
		}
	}
	// Numbers are checked through plain too, so a container of the wrong
	// type does not hide them.
	if ratings, ok := plain(got).(map[string]any)["key_people"].([]any)[0].(map[string]any)["support"].(map[string]any); ok {
		if _, ok := ratings["emotional"].(int64); !ok {
			t.Errorf("answers.key_people[0].support.emotional is %T, want int64", ratings["emotional"])
		}
	}
}

func TestInsertResponse_AllowsManyDraftsForOneSlot(t *testing.T) {
	s := newStore(t)
	mustInsert(t, s,
		sct("d1", "C1", "baseline", 1, store.StatusDraft),
		sct("d2", "C1", "baseline", 1, store.StatusDraft),
		sct("d3", "C1", "baseline", 1, store.StatusDraft),
	)
	// A submitted response still fits beside them: drafts hold no slot.
	mustInsert(t, s, sct("s1", "C1", "baseline", 1, store.StatusSubmitted))
	for _, id := range []string{"d1", "d2", "d3", "s1"} {
		mustResponse(t, s, id)
	}
}

func TestInsertResponse_RefusesSecondSubmittedForSameSlot(t *testing.T) {
	tests := []struct {
		name     string
		second   store.Response
		wantSlot bool // ErrSlotTaken wanted; otherwise no error
	}{
		{name: "same child form timepoint and wave", second: sct("b", "C1", "baseline", 1, store.StatusSubmitted), wantSlot: true},
		{name: "same slot as draft", second: sct("b", "C1", "baseline", 1, store.StatusDraft)},
		{name: "other wave", second: sct("b", "C1", "baseline", 2, store.StatusSubmitted)},
		{name: "other timepoint", second: sct("b", "C1", "follow_up", 1, store.StatusSubmitted)},
		{name: "other child", second: sct("b", "C2", "baseline", 1, store.StatusSubmitted)},
		{name: "other form", second: func() store.Response {
			r := sct("b", "C1", "baseline", 1, store.StatusSubmitted)
			r.Form = "practice-summary"
			return r
		}()},
		{name: "other version same form", second: func() store.Response {
			r := sct("b", "C1", "baseline", 1, store.StatusSubmitted)
			r.Version = "2"
			return r
		}(), wantSlot: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			first := sct("a", "C1", "baseline", 1, store.StatusSubmitted)
			mustInsert(t, s, first)
			err := s.InsertResponse(t.Context(), tt.second)
			if !tt.wantSlot {
				if err != nil {
					t.Fatalf("insert second: %v", err)
				}
				assertResponse(t, "second", mustResponse(t, s, "b"), tt.second)
				return
			}
			if !errors.Is(err, store.ErrSlotTaken) || !errors.Is(err, store.ErrConflict) {
				t.Fatalf("insert second: err = %v, want ErrSlotTaken and ErrConflict", err)
			}
			if _, err := s.Response(t.Context(), "b"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("refused response b: err = %v, want ErrNotFound", err)
			}
			assertResponse(t, "holder of the slot", mustResponse(t, s, "a"), first)
			// A refused response must leave no history behind: it was never stored.
			revs := mustRevisions(t, s, "b")
			if len(revs) != 0 {
				t.Errorf("refused response b has revisions %v, want none", revisionsOf(revs))
			}
		})
	}
}

func TestInsertResponse_SameIDTwiceIsConflictNotSlotTaken(t *testing.T) {
	tests := []struct {
		name          string
		first, second store.Response
	}{
		{
			name:   "draft then draft",
			first:  sct("x", "C1", "baseline", 1, store.StatusDraft),
			second: sct("x", "C1", "baseline", 1, store.StatusDraft),
		},
		{
			name:   "submitted then same submitted",
			first:  sct("x", "C1", "baseline", 1, store.StatusSubmitted),
			second: sct("x", "C1", "baseline", 1, store.StatusSubmitted),
		},
		{
			name:  "submitted then changed submitted",
			first: sct("x", "C1", "baseline", 1, store.StatusSubmitted),
			second: func() store.Response {
				r := sct("x", "C1", "baseline", 1, store.StatusSubmitted)
				r.Answers, r.BodyHash = answers(1), "hash-other"
				return r
			}(),
		},
		{
			name:   "draft then submitted elsewhere",
			first:  sct("x", "C1", "baseline", 1, store.StatusDraft),
			second: sct("x", "C2", "follow_up", 3, store.StatusSubmitted),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			mustInsert(t, s, tt.first)
			before := mustRevisions(t, s, "x")
			err := s.InsertResponse(t.Context(), tt.second)
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("second insert of x: err = %v, want ErrConflict", err)
			}
			if errors.Is(err, store.ErrSlotTaken) {
				t.Errorf("second insert of x: err = %v, must not be ErrSlotTaken", err)
			}
			assertResponse(t, "stored x", mustResponse(t, s, "x"), tt.first)
			after := mustRevisions(t, s, "x")
			// A refused insert leaves the history as it was.
			if !reflect.DeepEqual(after, before) {
				t.Errorf("history of x changed by a refused insert: got %v, want %v", revisionsOf(after), revisionsOf(before))
			}
		})
	}
}

// revise returns r as the next submitted revision with other answers.
func revise(r store.Response, emotional int64) store.Response {
	r.Status = store.StatusSubmitted
	r.Revision++
	r.Answers = answers(emotional)
	r.BodyHash = fmt.Sprintf("hash-%s-%d", r.ID, r.Revision)
	at := stamp().Add(time.Duration(r.Revision) * time.Hour)
	r.UpdatedAt, r.SubmittedAt = at, &at
	return r
}

func TestUpdateResponse_RefusesStalePrev(t *testing.T) {
	tests := []struct {
		name  string
		base  store.Response
		stale func(store.Response) store.Response // the prev the late writer holds
	}{
		{
			name:  "draft with wrong body hash",
			base:  sct("r", "C1", "baseline", 1, store.StatusDraft),
			stale: func(p store.Response) store.Response { p.BodyHash = "hash-seen-earlier"; return p },
		},
		{
			name:  "draft with wrong revision",
			base:  sct("r", "C1", "baseline", 1, store.StatusDraft),
			stale: func(p store.Response) store.Response { p.Revision = 1; return p },
		},
		{
			name:  "submitted with wrong body hash",
			base:  sct("r", "C1", "baseline", 1, store.StatusSubmitted),
			stale: func(p store.Response) store.Response { p.BodyHash = "hash-seen-earlier"; return p },
		},
		{
			name:  "submitted with wrong revision",
			base:  sct("r", "C1", "baseline", 1, store.StatusSubmitted),
			stale: func(p store.Response) store.Response { p.Revision = 0; return p },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			mustInsert(t, s, tt.base)
			stored := mustResponse(t, s, "r")
			before := mustRevisions(t, s, "r")
			prev := tt.stale(stored)
			next := revise(prev, 1)
			err := s.UpdateResponse(t.Context(), next, prev)
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("update with stale prev: err = %v, want ErrConflict", err)
			}
			if errors.Is(err, store.ErrSlotTaken) {
				t.Errorf("update with stale prev: err = %v, must not be ErrSlotTaken", err)
			}
			assertResponse(t, "stored record", mustResponse(t, s, "r"), tt.base)
			after := mustRevisions(t, s, "r")
			// A refused update leaves the history as it was.
			if !reflect.DeepEqual(after, before) {
				t.Errorf("history changed by a refused update: got %v, want %v", revisionsOf(after), revisionsOf(before))
			}
		})
	}
}

// TestUpdateResponse_LateRevisionDoesNotRewriteHistory is two clients revising
// the same submitted response from the same state: the first wins, the second
// is refused, and the history keeps what the winner wrote.
func TestUpdateResponse_LateRevisionDoesNotRewriteHistory(t *testing.T) {
	s := newStore(t)
	mustInsert(t, s, sct("r", "C1", "baseline", 1, store.StatusSubmitted))
	prev := mustResponse(t, s, "r")
	winner, loser := revise(prev, 2), revise(prev, 3)
	loser.BodyHash = "hash-loser"
	if err := s.UpdateResponse(t.Context(), winner, prev); err != nil {
		t.Fatalf("winner's update: %v", err)
	}
	if err := s.UpdateResponse(t.Context(), loser, prev); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("loser's update: err = %v, want ErrConflict", err)
	}
	assertResponse(t, "current", mustResponse(t, s, "r"), winner)
	revs := mustRevisions(t, s, "r")
	if got := revisionsOf(revs); len(got) != 2 || got[0] != "1:hash-r" {
		t.Fatalf("revisions = %v, want revisions 1 and 2", got)
	}
	if revs[1].BodyHash != winner.BodyHash {
		t.Errorf("revision 2 in history is %s, want the winner's %s", revs[1].BodyHash, winner.BodyHash)
	}
}

func TestUpdateResponse_SubmittingDraftTakesSlot(t *testing.T) {
	s := newStore(t)
	draft := sct("d", "C1", "baseline", 1, store.StatusDraft)
	mustInsert(t, s, draft)
	if _, _, err := s.SlotHolder(t.Context(), "C1", "sct", "baseline", 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("slot before submitting: err = %v, want ErrNotFound", err)
	}
	submitted := revise(draft, 4)
	if err := s.UpdateResponse(t.Context(), submitted, draft); err != nil {
		t.Fatalf("submit draft: %v", err)
	}
	id, _, err := s.SlotHolder(t.Context(), "C1", "sct", "baseline", 1)
	if err != nil {
		t.Fatalf("slot after submitting: %v", err)
	}
	got := mustResponse(t, s, id)
	assertResponse(t, "slot holder", got, submitted)
	err = s.InsertResponse(t.Context(), sct("other", "C1", "baseline", 1, store.StatusSubmitted))
	if !errors.Is(err, store.ErrSlotTaken) {
		t.Errorf("later submitted response for the slot: err = %v, want ErrSlotTaken", err)
	}
	revs := mustRevisions(t, s, "d")
	if got := revisionsOf(revs); !slices.Equal(got, []string{"1:hash-d-1"}) {
		t.Fatalf("revisions = %v, want only the submission", got)
	}
	assertResponse(t, "revision 1", revs[0], submitted)
}

func TestUpdateResponse_SubmittingDraftIntoTakenSlotIsRefused(t *testing.T) {
	s := newStore(t)
	holder := sct("holder", "C1", "baseline", 1, store.StatusSubmitted)
	draft := sct("d", "C1", "baseline", 1, store.StatusDraft)
	mustInsert(t, s, holder, draft)
	err := s.UpdateResponse(t.Context(), revise(draft, 1), draft)
	if err == nil {
		t.Fatal("submit draft into taken slot succeeded")
	}
	assertResponse(t, "draft", mustResponse(t, s, "d"), draft)
	assertResponse(t, "holder", mustResponse(t, s, "holder"), holder)
	// A slot violation on update gives the same errors as one on insert.
	if !errors.Is(err, store.ErrSlotTaken) || !errors.Is(err, store.ErrConflict) {
		t.Errorf("submit draft into taken slot: err = %v, want ErrSlotTaken and ErrConflict", err)
	}
	// The draft was never submitted, so it has no history.
	revs := mustRevisions(t, s, "d")
	if len(revs) != 0 {
		t.Errorf("refused draft has revisions %v, want none", revisionsOf(revs))
	}
}

func TestUpdateResponse_KeepsEverySubmittedRevisionOldestFirst(t *testing.T) {
	s := newStore(t)
	first := sct("r", "C1", "baseline", 1, store.StatusSubmitted)
	first.Derived = input(2)
	mustInsert(t, s, first)
	second := revise(first, 2)
	second.Derived = input(5)
	if err := s.UpdateResponse(t.Context(), second, first); err != nil {
		t.Fatalf("revise to 2: %v", err)
	}
	third := revise(second, 3)
	if err := s.UpdateResponse(t.Context(), third, second); err != nil {
		t.Fatalf("revise to 3: %v", err)
	}
	assertResponse(t, "current", mustResponse(t, s, "r"), third)
	revs := mustRevisions(t, s, "r")
	want := []store.Response{first, second, third}
	if len(revs) != len(want) {
		t.Fatalf("revisions = %v, want %v", revisionsOf(revs), revisionsOf(want))
	}
	for i := range want {
		assertResponse(t, fmt.Sprintf("revisions[%d]", i), revs[i], want[i])
	}
	emotional := func(r store.Response) any {
		return plain(r.Answers).(map[string]any)["key_people"].([]any)[0].(map[string]any)["support"].(map[string]any)["emotional"]
	}
	if got := []any{emotional(revs[0]), emotional(revs[1]), emotional(revs[2])}; !reflect.DeepEqual(got, []any{int64(4), int64(2), int64(3)}) {
		t.Errorf("emotional rating per revision = %v, want [4 2 3]: each revision keeps its own answers", got)
	}
}

func TestRevisions_NeverListDrafts(t *testing.T) {
	s := newStore(t)
	d1 := sct("r", "C1", "baseline", 1, store.StatusDraft)
	mustInsert(t, s, d1)
	d2 := d1
	d2.Answers, d2.BodyHash = answers(2), "hash-draft-2"
	if err := s.UpdateResponse(t.Context(), d2, d1); err != nil {
		t.Fatalf("edit draft: %v", err)
	}
	if revs := mustRevisions(t, s, "r"); len(revs) != 0 {
		t.Fatalf("draft-only response has revisions %v, want none", revisionsOf(revs))
	}
	sub := revise(d2, 3)
	if err := s.UpdateResponse(t.Context(), sub, d2); err != nil {
		t.Fatalf("submit: %v", err)
	}
	revs := mustRevisions(t, s, "r")
	if got := revisionsOf(revs); !slices.Equal(got, []string{"1:hash-r-1"}) {
		t.Fatalf("revisions = %v, want only the submission", got)
	}
	assertResponse(t, "revision 1", revs[0], sub)
}

func TestSubmittedResponse_FindsSlotHolder(t *testing.T) {
	s := newStore(t)
	mustInsert(t, s,
		sct("base", "C1", "baseline", 1, store.StatusSubmitted),
		sct("fu1", "C1", "follow_up", 1, store.StatusSubmitted),
		sct("fu2", "C1", "follow_up", 2, store.StatusSubmitted),
		sct("draft-fu3", "C1", "follow_up", 3, store.StatusDraft),
		sct("draft-base", "C2", "baseline", 1, store.StatusDraft),
	)
	tests := []struct {
		name      string
		child     string
		form      string
		timepoint string
		wave      int
		wantID    string // empty: ErrNotFound wanted
	}{
		{name: "baseline", child: "C1", form: "sct", timepoint: "baseline", wave: 1, wantID: "base"},
		{name: "follow-up wave 1", child: "C1", form: "sct", timepoint: "follow_up", wave: 1, wantID: "fu1"},
		{name: "follow-up wave 2", child: "C1", form: "sct", timepoint: "follow_up", wave: 2, wantID: "fu2"},
		{name: "drafts only", child: "C1", form: "sct", timepoint: "follow_up", wave: 3},
		{name: "child with drafts only", child: "C2", form: "sct", timepoint: "baseline", wave: 1},
		{name: "other form", child: "C1", form: "practice-summary", timepoint: "baseline", wave: 1},
		{name: "unknown child", child: "C9", form: "sct", timepoint: "baseline", wave: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := submittedResponse(t, s, tt.child, tt.form, tt.timepoint, tt.wave)
			if tt.wantID == "" {
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("err = %v (response %q), want ErrNotFound", err, got.ID)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got.ID != tt.wantID || got.Status != store.StatusSubmitted {
				t.Errorf("got %s (%s), want %s (submitted)", got.ID, got.Status, tt.wantID)
			}
		})
	}
}

func TestEachDerived_SelectsByFilter(t *testing.T) {
	s := newStore(t)
	// Each response's derived inputs have a distinct Nominees count, so the set of
	// counts a filter yields says which responses it selected.
	seed := []struct {
		nominees                 int // 0: none derived
		form, site, group, ver   string
		timepoint                string
		wave                     int
		completedOn, status, cid string
	}{
		{1, "sct", "A", "lifelong_links", "1", "baseline", 1, "2024-01-10", store.StatusSubmitted, "C1"},
		{2, "sct", "A", "comparison", "1", "baseline", 1, "2024-02-01", store.StatusSubmitted, "C2"},
		{3, "sct", "B", "lifelong_links", "1", "baseline", 1, "2024-02-29", store.StatusSubmitted, "C3"},
		{4, "sct", "B", "comparison", "2", "baseline", 1, "2024-03-15", store.StatusSubmitted, "C4"},
		{5, "sct", "A", "lifelong_links", "1", "follow_up", 1, "2024-06-01", store.StatusSubmitted, "C1"},
		{6, "sct", "A", "lifelong_links", "1", "follow_up", 2, "2024-12-01", store.StatusSubmitted, "C1"},
		{7, "sct", "C", "lifelong_links", "1", "baseline", 1, "2024-01-20", store.StatusDraft, "C7"},
		{0, "sct", "C", "comparison", "1", "baseline", 1, "2024-01-25", store.StatusSubmitted, "C8"},
		{9, "practice-summary", "A", "lifelong_links", "1", "", 1, "2024-02-01", store.StatusSubmitted, "C1"},
		{10, "sct", "B", "lifelong_links", "1", "follow_up", 1, "2024-07-01", store.StatusSubmitted, "C3"},
	}
	for i, r := range seed {
		resp := sct(fmt.Sprintf("r%d", i), r.cid, r.timepoint, r.wave, r.status)
		resp.Form, resp.Site, resp.Group, resp.Version, resp.CompletedOn = r.form, r.site, r.group, r.ver, r.completedOn
		if r.nominees > 0 {
			resp.Derived = input(r.nominees)
		}
		mustInsert(t, s, resp)
	}
	tests := []struct {
		name   string
		filter store.Filter
		want   []int
	}{
		{name: "all SCTs", filter: store.Filter{Form: "sct"}, want: []int{1, 2, 3, 4, 5, 6, 10}},
		{name: "baseline", filter: store.Filter{Form: "sct", Timepoint: "baseline"}, want: []int{1, 2, 3, 4}},
		{name: "follow-up", filter: store.Filter{Form: "sct", Timepoint: "follow_up"}, want: []int{5, 6, 10}},
		{name: "follow-up wave 1", filter: store.Filter{Form: "sct", Timepoint: "follow_up", Wave: 1}, want: []int{5, 10}},
		{name: "wave 2", filter: store.Filter{Form: "sct", Wave: 2}, want: []int{6}},
		{name: "site A", filter: store.Filter{Form: "sct", Site: "A"}, want: []int{1, 2, 5, 6}},
		{name: "site B baseline", filter: store.Filter{Form: "sct", Timepoint: "baseline", Site: "B"}, want: []int{3, 4}},
		{name: "site with only a draft and a response without inputs", filter: store.Filter{Form: "sct", Site: "C"}},
		{name: "group comparison", filter: store.Filter{Form: "sct", Group: "comparison"}, want: []int{2, 4}},
		{name: "version 2", filter: store.Filter{Form: "sct", Version: "2"}, want: []int{4}},
		{name: "from and to inclusive", filter: store.Filter{Form: "sct", From: "2024-02-01", To: "2024-02-29"}, want: []int{2, 3}},
		{name: "from inclusive", filter: store.Filter{Form: "sct", From: "2024-03-15"}, want: []int{4, 5, 6, 10}},
		{name: "to inclusive", filter: store.Filter{Form: "sct", To: "2024-01-10"}, want: []int{1}},
		{name: "one day", filter: store.Filter{Form: "sct", From: "2024-06-01", To: "2024-06-01"}, want: []int{5}},
		{name: "empty range", filter: store.Filter{Form: "sct", From: "2024-03-16", To: "2024-05-31"}},
		{name: "every filter at once", filter: store.Filter{
			Form: "sct", Timepoint: "follow_up", Site: "A", Group: "lifelong_links", Version: "1",
			Wave: 1, From: "2024-01-01", To: "2024-06-30",
		}, want: []int{5}},
		{name: "other form", filter: store.Filter{Form: "practice-summary"}, want: []int{9}},
		{name: "unknown form", filter: store.Filter{Form: "nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			err := s.EachDerived(t.Context(), tt.filter, func(d store.Derived) error {
				got = append(got, nomineesIn(t, d.Inputs))
				return nil
			})
			if err != nil {
				t.Fatalf("EachDerived: %v", err)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("nominee counts = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("inputs arrive whole, with what they are of", func(t *testing.T) {
		var got []store.Derived
		err := s.EachDerived(t.Context(), store.Filter{Form: "sct", Version: "2"}, func(d store.Derived) error {
			got = append(got, d)
			return nil
		})
		if err != nil {
			t.Fatalf("EachDerived: %v", err)
		}
		want := []store.Derived{{ID: "r3", ChildID: "C4", Form: "sct", Version: "2", Site: "B", Group: "comparison",
			Timepoint: "baseline", CompletedOn: "2024-03-15", Wave: 1, Inputs: input(4)}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("derived = %+v, want %+v", got, want)
		}
	})
	t.Run("changed since", func(t *testing.T) {
		var got []int
		// The seed's responses are all stamped by sct().
		for _, since := range []time.Time{stamp(), stamp().Add(time.Millisecond)} {
			got = got[:0]
			err := s.EachDerived(t.Context(), store.Filter{Form: "sct", ChangedSince: since}, func(d store.Derived) error {
				got = append(got, nomineesIn(t, d.Inputs))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 7, false: 0}[since.Equal(stamp())]; len(got) != want {
				t.Errorf("changed since %v: %d responses, want %d", since, len(got), want)
			}
		}
	})
}

func TestRecordFormVersion_RefusesChangedPublishedVersion(t *testing.T) {
	s := newStore(t)
	steps := []struct {
		name, form, version, hash string
		wantChanged               bool
	}{
		{name: "first sight records", form: "sct", version: "1", hash: "aaa"},
		{name: "same hash again", form: "sct", version: "1", hash: "aaa"},
		{name: "different hash", form: "sct", version: "1", hash: "bbb", wantChanged: true},
		{name: "first hash still accepted", form: "sct", version: "1", hash: "aaa"},
		{name: "new version", form: "sct", version: "2", hash: "bbb"},
		{name: "other form same version", form: "practice-summary", version: "1", hash: "bbb"},
		{name: "other form changed", form: "practice-summary", version: "1", hash: "ccc", wantChanged: true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := s.RecordFormVersion(t.Context(), st.form, st.version, st.hash)
			if !st.wantChanged {
				if err != nil {
					t.Fatalf("record %s@%s %s: %v", st.form, st.version, st.hash, err)
				}
				return
			}
			if !errors.Is(err, store.ErrFormChanged) {
				t.Fatalf("record %s@%s %s: err = %v, want ErrFormChanged", st.form, st.version, st.hash, err)
			}
			msg := err.Error()
			for _, part := range []string{st.form + " version " + st.version, st.hash, stamp().Format(time.DateOnly)} {
				if !strings.Contains(msg, part) {
					t.Errorf("message %q does not mention %q", msg, part)
				}
			}
		})
	}
}

func TestOpen_KeepsDataAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir)
	child, err := s.CreateChild(t.Context(), store.Child{ID: "C1", Site: "D", Group: "comparison", AgeBand: "15-17"})
	if err != nil {
		t.Fatalf("create child: %v", err)
	}
	resp := sct("r", "C1", "baseline", 1, store.StatusSubmitted)
	resp.Site, resp.Group, resp.Derived = "D", "comparison", input(2)
	mustInsert(t, s, resp)
	if err := s.RecordFormVersion(t.Context(), "sct", "1", "aaa"); err != nil {
		t.Fatalf("record form version: %v", err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}

	s = openAt(t, dir)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	got, err := s.Child(t.Context(), "C1")
	if err != nil {
		t.Fatalf("child after reopen: %v", err)
	}
	if !reflect.DeepEqual(got, child) {
		t.Errorf("child after reopen = %#v, want %#v", got, child)
	}
	assertResponse(t, "response after reopen", mustResponse(t, s, "r"), resp)
	holder, err := submittedResponse(t, s, "C1", "sct", "baseline", 1)
	if err != nil || holder.ID != "r" {
		t.Errorf("slot after reopen: %s, %v; want r", holder.ID, err)
	}
	if err := s.InsertResponse(t.Context(), sct("r2", "C1", "baseline", 1, store.StatusSubmitted)); !errors.Is(err, store.ErrSlotTaken) {
		t.Errorf("slot index after reopen: err = %v, want ErrSlotTaken", err)
	}
	if err := s.RecordFormVersion(t.Context(), "sct", "1", "bbb"); !errors.Is(err, store.ErrFormChanged) {
		t.Errorf("form version after reopen: err = %v, want ErrFormChanged", err)
	}
}

func TestOpen_RequiresDataDirWithoutURI(t *testing.T) {
	_, err := store.Open(t.Context(), store.Options{Database: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		t.Fatal("open without URI or data directory succeeded")
	}
}

func TestClose_LeavesStoreUnavailable(t *testing.T) {
	s := openAt(t, t.TempDir())
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("ping while open: %v", err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	tests := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{name: "ping", call: s.Ping},
		{name: "read child", call: func(ctx context.Context) error { _, err := s.Child(ctx, "C1"); return err }},
		{name: "create child", call: func(ctx context.Context) error {
			_, err := s.CreateChild(ctx, store.Child{ID: "C1", Site: "A", Group: "comparison"})
			return err
		}},
		{name: "read response", call: func(ctx context.Context) error { _, err := s.Response(ctx, "r"); return err }},
		{name: "insert response", call: func(ctx context.Context) error {
			return s.InsertResponse(ctx, sct("r", "C1", "baseline", 1, store.StatusSubmitted))
		}},
		{name: "derived inputs", call: func(ctx context.Context) error {
			return s.EachDerived(ctx, store.Filter{Form: "sct"}, func(store.Derived) error { return nil })
		}},
		{name: "erasures", call: func(ctx context.Context) error { _, err := s.ErasedSince(ctx, fixedTime); return err }},
		{name: "children of a site", call: func(ctx context.Context) error { _, err := s.ChildrenOfSite(ctx, "A"); return err }},
		{name: "responses of a site", call: func(ctx context.Context) error { _, err := s.ResponsesOfSite(ctx, "A"); return err }},
		{name: "slot holder", call: func(ctx context.Context) error {
			_, _, err := s.SlotHolder(ctx, "C1", "sct", "baseline", 1)
			return err
		}},
		{name: "revisions", call: func(ctx context.Context) error { _, err := s.Revisions(ctx, "r"); return err }},
		{name: "every response", call: func(ctx context.Context) error {
			return s.EachResponse(ctx, store.Filter{Form: "sct"}, func(store.Response) error { return nil })
		}},
		{name: "erase child", call: func(ctx context.Context) error { return s.EraseChild(ctx, "C1") }},
		{name: "audit", call: func(ctx context.Context) error { _, _, err := s.Audit(ctx, store.AuditFilter{}); return err }},
		{name: "append audit", call: func(ctx context.Context) error {
			return s.AppendAudit(ctx, store.AuditEntry{Actor: "a", Action: "login"})
		}},
		{name: "users", call: func(ctx context.Context) error { _, err := s.Users(ctx); return err }},
		{name: "user by email", call: func(ctx context.Context) error { _, err := s.UserByEmail(ctx, "a@example.org"); return err }},
		{name: "sites", call: func(ctx context.Context) error { _, err := s.Sites(ctx); return err }},
		{name: "site exists", call: func(ctx context.Context) error { _, err := s.SiteExists(ctx, "A"); return err }},
		{name: "site", call: func(ctx context.Context) error { _, err := s.Site(ctx, "A"); return err }},
		{name: "count an attempt", call: func(ctx context.Context) error {
			_, err := s.CountAttempt(ctx, "k", fixedTime, time.Minute, 1)
			return err
		}},
		{name: "session by grant", call: func(ctx context.Context) error { _, err := s.SessionByGrant(ctx, "h"); return err }},
		{name: "family revoked", call: func(ctx context.Context) error { _, err := s.FamilyRevoked(ctx, "f"); return err }},
		{name: "calendar user", call: func(ctx context.Context) error { _, err := s.CalendarUser(ctx, "h"); return err }},
		{name: "record form version", call: func(ctx context.Context) error {
			return s.RecordFormVersion(ctx, "sct", "1", "aaa")
		}},
		{name: "prune expired sign-in records", call: func(ctx context.Context) error {
			_, err := s.PruneExpired(ctx, fixedTime, 15*time.Minute)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(t.Context()); !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("err = %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestInsertResponse_ConcurrentDistinctSubmissionsAllStored(t *testing.T) {
	s := newStore(t)
	const n = 16
	want := make([]store.Response, n)
	for i := range want {
		want[i] = sct(fmt.Sprintf("r%02d", i), fmt.Sprintf("C%02d", i), "baseline", 1, store.StatusSubmitted)
		want[i].Derived = input(i + 1)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range want {
		wg.Go(func() { errs[i] = s.InsertResponse(t.Context(), want[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("insert %s: %v", want[i].ID, err)
		}
	}
	for _, w := range want {
		assertResponse(t, w.ID, mustResponse(t, s, w.ID), w)
	}
	count := 0
	if err := s.EachDerived(t.Context(), store.Filter{Form: "sct"}, func(store.Derived) error { count++; return nil }); err != nil {
		t.Fatalf("EachDerived: %v", err)
	}
	if count != n {
		t.Errorf("summary inputs = %d, want %d", count, n)
	}
}

func TestInsertResponse_ConcurrentSubmissionsForOneSlotOneWins(t *testing.T) {
	s := newStore(t)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.InsertResponse(t.Context(), sct(fmt.Sprintf("r%d", i), "C1", "baseline", 1, store.StatusSubmitted))
		})
	}
	wg.Wait()
	winner := ""
	for i, err := range errs {
		id := fmt.Sprintf("r%d", i)
		switch {
		case err == nil && winner == "":
			winner = id
		case err == nil:
			t.Errorf("%s and %s both took the slot", winner, id)
		case !errors.Is(err, store.ErrSlotTaken):
			t.Errorf("%s: err = %v, want ErrSlotTaken", id, err)
		}
	}
	if winner == "" {
		t.Fatal("no insert took the slot")
	}
	holder, err := submittedResponse(t, s, "C1", "sct", "baseline", 1)
	if err != nil || holder.ID != winner {
		t.Errorf("slot holder = %q, %v; want %s", holder.ID, err, winner)
	}
	for i := range n {
		id := fmt.Sprintf("r%d", i)
		if id == winner {
			continue
		}
		if _, err := s.Response(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("loser %s: err = %v, want ErrNotFound", id, err)
		}
		revs := mustRevisions(t, s, id)
		// A refused insert leaves no history entry.
		if len(revs) != 0 {
			t.Errorf("loser %s has revisions %v, want none", id, revisionsOf(revs))
		}
	}
}

// An export reads every selected response once, across many cursor batches,
// and stops at the first error its writer returns.
func TestEachResponse_ReadsEachOnceAndStopsAtWritersError(t *testing.T) {
	s := newStore(t)
	var rs []store.Response
	for i := range 1234 {
		r := sct(fmt.Sprintf("r%04d", i), fmt.Sprintf("C%04d", i), "baseline", 1, store.StatusSubmitted)
		r.Derived = input(2)
		rs = append(rs, r)
	}
	draft := sct("draft", "C0000", "follow_up", 1, store.StatusDraft)
	rs = append(rs, draft)
	if _, err := s.ImportResponses(t.Context(), rs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	err := s.EachResponse(t.Context(), store.Filter{Form: "sct"}, func(r store.Response) error {
		seen[r.ID]++
		if !reflect.DeepEqual(r.Answers, answers(4)) {
			t.Fatalf("%s: answers %#v", r.ID, r.Answers)
		}
		return nil
	})
	if err != nil || len(seen) != 1234 || seen["draft"] != 0 {
		t.Fatalf("read %d responses (draft %d times), %v; want the 1234 submitted", len(seen), seen["draft"], err)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s read %d times", id, n)
		}
	}
	stop := errors.New("client went away")
	calls := 0
	err = s.EachResponse(t.Context(), store.Filter{Form: "sct"}, func(store.Response) error {
		if calls++; calls == 700 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 700 {
		t.Errorf("after the writer's error: %v, %d calls", err, calls)
	}
}

// Many writers revising the same state of a response at once: exactly one
// wins, every other is refused as a conflict, and the stored response is
// the winner's.
func TestUpdateResponse_ConcurrentRevisionsOfOneStateOneWins(t *testing.T) {
	storetest.SkipOnStandIn(t)
	for _, status := range []string{store.StatusDraft, store.StatusSubmitted} {
		t.Run(status, func(t *testing.T) {
			s := newStore(t)
			mustInsert(t, s, sct("r", "C1", "baseline", 1, status))
			prev := mustResponse(t, s, "r")
			const writers = 12
			errs := make([]error, writers)
			var wg sync.WaitGroup
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					next := revise(prev, int64(i%4+1))
					next.BodyHash = fmt.Sprintf("hash-writer-%d", i)
					errs[i] = s.UpdateResponse(t.Context(), next, prev)
				}()
			}
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Errorf("writers %d and %d both won", winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("writer %d: %v, want a conflict", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no writer won")
			}
			if got := mustResponse(t, s, "r"); got.BodyHash != fmt.Sprintf("hash-writer-%d", winner) {
				t.Errorf("stored body hash %q; want the winner's (writer %d)", got.BodyHash, winner)
			}
		})
	}
}

// The store tells its observer of every command it sends, by name: what the
// metrics time.
func TestOpen_ObservesEveryCommand(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	s, err := store.Open(t.Context(), storetest.Fresh(t, store.Options{Database: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ObserveCommand: func(name string, took time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			if took >= 0 {
				seen[name]++
			}
		}}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if _, err := s.CreateSite(t.Context(), store.Site{Code: "A", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sites(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["insert"] == 0 || seen["find"] == 0 {
		t.Errorf("commands observed: %v; want the insert and the find at least", seen)
	}
}

// A site is read by its code, with its follow-up interval as last set; a
// code not registered is not found.
func TestSite_ReadsOneByItsCode(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	for _, site := range []store.Site{{Code: "A", Name: "Site A"}, {Code: "B", Name: "Site B", FollowUpMonths: 4}} {
		if _, err := s.CreateSite(ctx, site); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SetFollowUpMonths(ctx, "A", 9); err != nil {
		t.Fatal(err)
	}
	for code, want := range map[string]int{"A": 9, "B": 4} {
		got, err := s.Site(ctx, code)
		if err != nil || got.Code != code || got.Name != "Site "+code || got.FollowUpMonths != want {
			t.Errorf("site %s: %+v, %v; want its name and %d months", code, got, err, want)
		}
	}
	if _, err := s.Site(ctx, "Z"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a site not registered: err = %v, want ErrNotFound", err)
	}
}

// Removing a response written while its child's erasure ran leaves the
// child's own record to the erasure, so that an erasure cut short can be
// run again.
func TestDropErasedResponse_LeavesTheChildToItsErasure(t *testing.T) {
	s := newStore(t)
	if _, err := s.CreateChild(t.Context(), store.Child{ID: "C1", Site: "A", Group: "comparison"}); err != nil {
		t.Fatal(err)
	}
	r := sct("r", "C1", "baseline", 1, store.StatusDraft)
	mustInsert(t, s, r)
	if err := s.DropErasedResponse(t.Context(), mustResponse(t, s, "r")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Response(t.Context(), "r"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the response after it was dropped: %v, want ErrNotFound", err)
	}
	if _, err := s.Child(t.Context(), "C1"); err != nil {
		t.Errorf("the child after its response was dropped: %v; want it there for its erasure", err)
	}
}

// The audit trail reads a page at a time, newest first then by id, each
// entry once across the pages whatever ties in time, with the filters.
func TestAudit_PagesWithACursor(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	const n = 230
	for i := range n {
		action := "response.read"
		if i%3 == 0 {
			action = "login"
		}
		if err := s.AppendAudit(ctx, store.AuditEntry{Actor: "u", Action: action, Site: "A"}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(f store.AuditFilter) []store.AuditEntry {
		t.Helper()
		var all []store.AuditEntry
		for pages := 0; ; pages++ {
			page, more, err := s.Audit(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(page)) > f.Limit || (more && int64(len(page)) != f.Limit) {
				t.Fatalf("page of %d entries (more: %v) with a limit of %d", len(page), more, f.Limit)
			}
			all = append(all, page...)
			if !more {
				return all
			}
			last := page[len(page)-1]
			f.Before = &store.AuditCursor{At: last.At, ID: last.ID}
			if pages > n {
				t.Fatal("the pages do not end")
			}
		}
	}
	check := func(name string, got []store.AuditEntry, want int) {
		t.Helper()
		seen := map[string]bool{}
		for i, e := range got {
			if seen[e.ID] {
				t.Errorf("%s: entry %s twice", name, e.ID)
			}
			seen[e.ID] = true
			if i > 0 {
				p := got[i-1]
				if e.At.After(p.At) || (e.At.Equal(p.At) && e.ID >= p.ID) {
					t.Errorf("%s: entry %d (%v %s) after %v %s: not newest first, then by id", name, i, e.At, e.ID, p.At, p.ID)
				}
			}
		}
		if len(got) != want {
			t.Errorf("%s: %d entries over the pages, want %d", name, len(got), want)
		}
	}
	check("pages of 50", read(store.AuditFilter{Limit: 50}), n)
	check("pages of 7", read(store.AuditFilter{Limit: 7}), n)
	check("one action", read(store.AuditFilter{Action: "login", Limit: 20}), (n+2)/3)
	if page, more, err := s.Audit(ctx, store.AuditFilter{Site: "Z", Limit: 5}); err != nil || more || len(page) != 0 {
		t.Errorf("another site: %d entries, more %v, %v", len(page), more, err)
	}
}

// A site's children come a page at a time in ID order, with their
// responses, each child once, and none of another site's.
func TestChildrenPage_PagesASite(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	want := map[string]int{} // site A's children → their responses
	for i := range 23 {
		site := "A"
		if i%4 == 3 {
			site = "B"
		}
		id := fmt.Sprintf("C%02d", i)
		if _, err := s.CreateChild(ctx, store.Child{ID: id, Site: site, Group: "comparison"}); err != nil {
			t.Fatal(err)
		}
		for j := range i % 3 {
			r := sct(fmt.Sprintf("r%02d-%d", i, j), id, "baseline", 1, store.StatusDraft)
			r.Site = site
			mustInsert(t, s, r)
		}
		if site == "A" {
			want[id] = i % 3
		}
	}
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		children, responses, more, err := s.ChildrenPage(ctx, "A", after, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(children) > 5 || (more && len(children) != 5) || pages > 10 {
			t.Fatalf("page of %d children, more %v", len(children), more)
		}
		per := map[string]int{}
		for _, r := range responses {
			per[r.ChildID]++
			if r.Site != "A" || r.Status != store.StatusDraft || r.Form != "sct" {
				t.Errorf("response %+v", r)
			}
		}
		for _, c := range children {
			if c.Site != "A" {
				t.Errorf("child %s of site %s on site A's page", c.ID, c.Site)
			}
			if per[c.ID] != want[c.ID] {
				t.Errorf("child %s: %d responses on the page, want %d", c.ID, per[c.ID], want[c.ID])
			}
			got = append(got, c.ID)
		}
		if !more {
			break
		}
		after = children[len(children)-1].ID
	}
	if len(got) != len(want) || !slices.IsSorted(got) {
		t.Errorf("children over the pages: %v; want the %d of site A in ID order", got, len(want))
	}
}

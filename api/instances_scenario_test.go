package api_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/server/servertest"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// instanceBound is how soon a change made through one server shows in
// another's summaries: each rereads what others wrote at most every two
// seconds, when asked for a summary.
const instanceBound = 5 * time.Second

// Two servers on one store (MongoDB mode: the deployment with several
// instances): a submission, a revision and an erasure made through either
// show in the other's Tables 3 and 4 within instanceBound, and a sign-in
// made at one is good at the other.
func TestInstances_TwoServersOnOneStoreAgree(t *testing.T) {
	if !storetest.MongoDB() {
		t.Skip("instances share a store only in MongoDB mode: this runs on the MongoDB-mode pass")
	}
	dir := t.TempDir()
	a := servertest.Start(t, dir, forms.FS())
	a.AddUsers(t)
	b := servertest.Start(t, dir, forms.FS()) // the same database, and the same signing keys
	b.Tokens = a.Tokens
	createChild(t, a, "coordA", "I1", "A")

	agree := func(step string, s *servertest.Server, want func(sctSummary) error) {
		t.Helper()
		deadline := time.Now().Add(instanceBound)
		for {
			err := want(sctSummaryOf(t, s, "timepoint=baseline&site=A"))
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %v after %v", step, err, instanceBound)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	people := func(respondents, named int) func(sctSummary) error {
		return func(got sctSummary) error {
			if got.Respondents != respondents || (respondents > 0 && (got.Nominees.Mean == nil || *got.Nominees.Mean != float64(named))) {
				return fmt.Errorf("%d respondents naming %v on average; want %d naming %d", got.Respondents, got.Nominees.Mean, respondents, named)
			}
			return nil
		}
	}
	agree("before anything", b, people(0, 0))

	id := "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918"
	if st, body := a.Do(t, "PUT", "/api/v1/responses/"+id, sctRequest("I1", "baseline", "2019-06-14", "submitted", firstAnswers), "coordA"); st != 201 {
		t.Fatalf("submission through the first server: %d %s", st, body)
	}
	agree("a submission through the first server, seen by the second", b, people(1, 2))

	three := `{"nominees":[{"name":"Nan","relationship":"grandparent"},{"name":"Mum","relationship":"biological_mother"},{"name":"Jo","relationship":"friend"}]}`
	if st, body := b.Do(t, "PUT", "/api/v1/responses/"+id, sctRequest("I1", "baseline", "2019-06-14", "submitted", three), "coordA"); st != 200 {
		t.Fatalf("revision through the second server: %d %s", st, body)
	}
	agree("a revision through the second server, seen by the first", a, people(1, 3))

	if st, body := b.Do(t, "DELETE", "/api/v1/children/I1", "", "admin"); st != 204 {
		t.Fatalf("erasure through the second server: %d %s", st, body)
	}
	agree("an erasure through the second server, seen by the first", a, people(0, 0))
}

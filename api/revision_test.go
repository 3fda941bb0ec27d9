package api

import (
	"net/http"
	"strings"
	"testing"
)

// A change to a submitted response keeps why it was made, with that
// revision; evaluators never see the words (free text may hold names).
func TestRevision_KeepsItsReasonFromStaffOnly(t *testing.T) {
	f := newFixture(t)
	revised := `{"form":"sct","version":"1","child_id":"CA1","timepoint":"baseline","completed_on":"2019-06-14","mode":"paper","status":"submitted",
		"revision_reason":"Nanna-Secret's rating was typed wrong","answers":{"nominees":[{"name":"Nanna-Secret","relationship":"grandparent"}]}}`
	status, got := f.do(t, "coordinator A", "PUT", "/api/v1/responses/"+respA, revised)
	if status != http.StatusOK || !strings.Contains(got, `"revision":2`) || !strings.Contains(got, `"revision_reason":"Nanna-Secret's rating was typed wrong"`) {
		t.Fatalf("revision: %d %s", status, got)
	}
	if status, got := f.do(t, "coordinator A", "GET", "/api/v1/responses/"+respA+"/revisions", ""); status != http.StatusOK || !strings.Contains(got, "typed wrong") {
		t.Errorf("the revisions as staff see them: %d %s", status, got)
	}
	for _, path := range []string{"/api/v1/responses/" + respA, "/api/v1/responses/" + respA + "/revisions"} {
		if status, got := f.do(t, "evaluator", "GET", path, ""); status != http.StatusOK || strings.Contains(got, "typed wrong") || strings.Contains(got, "revision_reason") {
			t.Errorf("%s as an evaluator: %d %s; want no reason", path, status, got)
		}
	}
}

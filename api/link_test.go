package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// A young person's link writes its one SCT, of its form, version, child,
// timepoint and wave, online; nothing else.
func TestYoungPersonLink_WritesExactlyItsOneSCT(t *testing.T) {
	f := newFixture(t)
	sct := func(change func(string) string) string {
		b := `{"form":"sct","version":"1","child_id":"CB1","timepoint":"baseline","wave":1,"completed_on":"2020-01-10","mode":"online","status":"draft","answers":{}}`
		return change(b)
	}
	same := func(s string) string { return s }
	swap := func(from, to string) func(string) string {
		return func(s string) string { return strings.Replace(s, from, to, 1) }
	}
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   string
		status int
	}{
		{"a practice summary", "PUT", "/api/v1/responses/" + respYP,
			`{"form":"practice-summary","version":"2","child_id":"CB1","timepoint":"baseline","completed_on":"2020-01-10","mode":"online","status":"submitted","answers":{}}`, http.StatusForbidden},
		{"a follow-up", "PUT", "/api/v1/responses/" + respYP, sct(swap(`"timepoint":"baseline"`, `"timepoint":"follow_up"`)), http.StatusForbidden},
		{"wave 42", "PUT", "/api/v1/responses/" + respYP, sct(swap(`"wave":1`, `"wave":42`)), http.StatusForbidden},
		{"on paper", "PUT", "/api/v1/responses/" + respYP, sct(swap(`"online"`, `"paper"`)), http.StatusForbidden},
		{"another child", "PUT", "/api/v1/responses/" + respYP, sct(swap(`"CB1"`, `"CA1"`)), http.StatusForbidden},
		{"another response id", "PUT", "/api/v1/responses/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", sct(same), http.StatusNotFound},
		{"the revisions", "GET", "/api/v1/responses/" + respYP + "/revisions", "", http.StatusForbidden},
		{"its own SCT", "PUT", "/api/v1/responses/" + respYP, sct(same), http.StatusCreated},
		{"its own SCT without saying the timepoint", "PUT", "/api/v1/responses/" + respYP,
			sct(swap(`"timepoint":"baseline","wave":1,`, ``)), http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, got := f.do(t, "young person B", tc.method, tc.path, tc.body)
			if status != tc.status {
				t.Errorf("%d %s; want %d", status, got, tc.status)
			}
		})
	}
	r, err := f.st.Response(context.Background(), respYP)
	if err != nil || r.Form != "sct" || r.Timepoint != "baseline" || r.Wave != 1 || r.Mode != "online" {
		t.Errorf("stored %+v %v; want the link's SCT only", r, err)
	}
}

// Once staff have submitted the response a link points at, the link cannot
// read or change it: a submitted SCT holds names the link must not show.
func TestYoungPersonLink_CannotReachASubmittedResponse(t *testing.T) {
	f := newFixture(t)
	submitted := `{"form":"sct","version":"1","child_id":"CB1","timepoint":"baseline","completed_on":"2020-01-10","mode":"paper","status":"submitted","answers":{"nominees":[{"name":"Nanna-Secret","relationship":"grandparent"}]}}`
	if status, got := f.do(t, "coordinator B", "PUT", "/api/v1/responses/"+respYP, submitted); status != http.StatusCreated {
		t.Fatalf("staff submission: %d %s", status, got)
	}
	for _, call := range []struct{ method, body string }{{"GET", ""}, {"PUT", strings.Replace(strings.Replace(submitted, "paper", "online", 1), "Nanna", "Other", 1)}} {
		status, got := f.do(t, "young person B", call.method, "/api/v1/responses/"+respYP, call.body)
		if status != http.StatusNotFound || strings.Contains(got, "Secret") {
			t.Errorf("%s: %d %s; want 404 and no names", call.method, status, got)
		}
	}
}

// A worker cannot aim a link at a response that exists already, unless it
// is this child's SCT draft; then the link takes what that draft is. Another
// site's response is not found, as everywhere.
func TestLink_AimsOnlyAtANewResponseOrThisChildsDraft(t *testing.T) {
	f := newFixture(t)
	draftID := "1b2c3d4e-5f60-4718-892a-3b4c5d6e7f80"
	draft := `{"form":"sct","version":"1","child_id":"CB1","timepoint":"baseline","completed_on":"2020-01-10","mode":"paper","status":"draft","answers":{}}`
	if status, got := f.do(t, "coordinator B", "PUT", "/api/v1/responses/"+draftID, draft); status != http.StatusCreated {
		t.Fatalf("draft: %d %s", status, got)
	}
	for _, tc := range []struct {
		name, caller, child, responseID string
		status                          int
	}{
		{"a submitted response of its own site", "coordinator A", "CA1", respA, http.StatusConflict},
		{"another site's submitted response", "coordinator B", "CB1", respA, http.StatusNotFound},
		{"another site's child's draft", "coordinator A", "CA1", draftID, http.StatusNotFound},
		{"this child's draft", "coordinator B", "CB1", draftID, http.StatusCreated},
		{"a new response", "coordinator B", "CB1", "2c3d4e5f-6071-4829-9a3b-4c5d6e7f8091", http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, got := f.do(t, tc.caller, "POST", "/api/v1/children/"+tc.child+"/sessions", `{"response_id":"`+tc.responseID+`"}`)
			if status != tc.status {
				t.Errorf("%d %s; want %d", status, got, tc.status)
			}
			if strings.Contains(got, "Secret") {
				t.Errorf("answer shows a name: %s", got)
			}
		})
	}
}

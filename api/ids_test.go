package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// spellings are the ways a caller can write the same identifier: the
// server must either take each as the one record it names, for callers who
// reach it, or refuse it; never look it up as it came and let the guard
// and the handler disagree.
func spellings(id string) map[string]string {
	out := map[string]string{
		"capitals":          strings.ToUpper(id),
		"mixed case":        mixCase(id),
		"surrounding space": "%20" + id + "%20",
		"trailing space":    id + "%20",
		"percent-encoded":   fmt.Sprintf("%%%02X", id[0]) + id[1:],
		"braces":            "%7B" + id + "%7D",
	}
	if len(id) == 36 { // a UUID
		out["urn:uuid:"] = "urn:uuid:" + id
		out["no hyphens"] = strings.ReplaceAll(id, "-", "")
		out["braces and capitals"] = "%7B" + strings.ToUpper(id) + "%7D"
	}
	return out
}

func mixCase(s string) string {
	b := []byte(s)
	for i := range b {
		if i%2 == 0 {
			b[i] = strings.ToUpper(string(b[i]))[0]
		} else {
			b[i] = strings.ToLower(string(b[i]))[0]
		}
	}
	return string(b)
}

// Every route that names a record by id in its path, called by every
// caller of another site with every spelling of a site A id, answers with
// nothing of site A's and changes nothing.
func TestRoutes_IDSpellingsOfAnotherSiteGetNothing(t *testing.T) {
	f := newFixture(t)
	ids := map[string]string{"CA1": "CA1", respA: respA, f.userA.ID: f.userA.ID, "/sites/A": "A", fixtureHook: fixtureHook}
	for _, r := range f.h.routes() {
		if r.perm == "public" || (!strings.Contains(r.path, ":id") && !strings.Contains(r.path, ":code")) {
			continue
		}
		for _, caller := range []string{"coordinator B", "site lead B", "young person B"} {
			path, body := f.aimAtSiteA(r)
			var id string
			for k, v := range ids {
				if strings.Contains(path, k) {
					id = v
				}
			}
			for spelling, variant := range spellings(id) {
				t.Run(r.method+" "+r.path+" as "+caller+" with "+spelling, func(t *testing.T) {
					bodies := []string{body}
					if r.method == http.MethodPut {
						// The other site's caller names its own child: the id
						// alone must not reach site A's response.
						bodies = append(bodies, strings.Replace(body, `"CA1"`, `"CB1"`, 1))
					}
					for _, b := range bodies {
						status, got := f.do(t, caller, r.method, strings.Replace(path, id, variant, 1), b)
						if status < 400 {
							t.Errorf("status %d, want a refusal; body %s", status, got)
						}
						for _, leak := range append([]string{"CA1", respA, f.userA.ID, "keeps its form", "whsec_", "receiver.example.org"}, secrets...) {
							if strings.Contains(strings.ToLower(got), strings.ToLower(leak)) {
								t.Errorf("body shows %q: %s", leak, got)
							}
						}
					}
				})
			}
		}
	}
	if r, err := f.st.Response(context.Background(), respA); err != nil || r.Revision != 1 || r.CompletedOn != "2019-06-14" {
		t.Errorf("site A's response changed: %+v %v", r, err)
	}
}

// The same spellings, from the site that holds the response, name that one
// response: the id is put into its one spelling, not refused.
func TestResponseID_SpellingsNameTheOneRecord(t *testing.T) {
	f := newFixture(t)
	for _, spelling := range []string{"capitals", "mixed case", "urn:uuid:", "no hyphens", "braces"} {
		variant := spellings(respA)[spelling]
		status, got := f.do(t, "coordinator A", "GET", "/api/v1/responses/"+variant, "")
		if status != http.StatusOK || !strings.Contains(got, `"id":"`+respA+`"`) || !strings.Contains(got, secrets[0]) {
			t.Errorf("%s: %d %s; want the response under its canonical id", spelling, status, got)
		}
	}
	for _, bad := range []string{"%20" + respA, respA + "%20", "x" + respA[1:], strings.Replace(respA, "-4c5d-", "-1c5d-", 1)} {
		if status, got := f.do(t, "coordinator A", "GET", "/api/v1/responses/"+bad, ""); status != http.StatusBadRequest {
			t.Errorf("%q: %d %s; want 400", bad, status, got)
		}
	}
}

// Another site's existing response cannot be told from one that is not
// there: a PUT on its id is "not found", exactly as a GET is.
func TestPutResponse_AnotherSitesIDIsNotFound(t *testing.T) {
	f := newFixture(t)
	own := `{"form":"sct","version":"1","child_id":"CB1","timepoint":"baseline","completed_on":"2019-06-15","mode":"paper","status":"draft","answers":{}}`
	getStatus, getBody := f.do(t, "coordinator B", "GET", "/api/v1/responses/"+respA, "")
	putStatus, putBody := f.do(t, "coordinator B", "PUT", "/api/v1/responses/"+respA, own)
	if putStatus != http.StatusNotFound || putStatus != getStatus || putBody != getBody {
		t.Errorf("PUT %d %s against GET %d %s; want the same 404", putStatus, putBody, getStatus, getBody)
	}
}

// A response for another site's child is refused with the very words an
// unknown child gets.
func TestPutResponse_AnotherSitesChildIsAnUnknownChild(t *testing.T) {
	f := newFixture(t)
	body := func(child string) string {
		return `{"form":"sct","version":"1","child_id":"` + child + `","timepoint":"baseline","completed_on":"2019-06-15","mode":"paper","status":"draft","answers":{}}`
	}
	st1, other := f.do(t, "coordinator B", "PUT", "/api/v1/responses/7d2c9e4b-1a3f-4b5c-8d6e-9f0a1b2c3d4e", body("CA1"))
	st2, unknown := f.do(t, "coordinator B", "PUT", "/api/v1/responses/8e3d0f5c-2b4a-4c6d-9e7f-0a1b2c3d4e5f", body("CZ9"))
	if st1 != http.StatusUnprocessableEntity || st1 != st2 || other != strings.ReplaceAll(unknown, "CZ9", "CA1") {
		t.Errorf("another site's child: %d %s\nunknown child: %d %s\nwant the same 422", st1, other, st2, unknown)
	}
	if _, err := f.st.Response(context.Background(), "7d2c9e4b-1a3f-4b5c-8d6e-9f0a1b2c3d4e"); err == nil {
		t.Error("a response was stored for another site's child")
	}
}

// The same callers, sending every spelling of every route at once, with
// bodies naming site A's child and their own: nothing of site A's comes
// back and nothing of it changes, however the requests interleave.
func TestRoutes_AnotherSitesCallersAtOnceGetNothing(t *testing.T) {
	f := newFixture(t)
	type call struct{ caller, method, path, body string }
	var calls []call
	for _, r := range f.h.routes() {
		if r.perm == "public" {
			continue
		}
		path, body := f.aimAtSiteA(r)
		variants := []string{path}
		for _, id := range []string{"CA1", respA, f.userA.ID} {
			if strings.Contains(path, id) {
				for _, v := range spellings(id) {
					variants = append(variants, strings.Replace(path, id, v, 1))
				}
			}
		}
		bodies := []string{body}
		if strings.Contains(body, `"CA1"`) {
			for _, v := range []string{"ca1", " CA1", "CA1 ", "CB1"} {
				bodies = append(bodies, strings.Replace(body, `"CA1"`, `"`+v+`"`, 1))
			}
		}
		for _, caller := range []string{"coordinator B", "site lead B", "young person B"} {
			for _, p := range variants {
				for _, b := range bodies {
					calls = append(calls, call{caller, r.method, p, b})
				}
			}
		}
	}
	type answer struct {
		call
		status int
		body   string
	}
	answers := make(chan answer, len(calls))
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, got := f.do(t, c.caller, c.method, c.path, c.body)
			answers <- answer{c, status, got}
		}()
	}
	wg.Wait()
	close(answers)
	for a := range answers {
		if a.status >= 200 && a.status < 300 && !strings.HasPrefix(a.path, "/api/v1/auth/me") && !strings.HasPrefix(a.path, "/api/v1/sites") &&
			!strings.HasPrefix(a.path, "/api/v1/calendar") {
			t.Errorf("%s %s as %s: %d %s", a.method, a.path, a.caller, a.status, a.body)
		}
		for _, leak := range append([]string{respA, f.userA.ID}, secrets...) {
			if strings.Contains(a.body, leak) {
				t.Errorf("%s %s as %s shows %q: %s", a.method, a.path, a.caller, leak, a.body)
			}
		}
	}
	ctx := context.Background()
	if r, err := f.st.Response(ctx, respA); err != nil || r.Revision != 1 || r.CompletedOn != "2019-06-14" {
		t.Errorf("site A's response changed: %+v %v", r, err)
	}
	if c, err := f.st.Child(ctx, "CA1"); err != nil || c.Site != "A" || c.Participation != nil {
		t.Errorf("site A's child changed: %+v %v", c, err)
	}
	t.Logf("%d requests sent at once", len(calls))
}

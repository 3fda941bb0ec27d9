package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/store"
)

// The phone that redeemed a link's code can still send that one SCT after
// the link's two hours, with its device grant, until the SCT is submitted,
// the child erased, or the grant runs out; nothing else can use the grant.
func TestDeviceGrant_OutlivesTheLinkForItsOneResponseOnly(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	srv, st := serveOnClock(t, clock, Deps{})
	ctx := context.Background()
	if _, err := st.CreateSite(ctx, store.Site{Code: "B", Name: "B"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"CB1", "CB2"} {
		if _, err := st.CreateChild(ctx, store.Child{ID: id, Site: "B", Group: "comparison"}); err != nil {
			t.Fatal(err)
		}
	}
	maker := staffUser(t, st, "coordinator", "B")
	link := func(child, code string) (responseID string) {
		t.Helper()
		responseID = uuid.NewString()
		if _, err := st.CreateSession(ctx, store.Session{ID: uuid.NewString(), CodeHash: auth.HashOpaque(auth.NormalizeShortCode(code)),
			ChildID: child, Site: "B", ResponseID: responseID, Form: "sct", Version: "1", Timepoint: "baseline", Wave: 1,
			ExpiresAt: clock.now().Add(2 * time.Hour), CreatedBy: maker.ID}); err != nil {
			t.Fatal(err)
		}
		return responseID
	}
	redeem := func(code string) (token, grant string) {
		t.Helper()
		status, out := call(t, srv.URL, "", "POST", "/api/v1/auth/session", `{"code":"`+code+`"}`)
		if status != http.StatusOK || out["device_grant"] == nil {
			t.Fatalf("redeem: %d %v", status, out)
		}
		return out["access_token"].(string), out["device_grant"].(string)
	}
	renew := func(grant string) (int, string) {
		t.Helper()
		status, out := call(t, srv.URL, "", "POST", "/api/v1/auth/session/renew", `{"grant":"`+grant+`"}`)
		token, _ := out["access_token"].(string)
		return status, token
	}
	body := func(child, status string) string {
		return `{"form":"sct","version":"1","child_id":"` + child + `","timepoint":"baseline","completed_on":"2026-03-02","mode":"online","status":"` + status + `","answers":{}}`
	}

	rid := link("CB1", "KQ7M-3HXP")
	token, grant := redeem("KQ7M-3HXP")
	if status, _ := call(t, srv.URL, token, "PUT", "/api/v1/responses/"+rid, body("CB1", "draft")); status != http.StatusCreated {
		t.Fatalf("draft within the link's time: %d", status)
	}

	clock.add(26 * time.Hour) // a day without signal
	if status, _ := call(t, srv.URL, token, "PUT", "/api/v1/responses/"+rid, body("CB1", "draft")); status != http.StatusUnauthorized {
		t.Errorf("the link's own token a day later: %d, want 401", status)
	}
	if status, _ := renew("not-the-grant"); status != http.StatusUnauthorized {
		t.Errorf("a made-up grant: %d, want 401", status)
	}
	status, renewed := renew(grant)
	if status != http.StatusOK {
		t.Fatalf("renewing a day later: %d", status)
	}
	if status, _ := call(t, srv.URL, renewed, "GET", "/api/v1/auth/me", ""); status != http.StatusOK {
		t.Errorf("the renewed token: %d", status)
	}
	if status, _ := call(t, srv.URL, renewed, "PUT", "/api/v1/responses/"+uuid.NewString(), body("CB1", "draft")); status != http.StatusNotFound {
		t.Errorf("the renewed token on another response: %d, want 404", status)
	}
	if status, _ := call(t, srv.URL, renewed, "GET", "/api/v1/children/CB1", ""); status != http.StatusForbidden {
		t.Errorf("the renewed token on the child: %d, want 403", status)
	}
	if status, _ := call(t, srv.URL, renewed, "PUT", "/api/v1/responses/"+rid, body("CB1", "submitted")); status != http.StatusOK {
		t.Errorf("sending the kept answers a day later: %d, want 200", status)
	}
	if status, _ := renew(grant); status != http.StatusUnauthorized {
		t.Errorf("renewing after submission: %d, want 401", status)
	}

	// Erasure ends a grant; so does its own time.
	link("CB2", "ABCD-EFGH")
	_, erased := redeem("ABCD-EFGH")
	if err := st.EraseChild(ctx, "CB2"); err != nil {
		t.Fatal(err)
	}
	if status, _ := renew(erased); status != http.StatusUnauthorized {
		t.Errorf("renewing after erasure: %d, want 401", status)
	}
	link("CB1", "JKMN-PQRS")
	_, old := redeem("JKMN-PQRS")
	clock.add(accounts.DeviceGrantFor + time.Minute)
	if status, _ := renew(old); status != http.StatusUnauthorized {
		t.Errorf("renewing after the grant's time: %d, want 401", status)
	}
}

// A young person's link is its maker's to give, for as long as they could
// give it: once the worker who made it is disabled, moved to other sites
// or to a role that makes no links, the link, its token and its device
// grant end; a new password changes nothing of that.
func TestLinks_EndWhenTheirMakerCouldNoLongerMakeThem(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, change, undo string
		ends               bool
	}{
		{"disabled", `{"disabled":true}`, `{"disabled":false}`, true},
		{"moved to another site", `{"sites":["B"]}`, `{"sites":["A"]}`, true},
		{"made an evaluator", `{"role":"evaluator","sites":[]}`, `{"role":"coordinator","sites":["A"]}`, true},
		{"given another site too", `{"sites":["A","B"]}`, `{"sites":["A"]}`, false},
		{"a new password", `{"password":"quince lantern meadow otter"}`, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			maker := staffUser(t, f.st, "coordinator", "A")
			token, _, err := f.h.tokens.Issue(auth.Claims{Role: "coordinator", Sites: []string{"A"}, RegisteredClaims: jwt.RegisteredClaims{Subject: maker.ID}}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			draft := uuid.NewString()
			if status, out := call(t, f.srv.URL, token, "PUT", "/api/v1/responses/"+draft,
				`{"form":"sct","version":"1","child_id":"CA1","timepoint":"follow_up","mode":"online","status":"draft","answers":{"nominees":[{"name":"Nan","relationship":"grandparent"}]}}`); status != http.StatusCreated {
				t.Fatalf("draft: %d %v", status, out)
			}
			status, link := call(t, f.srv.URL, token, "POST", "/api/v1/children/CA1/sessions", `{"response_id":"`+draft+`","minutes":10}`)
			if status != http.StatusCreated {
				t.Fatalf("link: %d %v", status, link)
			}
			status, opened := call(t, f.srv.URL, "", "POST", "/api/v1/auth/session", `{"code":"`+link["code"].(string)+`"}`)
			if status != http.StatusOK {
				t.Fatalf("redeem: %d %v", status, opened)
			}
			young, grant := opened["access_token"].(string), opened["device_grant"].(string)
			if status, _ := call(t, f.srv.URL, young, "GET", "/api/v1/responses/"+draft, ""); status != http.StatusOK {
				t.Fatalf("the draft through the link before the change: %d", status)
			}

			if status, out := call(t, f.srv.URL, f.tokens["admin"], "PATCH", "/api/v1/users/"+maker.ID, tc.change); status != http.StatusOK {
				t.Fatalf("change: %d %v", status, out)
			}
			want := http.StatusOK
			if tc.ends {
				want = http.StatusUnauthorized
			}
			if status, _ := call(t, f.srv.URL, young, "GET", "/api/v1/responses/"+draft, ""); status != want {
				t.Errorf("the draft through the link after the change: %d; want %d", status, want)
			}
			if status, _ := call(t, f.srv.URL, "", "POST", "/api/v1/auth/session/renew", `{"grant":"`+grant+`"}`); status != want {
				t.Errorf("renewing with the device grant after the change: %d; want %d", status, want)
			}
			if tc.undo == "" {
				return
			}
			// Undoing the change does not bring an ended link back.
			if status, out := call(t, f.srv.URL, f.tokens["admin"], "PATCH", "/api/v1/users/"+maker.ID, tc.undo); status != http.StatusOK {
				t.Fatalf("undo: %d %v", status, out)
			}
			if status, _ := call(t, f.srv.URL, young, "GET", "/api/v1/responses/"+draft, ""); status != want {
				t.Errorf("the draft through the link after the change was undone: %d; want %d", status, want)
			}
			if status, _ := call(t, f.srv.URL, "", "POST", "/api/v1/auth/session/renew", `{"grant":"`+grant+`"}`); status != want {
				t.Errorf("renewing with the device grant after the change was undone: %d; want %d", status, want)
			}
		})
	}
}

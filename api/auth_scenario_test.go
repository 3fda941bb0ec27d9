package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/server/servertest"
)

// jsonObject decodes a JSON object body.
func jsonObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, b)
	}
	return out
}

// signIn posts a login and returns the status and the decoded body.
func signIn(t *testing.T, s *servertest.Server, email, password string) (int, map[string]any, []byte) {
	t.Helper()
	status, body := s.Do(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return status, out, body
}

// refreshWith posts a refresh token and returns the status and the decoded body.
func refreshWith(t *testing.T, s *servertest.Server, token string) (int, map[string]any) {
	t.Helper()
	status, body := s.Do(t, "POST", "/api/v1/auth/refresh", fmt.Sprintf(`{"refresh_token":%q}`, token))
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return status, out
}

// userIDOf looks an account's id up as the admin.
func userIDOf(t *testing.T, s *servertest.Server, email string) string {
	t.Helper()
	status, body := s.Do(t, "GET", "/api/v1/users", "", "admin")
	if status != 200 {
		t.Fatalf("list users: %d %s", status, body)
	}
	var out struct {
		Users []struct{ ID, Email string } `json:"users"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	for _, u := range out.Users {
		if u.Email == email {
			return u.ID
		}
	}
	t.Fatalf("no user %s in %s", email, body)
	return ""
}

// setDisabled disables or re-enables an account as the admin.
func setDisabled(t *testing.T, s *servertest.Server, email string, disabled bool) {
	t.Helper()
	id := userIDOf(t, s, email)
	if st, b := s.Do(t, "PATCH", "/api/v1/users/"+id, fmt.Sprintf(`{"disabled":%t}`, disabled), "admin"); st != 200 {
		t.Fatalf("disable %s: %d %s", email, st, b)
	}
}

// createChild registers a child as the given user.
func createChild(t *testing.T, s *servertest.Server, as, id, site string) {
	t.Helper()
	if st, b := s.Do(t, "POST", "/api/v1/children", fmt.Sprintf(`{"id":%q,"site":%q,"group":"lifelong_links"}`, id, site), as); st != 201 {
		t.Fatalf("child %s: %d %s", id, st, b)
	}
}

// auditRow is one audit entry as GET /api/v1/audit lists it.
type auditRow struct {
	ID        string `json:"id"`
	Actor     string `json:"actor"`
	Action    string `json:"action"`
	Target    string `json:"target"`
	Site      string `json:"site"`
	RequestID string `json:"request_id"`
	Remote    string `json:"remote"`
}

func auditRows(t *testing.T, s *servertest.Server, query string) []auditRow {
	t.Helper()
	status, body := s.Do(t, "GET", "/api/v1/audit?"+query, "", "admin")
	if status != 200 {
		t.Fatalf("audit %s: %d %s", query, status, body)
	}
	var out struct {
		Entries []auditRow `json:"entries"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Entries
}

// serverKeys are the server's access-token keys, read from the data
// directory, so tests can forge tokens the way an attacker who knew (or
// guessed at) them would.
type serverKeys struct {
	ring   *auth.KeyRing
	kid    string
	secret []byte
}

func readServerKeys(t *testing.T, dataDir string) serverKeys {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "jwt-keys"))
	if err != nil {
		t.Fatal(err)
	}
	spec := strings.TrimSpace(string(b))
	ring, err := auth.ParseKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	kid, enc, _ := strings.Cut(strings.Split(spec, ",")[0], "=")
	secret, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(enc, "="))
	if err != nil {
		t.Fatal(err)
	}
	if kid != ring.SigningKeyID() {
		t.Fatalf("key id %q, ring signs with %q", kid, ring.SigningKeyID())
	}
	return serverKeys{ring: ring, kid: kid, secret: secret}
}

// forgedAdminClaims are otherwise valid claims of an administrator.
func forgedAdminClaims(issuer string) auth.Claims {
	now := time.Now()
	return auth.Claims{Role: "admin", RegisteredClaims: jwt.RegisteredClaims{
		Subject: "forged", Issuer: issuer, ID: "forged-1",
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
	}}
}

func signToken(t *testing.T, method jwt.SigningMethod, kid string, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, forgedAdminClaims("sct"))
	if kid != "" {
		tok.Header["kid"] = kid
	}
	signed, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func issueAt(t *testing.T, ring *auth.KeyRing, issuer string, clock func() time.Time, subject string) string {
	t.Helper()
	tok, _, err := auth.NewTokens(ring, issuer, clock).Issue(auth.Claims{Role: "admin",
		RegisteredClaims: jwt.RegisteredClaims{Subject: subject}}, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokens_OnlyValidHS256TokensOfThisServerAreAccepted(t *testing.T) {
	dir := t.TempDir()
	s := servertest.Start(t, dir, forms.FS())
	s.AddUsers(t)
	k := readServerKeys(t, dir)
	otherSecret := bytes.Repeat([]byte{7}, 32)
	past := func() time.Time { return time.Now().Add(-time.Hour) }
	future := func() time.Time { return time.Now().Add(time.Hour) }
	hs384 := signToken(t, jwt.SigningMethodHS384, k.kid, k.secret)
	admin := userIDOf(t, s, servertest.AdminEmail)
	// The same claims re-signed as HS256 must pass, or the HS384 case
	// proves nothing.
	if _, err := auth.NewTokens(k.ring, "sct", nil).Verify(signToken(t, jwt.SigningMethodHS256, k.kid, k.secret)); err != nil {
		t.Fatalf("the forged HS256 control token does not verify: %v", err)
	}

	tests := []struct {
		name          string
		authorization string // the whole header; "" sends none
		status        int
		want          []string
	}{
		{name: "no token", status: 401},
		{name: "another scheme", authorization: "Basic YWRtaW46eA==", status: 401},
		{name: "an empty bearer token", authorization: "Bearer ", status: 401},
		{name: "a malformed token", authorization: "Bearer not-a-token", status: 401},
		{name: "three segments of garbage", authorization: "Bearer a.b.c", status: 401},
		{name: "an expired token", authorization: "Bearer " + issueAt(t, k.ring, "sct", past, admin), status: 401},
		{name: "a token issued in the future", authorization: "Bearer " + issueAt(t, k.ring, "sct", future, admin), status: 401},
		{name: "another issuer", authorization: "Bearer " + issueAt(t, k.ring, "elsewhere", nil, admin), status: 401},
		{name: "HS384 with the right secret and kid", authorization: "Bearer " + hs384, status: 401},
		{name: "HS512 with the right secret and kid", authorization: "Bearer " + signToken(t, jwt.SigningMethodHS512, k.kid, k.secret), status: 401},
		{name: "alg none", authorization: "Bearer " + signToken(t, jwt.SigningMethodNone, k.kid, jwt.UnsafeAllowNoneSignatureType), status: 401},
		{name: "an unknown kid, right secret", authorization: "Bearer " + signToken(t, jwt.SigningMethodHS256, "k-unknown", k.secret), status: 401},
		{name: "an unknown kid, its own secret", authorization: "Bearer " + signToken(t, jwt.SigningMethodHS256, "k-unknown", otherSecret), status: 401},
		{name: "no kid", authorization: "Bearer " + signToken(t, jwt.SigningMethodHS256, "", k.secret), status: 401},
		{name: "the right kid, another secret", authorization: "Bearer " + signToken(t, jwt.SigningMethodHS256, k.kid, otherSecret), status: 401},
		{name: "a signature stripped off", authorization: "Bearer " + hs384[:strings.LastIndex(hs384, ".")+1], status: 401},
		{name: "a valid token shows its role and sites", authorization: "Bearer " + s.Tokens["coordA"], status: 200,
			want: []string{`"role":"coordinator"`, `"sites":["A"]`}},
		{name: "a valid token of an all-sites role", authorization: "Bearer " + s.Tokens["evaluator"], status: 200,
			want: []string{`"role":"evaluator"`}},
		{name: "a token made with the server's key by its rules", authorization: "Bearer " + issueAt(t, k.ring, "sct", nil, admin), status: 200,
			want: []string{`"role":"admin"`}},
		{name: "a token of the server's, for no account", authorization: "Bearer " + issueAt(t, k.ring, "sct", nil, "forged"), status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.authorization != "" {
				h["Authorization"] = tt.authorization
			}
			res, body := s.Send(t, "GET", "/api/v1/auth/me", "", h)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", res.StatusCode, tt.status, body)
			}
			for _, w := range tt.want {
				if !bytes.Contains(body, []byte(w)) {
					t.Errorf("body lacks %s\nbody: %s", w, body)
				}
			}
			if tt.status != 401 {
				return
			}
			if c := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(c, "Bearer") {
				t.Errorf("WWW-Authenticate %q, want a Bearer challenge", c)
			}
			// Why a token failed is for the log, not for whoever sent it.
			for _, leak := range []string{"kid", "key id", "algorithm", "signing method", "expired", "issuer", "signature"} {
				if bytes.Contains(bytes.ToLower(body), []byte(leak)) {
					t.Errorf("the 401 body says %q: %s", leak, body)
				}
			}
		})
	}
}

// clearOfWindowEdge waits, if need be, for a fresh sign-in failure window
// (15 minutes, fixed), so that attempts made in the next span of time all
// count in the same window.
func clearOfWindowEdge(t *testing.T, span time.Duration) {
	t.Helper()
	const window = 15 * time.Minute
	now := time.Now()
	if left := now.Truncate(window).Add(window).Sub(now); left < span {
		t.Logf("waiting %v for a fresh failure window", left)
		time.Sleep(left + 200*time.Millisecond)
	}
}

func TestLogin_Rules(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)

	t.Run("the response carries a bearer access token for 15 minutes and a refresh token", func(t *testing.T) {
		status, out, body := signIn(t, s, "coorda@example.org", servertest.UserPassword)
		if status != 200 {
			t.Fatalf("login: %d %s", status, body)
		}
		if tok, _ := out["access_token"].(string); strings.Count(tok, ".") != 2 {
			t.Errorf("access_token %v, want a JWT", out["access_token"])
		}
		if out["token_type"] != "Bearer" {
			t.Errorf("token_type %v, want Bearer", out["token_type"])
		}
		var c auth.Claims
		if _, _, err := jwt.NewParser().ParseUnverified(out["access_token"].(string), &c); err != nil || c.ExpiresAt == nil || c.IssuedAt == nil ||
			c.ExpiresAt.Sub(c.IssuedAt.Time) != 15*time.Minute {
			t.Errorf("access token claims %+v (%v); want exp 900 s after iat", c.RegisteredClaims, err)
		}
		if out["expires_in"] != float64(900) {
			t.Errorf("expires_in %v, want 900", out["expires_in"])
		}
		if tok, _ := out["refresh_token"].(string); len(tok) < 32 {
			t.Errorf("refresh_token %v, want a long opaque token", out["refresh_token"])
		}
		if bytes.Contains(body, []byte("password_hash")) || bytes.Contains(body, []byte("$argon2")) {
			t.Errorf("login response shows the password hash: %s", body)
		}
	})

	t.Run("an unknown email and a wrong password get the same answer", func(t *testing.T) {
		unknownStatus, _, unknown := signIn(t, s, "nobody@example.org", servertest.UserPassword)
		wrongStatus, _, wrong := signIn(t, s, "coorda@example.org", "not the password at all")
		if unknownStatus != 401 || wrongStatus != 401 {
			t.Fatalf("statuses %d and %d, want 401 both", unknownStatus, wrongStatus)
		}
		if !bytes.Equal(unknown, wrong) {
			t.Errorf("bodies differ, telling which emails exist:\nunknown email:  %s\nwrong password: %s", unknown, wrong)
		}
	})

	t.Run("a disabled user cannot sign in", func(t *testing.T) {
		_, _, wrong := signIn(t, s, "nobody@example.org", servertest.UserPassword)
		setDisabled(t, s, "leada@example.org", true)
		status, _, body := signIn(t, s, "leada@example.org", servertest.UserPassword)
		if status != 401 {
			t.Fatalf("disabled user signs in: %d %s", status, body)
		}
		if !bytes.Equal(body, wrong) {
			t.Errorf("a disabled account answers differently from a wrong login:\n%s\n%s", body, wrong)
		}
		setDisabled(t, s, "leada@example.org", false)
		if status, _, body := signIn(t, s, "leada@example.org", servertest.UserPassword); status != 200 {
			t.Errorf("re-enabled user cannot sign in: %d %s", status, body)
		}
	})

	t.Run("the sixth attempt after five wrong passwords is refused even with the right one", func(t *testing.T) {
		clearOfWindowEdge(t, 15*time.Second)
		for i := 1; i <= 5; i++ {
			if status, _, body := signIn(t, s, "coordb@example.org", fmt.Sprintf("wrong password %d", i)); status != 401 {
				t.Fatalf("wrong password %d: %d %s", i, status, body)
			}
		}
		res, body := s.Send(t, "POST", "/api/v1/auth/login",
			fmt.Sprintf(`{"email":"coordb@example.org","password":%q}`, servertest.UserPassword), nil)
		if res.StatusCode != 429 {
			t.Fatalf("sixth attempt: %d %s; want 429", res.StatusCode, body)
		}
		if wait, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || wait < 1 || wait > 15*60+1 {
			t.Errorf("Retry-After %q, want seconds up to the end of the window", res.Header.Get("Retry-After"))
		}
		if bytes.Contains(body, []byte("access_token")) {
			t.Errorf("a refused attempt got a token: %s", body)
		}
		// The limit is per account, whatever case the email is typed in.
		if status, _, body := signIn(t, s, "CoordB@Example.org", servertest.UserPassword); status != 429 {
			t.Errorf("the same account in other case: %d %s; want 429", status, body)
		}
		if status, _, body := signIn(t, s, "evaluator@example.org", servertest.UserPassword); status != 200 {
			t.Errorf("another account is locked out too: %d %s", status, body)
		}
	})
}

func TestRefresh_RotatesAndRevokes(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	signIn := func(t *testing.T, email string) (access, refresh string) {
		t.Helper()
		status, out, body := signIn(t, s, email, servertest.UserPassword)
		if status != 200 {
			t.Fatalf("login %s: %d %s", email, status, body)
		}
		return out["access_token"].(string), out["refresh_token"].(string)
	}

	t.Run("a refresh gives a new pair; reusing the old token ends the whole sign-in", func(t *testing.T) {
		_, first := signIn(t, "coorda@example.org")
		_, other := signIn(t, "coorda@example.org") // a second sign-in of the same user
		status, out := refreshWith(t, s, first)
		if status != 200 {
			t.Fatalf("refresh: %d %v", status, out)
		}
		access, _ := out["access_token"].(string)
		second, _ := out["refresh_token"].(string)
		if access == "" || second == "" || second == first || out["token_type"] != "Bearer" {
			t.Fatalf("refresh gave %v; want a new access and refresh token", out)
		}
		s.Tokens["refreshed"] = access
		if st, b := s.Do(t, "GET", "/api/v1/auth/me", "", "refreshed"); st != 200 || !bytes.Contains(b, []byte(`"role":"coordinator"`)) {
			t.Errorf("the refreshed access token: %d %s", st, b)
		}
		if st, out := refreshWith(t, s, first); st != 401 {
			t.Errorf("the spent refresh token again: %d %v; want 401", st, out)
		}
		if st, out := refreshWith(t, s, second); st != 401 {
			t.Errorf("the new refresh token after its predecessor was reused: %d %v; want 401 (family revoked)", st, out)
		}
		if st, out := refreshWith(t, s, other); st != 200 {
			t.Errorf("an unrelated sign-in of the same user: %d %v; want 200", st, out)
		}
	})

	t.Run("a made-up refresh token fails", func(t *testing.T) {
		if st, out := refreshWith(t, s, "bm90IGEgcmVmcmVzaCB0b2tlbiBhdCBhbGwgcmVhbGx5"); st != 401 {
			t.Errorf("%d %v; want 401", st, out)
		}
	})

	t.Run("logout ends the sign-in", func(t *testing.T) {
		_, refresh := signIn(t, "coorda@example.org")
		if st, b := s.Do(t, "POST", "/api/v1/auth/logout", fmt.Sprintf(`{"refresh_token":%q}`, refresh)); st != 204 {
			t.Fatalf("logout: %d %s", st, b)
		}
		if st, out := refreshWith(t, s, refresh); st != 401 {
			t.Errorf("refresh after logout: %d %v; want 401", st, out)
		}
	})

	t.Run("disabling a user ends their sign-ins", func(t *testing.T) {
		_, refresh := signIn(t, "leada@example.org")
		setDisabled(t, s, "leada@example.org", true)
		if st, out := refreshWith(t, s, refresh); st != 401 {
			t.Errorf("refresh of a disabled user: %d %v; want 401", st, out)
		}
	})
}

var (
	shortCodePattern = regexp.MustCompile(`^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$`)
	uuid4Pattern     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// openLink creates a young person's session for a child as the given user.
func openLink(t *testing.T, s *servertest.Server, as, child string) (code, responseID string, out map[string]any) {
	t.Helper()
	st, b := s.Do(t, "POST", "/api/v1/children/"+child+"/sessions", `{}`, as)
	if st != 201 {
		t.Fatalf("session for %s: %d %s", child, st, b)
	}
	out = jsonObject(t, b)
	code, _ = out["code"].(string)
	responseID, _ = out["response_id"].(string)
	return code, responseID, out
}

// redeem turns a code into a young person's token and keeps it under name.
func redeem(t *testing.T, s *servertest.Server, name, code string) map[string]any {
	t.Helper()
	st, b := s.Do(t, "POST", "/api/v1/auth/session", fmt.Sprintf(`{"code":%q}`, code))
	if st != 200 {
		t.Fatalf("redeem %s: %d %s", code, st, b)
	}
	out := jsonObject(t, b)
	s.Tokens[name], _ = out["access_token"].(string)
	return out
}

func TestYoungPersonSession_ReachesOneResponseOnce(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	createChild(t, s, "coordA", "Y1", "A")
	createChild(t, s, "coordA", "Y2", "A")

	code, rid, created := openLink(t, s, "coordA", "Y1")
	t.Run("the link carries a one-time code in the fragment and as a QR code", func(t *testing.T) {
		if !shortCodePattern.MatchString(code) {
			t.Errorf("code %q, want XXXX-XXXX of the unambiguous alphabet", code)
		}
		if !uuid4Pattern.MatchString(rid) {
			t.Errorf("response_id %q, want a version 4 UUID", rid)
		}
		link, _ := created["link"].(string)
		if !strings.Contains(link, "#join=") || !strings.Contains(link, strings.ReplaceAll(code, "-", "")) || strings.Contains(link, "?") {
			t.Errorf("link %q, want the code after #join= and no query", link)
		}
		if qr, _ := created["qr_png"].(string); !strings.HasPrefix(qr, "data:image/png;base64,") || len(qr) < 100 {
			t.Errorf("qr_png %.60q, want a PNG data URL", qr)
		}
		if created["child_id"] != "Y1" {
			t.Errorf("child_id %v, want Y1", created["child_id"])
		}
	})
	t.Run("a coordinator of another site cannot open a link for the child", func(t *testing.T) {
		if st, b := s.Do(t, "POST", "/api/v1/children/Y1/sessions", `{}`, "coordB"); st != 404 {
			t.Errorf("%d %s; want 404", st, b)
		}
	})

	opened := redeem(t, s, "young", code)
	t.Run("the code gives a young person's token for that child and response", func(t *testing.T) {
		var c auth.Claims
		if _, _, err := jwt.NewParser().ParseUnverified(s.Tokens["young"], &c); err != nil {
			t.Fatalf("token %q: %v", s.Tokens["young"], err)
		}
		if c.Role != "young_person" || c.Child != "Y1" || c.Response != rid {
			t.Errorf("claims role %q child %q response %q; want young_person, Y1, %s", c.Role, c.Child, c.Response, rid)
		}
		if opened["token_type"] != "Bearer" {
			t.Errorf("token_type %v", opened["token_type"])
		}
	})
	t.Run("the code cannot be redeemed twice", func(t *testing.T) {
		if st, b := s.Do(t, "POST", "/api/v1/auth/session", fmt.Sprintf(`{"code":%q}`, code)); st != 401 {
			t.Errorf("second redemption: %d %s; want 401", st, b)
		}
	})

	draft := `{"form":"sct","version":"1","child_id":"Y1","mode":"online","status":"draft","answers":` + firstAnswers + `}`
	other := "5e0c8f4a-7b1d-4c2e-9a3f-6d5b4c3a2e1f"
	servertest.RunScenarios(t, s, []servertest.Scenario{
		{Name: "the form definition is readable", As: "young", Method: "GET", Path: "/api/v1/forms/sct/versions/1", Status: 200,
			Want: []string{`"form":"sct"`}},
		{Name: "no response for another child", As: "young", Method: "PUT", Path: "/api/v1/responses/" + rid, Status: 403,
			Body: strings.Replace(draft, `"Y1"`, `"Y2"`, 1)},
		{Name: "nothing stored by the refusal", As: "young", Method: "GET", Path: "/api/v1/responses/" + rid, Status: 404},
		{Name: "save a draft", As: "young", Method: "PUT", Path: "/api/v1/responses/" + rid, Body: draft, Status: 201,
			Want: []string{`"status":"draft"`, `"child_id":"Y1"`}},
		{Name: "read the draft back with its names", As: "young", Method: "GET", Path: "/api/v1/responses/" + rid, Status: 200,
			Want: []string{`"name":"Nan"`, `"name":"Mum"`}},
		{Name: "no other response id", As: "young", Method: "PUT", Path: "/api/v1/responses/" + other, Body: draft, Status: 404},
		{Name: "no reading another response id", As: "young", Method: "GET", Path: "/api/v1/responses/" + idA, Status: 404},
		{Name: "no children", As: "young", Method: "GET", Path: "/api/v1/children/Y1", Status: 403},
		{Name: "no summaries", As: "young", Method: "GET", Path: "/api/v1/summaries/sct?timepoint=baseline", Status: 403},
		{Name: "no sessions", As: "young", Method: "POST", Path: "/api/v1/children/Y1/sessions", Body: `{}`, Status: 403},
		{Name: "no audit", As: "young", Method: "GET", Path: "/api/v1/audit", Status: 403},
	})

	submitted := `{"form":"sct","version":"1","child_id":"Y1","timepoint":"baseline","completed_on":"2020-01-10","mode":"online","status":"submitted","answers":` + firstAnswers + `}`
	t.Run("submitting ends the session", func(t *testing.T) {
		st, b := s.Do(t, "PUT", "/api/v1/responses/"+rid, submitted, "young")
		if st != 200 && st != 201 {
			t.Fatalf("submit: %d %s", st, b)
		}
		if !bytes.Contains(b, []byte(`"status":"submitted"`)) {
			t.Errorf("submit answered %s", b)
		}
		for _, call := range []struct{ method, path, body string }{
			{"GET", "/api/v1/responses/" + rid, ""},
			{"PUT", "/api/v1/responses/" + rid, strings.Replace(submitted, `"let_down":1`, `"let_down":2`, 1)},
			{"GET", "/api/v1/auth/me", ""},
		} {
			st, b := s.Do(t, call.method, call.path, call.body, "young")
			if st != 401 {
				t.Errorf("%s %s with the spent session: %d %s; want 401", call.method, call.path, st, b)
			}
		}
		if st, b := s.Do(t, "GET", "/api/v1/responses/"+rid, "", "coordA"); st != 200 || !bytes.Contains(b, []byte(`"revision":1`)) || !bytes.Contains(b, []byte(`"let_down":1`)) {
			t.Errorf("the submitted response as the coordinator sees it: %d %s", st, b)
		}
	})
}

func TestAudit_RecordsAndCannotBeChanged(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	coordA := userIDOf(t, s, "coorda@example.org")
	if st, _, b := signIn(t, s, "coorda@example.org", "not the password at all"); st != 401 {
		t.Fatalf("failed login: %d %s", st, b)
	}
	res, b := s.Send(t, "POST", "/api/v1/children", `{"id":"AU1","site":"A","group":"comparison"}`,
		map[string]string{"Authorization": "Bearer " + s.Tokens["coordA"]})
	if res.StatusCode != 201 {
		t.Fatalf("child: %d %s", res.StatusCode, b)
	}
	createRequestID := res.Header.Get("X-Request-Id")
	if st, b := s.Do(t, "PUT", "/api/v1/responses/"+idA, sctRequest("AU1", "baseline", "2019-06-14", "submitted", firstAnswers), "coordA"); st != 201 {
		t.Fatalf("response: %d %s", st, b)
	}
	if st, b := s.Do(t, "GET", "/api/v1/responses/"+idA, "", "coordA"); st != 200 || !bytes.Contains(b, []byte(`"name":"Nan"`)) {
		t.Fatalf("read response: %d %s", st, b)
	}

	all := auditRows(t, s, "")
	t.Run("the actions are recorded with request id and remote address", func(t *testing.T) {
		wants := []struct {
			action, actor, target string
		}{
			{"login", coordA, "user:" + coordA},
			{"login_failed", "email:coorda@example.org", ""},
			{"child.create", coordA, "child:AU1"},
			{"response.read", coordA, "response:" + idA},
		}
		for _, w := range wants {
			i := slices.IndexFunc(all, func(e auditRow) bool { return e.Action == w.action && e.Actor == w.actor })
			if i < 0 {
				t.Errorf("no %s entry by %s in %+v", w.action, w.actor, all)
				continue
			}
			e := all[i]
			if e.Target != w.target || e.RequestID == "" || e.Remote == "" {
				t.Errorf("%s entry %+v; want target %q and request_id and remote set", w.action, e, w.target)
			}
		}
		i := slices.IndexFunc(all, func(e auditRow) bool { return e.Action == "child.create" })
		if i >= 0 && (all[i].RequestID != createRequestID || all[i].Site != "A" || all[i].Remote != "127.0.0.1") {
			t.Errorf("child.create entry %+v; want request id %q (as answered), site A, remote 127.0.0.1", all[i], createRequestID)
		}
	})

	t.Run("filters", func(t *testing.T) {
		filters := []struct {
			name, query string
			match       func(auditRow) bool
			mustHave    []string // actions
		}{
			{"by action", "action=login_failed", func(e auditRow) bool { return e.Action == "login_failed" }, []string{"login_failed"}},
			{"by actor", "actor=" + coordA, func(e auditRow) bool { return e.Actor == coordA }, []string{"login", "child.create", "response.put", "response.read"}},
			{"by actor and action", "actor=" + coordA + "&action=child.create", func(e auditRow) bool { return e.Actor == coordA && e.Action == "child.create" }, []string{"child.create"}},
			{"by target", "target=child:AU1", func(e auditRow) bool { return e.Target == "child:AU1" }, []string{"child.create"}},
			{"nothing matches", "action=no.such.action", func(auditRow) bool { return false }, nil},
		}
		for _, f := range filters {
			t.Run(f.name, func(t *testing.T) {
				rows := auditRows(t, s, f.query)
				for _, e := range rows {
					if !f.match(e) {
						t.Errorf("entry %+v does not fit %s", e, f.query)
					}
				}
				for _, a := range f.mustHave {
					if !slices.ContainsFunc(rows, func(e auditRow) bool { return e.Action == a }) {
						t.Errorf("%s lacks a %s entry: %+v", f.query, a, rows)
					}
				}
				if len(rows) >= len(all) {
					t.Errorf("%s gave %d of %d entries: not filtered", f.query, len(rows), len(all))
				}
			})
		}
	})

	t.Run("only administrators read it", func(t *testing.T) {
		var scs []servertest.Scenario
		for _, as := range []string{"coordA", "leadA", "coordB", "evaluator"} {
			scs = append(scs, servertest.Scenario{Name: as, As: as, Method: "GET", Path: "/api/v1/audit", Status: 403, Absent: []string{"login"}})
		}
		scs = append(scs, servertest.Scenario{Name: "nobody", Method: "GET", Path: "/api/v1/audit", Status: 401})
		servertest.RunScenarios(t, s, scs)
	})

	t.Run("no route changes or deletes entries", func(t *testing.T) {
		entry := all[len(all)-1]
		for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
			for _, path := range []string{"/api/v1/audit", "/api/v1/audit/" + entry.ID, "/api/v1/audit/anything"} {
				st, b := s.Do(t, method, path, `{"action":"nothing happened","entries":[]}`, "admin")
				if st != 404 && st != 405 {
					t.Errorf("%s %s: %d %s; want 404 or 405", method, path, st, b)
				}
			}
		}
		after := auditRows(t, s, "")
		if i := slices.IndexFunc(after, func(e auditRow) bool { return e.ID == entry.ID }); i < 0 || after[i] != entry {
			t.Errorf("entry %+v changed or went", entry)
		}
		if len(after) < len(all) {
			t.Errorf("%d entries, %d before", len(after), len(all))
		}
	})
}

func TestErasure_RemovesEverythingAboutTheChild(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	createChild(t, s, "coordA", "E1", "A")
	createChild(t, s, "coordA", "E2", "A")
	if st, b := s.Do(t, "PUT", "/api/v1/responses/"+idA, sctRequest("E1", "baseline", "2019-06-14", "submitted", firstAnswers), "coordA"); st != 201 {
		t.Fatalf("response: %d %s", st, b)
	}
	revised := strings.Replace(sctRequest("E1", "baseline", "2019-06-14", "submitted", firstAnswers), `"let_down":1`, `"let_down":2`, 1)
	if st, b := s.Do(t, "PUT", "/api/v1/responses/"+idA, revised, "coordA"); st != 200 {
		t.Fatalf("revision: %d %s", st, b)
	}
	// Another child's draft must survive.
	if st, b := s.Do(t, "PUT", "/api/v1/responses/"+idB,
		`{"form":"sct","version":"1","child_id":"E2","mode":"online","status":"draft","answers":{"nominees":[{"name":"Jo"}]}}`, "coordA"); st != 201 {
		t.Fatalf("other child's draft: %d %s", st, b)
	}
	openedCode, _, _ := openLink(t, s, "coordA", "E1")
	redeem(t, s, "young", openedCode)
	unusedCode, _, _ := openLink(t, s, "coordA", "E1")
	if got := sctSummaryOf(t, s, "timepoint=baseline"); got.Respondents != 1 {
		t.Fatalf("before erasure: %d respondents, want 1", got.Respondents)
	}

	servertest.RunScenarios(t, s, []servertest.Scenario{
		{Name: "a coordinator cannot erase", As: "coordA", Method: "DELETE", Path: "/api/v1/children/E1", Status: 403},
		{Name: "a site lead cannot erase", As: "leadA", Method: "DELETE", Path: "/api/v1/children/E1", Status: 403},
		{Name: "an evaluator cannot erase", As: "evaluator", Method: "DELETE", Path: "/api/v1/children/E1", Status: 403},
		{Name: "still there after the refusals", As: "coordA", Method: "GET", Path: "/api/v1/responses/" + idA, Status: 200},
		{Name: "the administrator erases", As: "admin", Method: "DELETE", Path: "/api/v1/children/E1", Status: 204},
		{Name: "the child is gone", As: "admin", Method: "GET", Path: "/api/v1/children/E1", Status: 404},
		{Name: "the child is gone for its coordinator", As: "coordA", Method: "GET", Path: "/api/v1/children/E1", Status: 404},
		{Name: "the response is gone", As: "coordA", Method: "GET", Path: "/api/v1/responses/" + idA, Status: 404},
		{Name: "the response is gone for the evaluator", As: "evaluator", Method: "GET", Path: "/api/v1/responses/" + idA, Status: 404},
		{Name: "its history is gone", As: "coordA", Method: "GET", Path: "/api/v1/responses/" + idA + "/revisions", Status: 404},
		{Name: "an opened link no longer works", As: "young", Method: "GET", Path: "/api/v1/responses/" + idA, Status: 401},
		{Name: "an unused link no longer works", Method: "POST", Path: "/api/v1/auth/session", Body: fmt.Sprintf(`{"code":%q}`, unusedCode), Status: 401},
		{Name: "erasing again is 404", As: "admin", Method: "DELETE", Path: "/api/v1/children/E1", Status: 404},
		{Name: "another child is untouched", As: "coordA", Method: "GET", Path: "/api/v1/children/E2", Status: 200},
		{Name: "another child's response is untouched", As: "coordA", Method: "GET", Path: "/api/v1/responses/" + idB, Status: 200, Want: []string{`"name":"Jo"`}},
	})
	if got := sctSummaryOf(t, s, "timepoint=baseline"); got.Respondents != 0 {
		t.Errorf("after erasure: %d respondents, want 0", got.Respondents)
	}
	t.Run("a child registered again under the same ID starts with no history", func(t *testing.T) {
		createChild(t, s, "coordA", "E1", "A")
		again := sctRequest("E1", "baseline", "2019-07-01", "submitted", `{"nominees":[{"name":"Kim","relationship":"friend"}]}`)
		if st, b := s.Do(t, "PUT", "/api/v1/responses/"+idA, again, "coordA"); st != 201 || !bytes.Contains(b, []byte(`"revision":1`)) {
			t.Fatalf("a new response under the old id: %d %s; want 201, revision 1", st, b)
		}
		st, b := s.Do(t, "GET", "/api/v1/responses/"+idA+"/revisions", "", "coordA")
		if st != 200 || bytes.Count(b, []byte(`"revision":`)) != 1 || bytes.Contains(b, []byte("Nan")) {
			t.Errorf("revisions after erasure and a new submission: %d %s; want only the new one", st, b)
		}
	})
	if rows := auditRows(t, s, "action=child.erase"); len(rows) != 1 || rows[0].Target != "child:E1" || rows[0].Actor != userIDOf(t, s, servertest.AdminEmail) {
		t.Errorf("child.erase entries %+v; want one by the admin with target child:E1", rows)
	}
}

func TestHTTP_SecurityHeadersAndClosedCORS(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.Login(t, "admin", servertest.AdminEmail, servertest.AdminPassword)
	token := s.Tokens["admin"]

	for _, tt := range []struct{ name, path string }{
		{"an API response", "/api/v1/forms"},
		{"the page", "/"},
		{"an API error", "/api/v1/auth/me"},
		{"an unknown API path", "/api/v1/nothing"},
	} {
		t.Run("security headers on "+tt.name, func(t *testing.T) {
			res, _ := s.Send(t, "GET", tt.path, "", nil)
			h := res.Header
			csp := h.Get("Content-Security-Policy")
			directives := map[string][]string{}
			for _, d := range strings.Split(csp, ";") {
				if f := strings.Fields(d); len(f) > 0 {
					directives[f[0]] = f[1:]
				}
			}
			if strings.Contains(csp, "'unsafe-inline'") || strings.Contains(csp, "'unsafe-eval'") {
				t.Errorf("CSP allows inline or eval'd script: %q", csp)
			}
			if src := directives["script-src"]; !slices.Contains(src, "'self'") || slices.Contains(src, "*") || slices.Contains(src, "data:") {
				t.Errorf("CSP script-src %q, want 'self' only; CSP %q", src, csp)
			}
			if fa := directives["frame-ancestors"]; !slices.Equal(fa, []string{"'none'"}) {
				t.Errorf("CSP frame-ancestors %q, want 'none'; CSP %q", fa, csp)
			}
			if v := h.Get("X-Content-Type-Options"); v != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", v)
			}
			if v := h.Get("X-Frame-Options"); v != "DENY" {
				t.Errorf("X-Frame-Options %q", v)
			}
			if v := h.Get("Referrer-Policy"); v == "" {
				t.Error("no Referrer-Policy")
			}
		})
	}

	evil := "https://evil.example"
	for _, tt := range []struct {
		name, method, path string
		header             map[string]string
	}{
		{"a preflight", "OPTIONS", "/api/v1/auth/login", map[string]string{"Origin": evil,
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}},
		{"a preflight of a signed-in route", "OPTIONS", "/api/v1/users", map[string]string{"Origin": evil,
			"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}},
		{"a simple GET", "GET", "/api/v1/forms", map[string]string{"Origin": evil}},
		{"a signed-in GET", "GET", "/api/v1/users", map[string]string{"Origin": evil, "Authorization": "Bearer " + token}},
	} {
		t.Run("CORS stays closed to "+tt.name, func(t *testing.T) {
			res, _ := s.Send(t, tt.method, tt.path, "", tt.header)
			for k := range res.Header {
				if strings.HasPrefix(http.CanonicalHeaderKey(k), "Access-Control-Allow-") {
					t.Errorf("%s: %q", k, res.Header.Get(k))
				}
			}
		})
	}
}

func TestUsers_AccountRules(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	user := func(email, role, sites, password string) string {
		return fmt.Sprintf(`{"email":%q,"role":%q,"sites":%s,"password":%q}`, email, role, sites, password)
	}
	noHash := []string{"password_hash", "$argon2", servertest.UserPassword}
	servertest.RunScenarios(t, s, []servertest.Scenario{
		{Name: "a weak password", As: "admin", Method: "POST", Path: "/api/v1/users", Status: 422,
			Body: user("w1@example.org", "coordinator", `["A"]`, "short"), Want: []string{`"path":"password"`}},
		{Name: "a password of one repeated character", As: "admin", Method: "POST", Path: "/api/v1/users", Status: 422,
			Body: user("w2@example.org", "coordinator", `["A"]`, strings.Repeat("a", 20)), Want: []string{`"path":"password"`}},
		{Name: "a common password", As: "admin", Method: "POST", Path: "/api/v1/users", Status: 422,
			Body:   user("w10@example.org", "coordinator", `["A"]`, "password1234"),
			Want:   []string{`"path":"password"`, "too easy to guess", "common password"},
			Absent: []string{"password1234"}},
		{Name: "a password built from the user's email", As: "admin", Method: "POST", Path: "/api/v1/users", Status: 422,
			Body:   user("jordan.mills@example.org", "evaluator", `[]`, "jordan.mills2024"),
			Want:   []string{`"path":"password"`, "too easy to guess", "email"},
			Absent: []string{"jordan.mills2024"}},
		{Name: "a coordinator without sites", As: "admin", Method: "POST", Path: "/api/v1/users", Status: 422,
			Body: user("w3@example.org", "coordinator", `[]`, servertest.UserPassword), Want: []string{`"path":"sites"`}},
		{Name: "a site lead with no sites field", As: "admin", Method: "POST", Path: "/api/v1/users", Status: 422,
			Body: `{"email":"w4@example.org","role":"site_lead","password":"` + servertest.UserPassword + `"}`, Want: []string{`"path":"sites"`}},
		{Name: "an evaluator with sites", As: "admin", Method: "POST", Path: "/api/v1/users", Status: 422,
			Body: user("w5@example.org", "evaluator", `["A"]`, servertest.UserPassword), Want: []string{`"path":"sites"`}},
		{Name: "an admin with sites", As: "admin", Method: "POST", Path: "/api/v1/users", Status: 422,
			Body: user("w6@example.org", "admin", `["A"]`, servertest.UserPassword), Want: []string{`"path":"sites"`}},
		{Name: "a site that does not exist", As: "admin", Method: "POST", Path: "/api/v1/users", Status: 422,
			Body: user("w7@example.org", "coordinator", `["A","Q"]`, servertest.UserPassword), Want: []string{`"path":"sites"`, "Q"}},
		{Name: "a site named twice", As: "admin", Method: "POST", Path: "/api/v1/users", Status: 422,
			Body: user("w11@example.org", "coordinator", `["A","B","A"]`, servertest.UserPassword), Want: []string{`"path":"sites[2]"`, "repeats A"}},
		{Name: "an unknown role", As: "admin", Method: "POST", Path: "/api/v1/users", Status: 422,
			Body: user("w8@example.org", "young_person", `[]`, servertest.UserPassword), Want: []string{`"path":"role"`}},
		{Name: "a duplicate email in other case", As: "admin", Method: "POST", Path: "/api/v1/users", Status: 409,
			Body: user("CoordA@Example.ORG", "coordinator", `["A"]`, servertest.UserPassword), Absent: noHash},
		{Name: "a coordinator may not add users", As: "coordA", Method: "POST", Path: "/api/v1/users", Status: 403,
			Body: user("w9@example.org", "admin", `[]`, servertest.UserPassword)},
		{Name: "a site lead may not add users", As: "leadA", Method: "POST", Path: "/api/v1/users", Status: 403,
			Body: user("w9@example.org", "coordinator", `["A"]`, servertest.UserPassword)},
		{Name: "an evaluator may not add users", As: "evaluator", Method: "POST", Path: "/api/v1/users", Status: 403,
			Body: user("w9@example.org", "admin", `[]`, servertest.UserPassword)},
		{Name: "nobody may not add users", Method: "POST", Path: "/api/v1/users", Status: 401,
			Body: user("w9@example.org", "admin", `[]`, servertest.UserPassword)},
		{Name: "a coordinator may not list users", As: "coordA", Method: "GET", Path: "/api/v1/users", Status: 403},
		{Name: "a valid user is created without its hash shown", As: "admin", Method: "POST", Path: "/api/v1/users", Status: 201,
			Body: user("New.Person@Example.org", "coordinator", `["A","B"]`, servertest.UserPassword),
			Want: []string{`"email":"new.person@example.org"`, `"role":"coordinator"`, `"sites":["A","B"]`}, Absent: noHash},
		{Name: "the list shows no hashes", As: "admin", Method: "GET", Path: "/api/v1/users", Status: 200,
			Want:   []string{`"email":"coorda@example.org"`, `"email":"new.person@example.org"`},
			Absent: append(slices.Clone(noHash), "w1@", "w3@", "w5@", "w7@", "w9@", "w10@", "w11@", "jordan.mills@")},
	})
	id := userIDOf(t, s, "new.person@example.org")
	servertest.RunScenarios(t, s, []servertest.Scenario{
		{Name: "a coordinator may not change users", As: "coordA", Method: "PATCH", Path: "/api/v1/users/" + id, Status: 403,
			Body: `{"role":"admin","sites":[]}`},
		{Name: "a change to a common password", As: "admin", Method: "PATCH", Path: "/api/v1/users/" + id, Status: 422,
			Body: `{"password":"Password123!"}`, Want: []string{`"path":"password"`, "common password"}},
		{Name: "a change to a password built from the user's stored email", As: "admin", Method: "PATCH", Path: "/api/v1/users/" + id, Status: 422,
			Body: `{"password":"new.person2024"}`, Want: []string{`"path":"password"`, "email"}},
		{Name: "a change naming a site twice", As: "admin", Method: "PATCH", Path: "/api/v1/users/" + id, Status: 422,
			Body: `{"sites":["B","B"]}`, Want: []string{`"path":"sites[1]"`, "repeats B"}},
		{Name: "a change answers without the hash", As: "admin", Method: "PATCH", Path: "/api/v1/users/" + id, Status: 200,
			Body: `{"password":"another long enough password"}`, Want: []string{`"id":"` + id + `"`}, Absent: noHash},
	})
	if st, out, b := signIn(t, s, "new.person@example.org", "another long enough password"); st != 200 || bytes.Contains(b, []byte("password_hash")) {
		t.Errorf("sign-in with the changed password: %d %v", st, out)
	}
}

// The audit trail comes a page at a time: next leads to the entries after
// the page, and odd cursors and limits are refused naming the field.
func TestAudit_PagesOverHTTP(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t) // sign-ins and account changes: a dozen entries
	var all []string
	path := "/api/v1/audit?limit=3"
	for pages := 0; ; pages++ {
		status, body := s.Do(t, "GET", path, "", "admin")
		if status != 200 {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		var page struct {
			Entries []struct{ ID string }
			Next    string
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			all = append(all, e.ID)
		}
		if page.Next == "" {
			break
		}
		if len(page.Entries) != 3 || pages > 50 {
			t.Fatalf("page %d has %d entries and a next", pages, len(page.Entries))
		}
		path = "/api/v1/audit?limit=3&before=" + url.QueryEscape(page.Next)
	}
	status, body := s.Do(t, "GET", "/api/v1/audit", "", "admin")
	var whole struct{ Entries []struct{ ID string } }
	if err := json.Unmarshal(body, &whole); status != 200 || err != nil {
		t.Fatalf("one page: %d %s", status, body)
	}
	if len(all) < 10 || len(all) != len(whole.Entries) {
		t.Fatalf("%d entries over pages of 3, %d in one page of the default size", len(all), len(whole.Entries))
	}
	for i := range all {
		if all[i] != whole.Entries[i].ID {
			t.Fatalf("entry %d differs between the pages and one page", i)
		}
	}
	servertest.RunScenarios(t, s, []servertest.Scenario{
		{Name: "a cursor not made by the server", As: "admin", Method: "GET", Path: "/api/v1/audit?before=yesterday", Status: 400,
			Want: []string{`"path":"before"`}},
		{Name: "a page over the limit", As: "admin", Method: "GET", Path: "/api/v1/audit?limit=1001", Status: 400,
			Want: []string{`"path":"limit"`}},
	})
}

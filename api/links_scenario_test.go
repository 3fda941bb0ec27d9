package api_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/server/servertest"
)

// sendToHost sends a request as the signed-in user as, with the Host header
// host ("" leaves the server's own) and the given other headers.
func sendToHost(t *testing.T, s *servertest.Server, as, method, path, body, host string, header map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.Base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+s.Tokens[as])
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// linkRoutes are the requests that make links, and where the link is in
// their answer.
var linkRoutes = []struct {
	name, path, body, field, after string
}{
	{name: "young-person link", path: "/api/v1/children/L1/sessions", body: `{}`, field: "link", after: "/#join="},
	{name: "calendar address", path: "/api/v1/calendar", field: "url", after: "/api/v1/calendar/"},
}

// storedSessions counts the young-person links in the store, by pruning
// every one of them as if a year had passed: call it last.
func storedSessions(t *testing.T, s *servertest.Server) int64 {
	t.Helper()
	res, err := s.Store.PruneExpired(context.Background(), time.Now().AddDate(1, 0, 0), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return res.Sessions
}

// calendarWorks reports whether a calendar address still gives the feed.
func calendarWorks(t *testing.T, s *servertest.Server, address string) bool {
	t.Helper()
	// The address may name another host: ask this server for its path.
	i := strings.Index(address, "/api/v1/calendar/")
	if i < 0 {
		t.Fatalf("calendar address %q has no feed path", address)
	}
	res, err := http.Get(s.Base + address[i:])
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// Without a public URL, a link is made only for a request addressed to the
// listen address (or localhost on its port) or to an allow-listed host, and
// always over http here: no header makes it https or names another host.
// Any other Host is refused with 421 before anything is stored.
func TestLinks_WithoutPublicURLOnlyKnownHostsAreBelieved(t *testing.T) {
	s, err := servertest.StartWith(t, t.TempDir(), forms.FS(), func(c *config.Settings) {
		c.AllowedHosts = "SCT.Internal.Example, sct.internal.example:8443"
	})
	if err != nil {
		t.Fatal(err)
	}
	s.AddUsers(t)
	createChild(t, s, "coordA", "L1", "A")
	own := strings.TrimPrefix(s.Base, "http://")
	_, port, _ := strings.Cut(own, ":")

	tests := []struct {
		name   string
		host   string // "" : the listen address
		header map[string]string
		want   string // the link's start; "" : refused with 421
	}{
		{name: "the listen address", want: "http://" + own},
		{name: "localhost on the listen port", host: "localhost:" + port, want: "http://localhost:" + port},
		{name: "localhost in capitals", host: "LOCALHOST:" + port, want: "http://localhost:" + port},
		{name: "an allow-listed host", host: "sct.internal.example", want: "http://sct.internal.example"},
		{name: "an allow-listed host in other case", host: "Sct.INTERNAL.example", want: "http://sct.internal.example"},
		{name: "an allow-listed host:port", host: "sct.internal.example:8443", want: "http://sct.internal.example:8443"},
		{name: "the listen address with X-Forwarded-Proto https stays http", header: map[string]string{
			"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on", "X-Url-Scheme": "https", "X-Forwarded-Protocol": "https",
		}, want: "http://" + own},
		{name: "the listen address with X-Forwarded-Host names no other host", header: map[string]string{
			"X-Forwarded-Host": "evil.example", "Forwarded": "host=evil.example;proto=https",
		}, want: "http://" + own},

		{name: "a forged Host", host: "evil.example"},
		{name: "a forged Host with a port", host: "evil.example:" + port},
		{name: "a forged Host with X-Forwarded-Host and X-Forwarded-Proto", host: "evil.example", header: map[string]string{
			"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https",
		}},
		{name: "a forged Host with an allow-listed X-Forwarded-Host", host: "evil.example", header: map[string]string{
			"X-Forwarded-Host": "sct.internal.example",
		}},
		{name: "an allow-listed name on another port", host: "sct.internal.example:9999"},
		{name: "the listen host on another port", host: "127.0.0.1:1"},
		{name: "the listen host without its port", host: "127.0.0.1"},
		{name: "an allow-listed name as a suffix", host: "evil-sct.internal.example"},
	}
	// A calendar address made before: a refused request must not replace it.
	st, b := s.Do(t, "POST", "/api/v1/calendar", "", "coordA")
	if st != http.StatusCreated {
		t.Fatalf("first calendar: %d %s", st, b)
	}
	calendar, _ := jsonObject(t, b)["url"].(string)
	made := 0
	for _, tt := range tests {
		for _, r := range linkRoutes {
			t.Run(tt.name+": "+r.name, func(t *testing.T) {
				status, body := sendToHost(t, s, "coordA", http.MethodPost, r.path, r.body, tt.host, tt.header)
				if tt.want == "" {
					if status != http.StatusMisdirectedRequest {
						t.Fatalf("status %d, want 421; body %s", status, body)
					}
					msg, _ := jsonObject(t, body)["error"].(string)
					if !strings.Contains(msg, "SCT_PUBLIC_URL") {
						t.Errorf("error %q does not tell the administrator to set SCT_PUBLIC_URL", msg)
					}
					for _, leak := range []string{"#join=", "/api/v1/calendar/", "evil", "qr_png", `"code"`} {
						if strings.Contains(string(body), leak) {
							t.Errorf("the refusal shows %q: %s", leak, body)
						}
					}
					if r.field == "url" && !calendarWorks(t, s, calendar) {
						t.Error("the refused request replaced the caller's calendar address")
					}
					return
				}
				if status != http.StatusCreated {
					t.Fatalf("status %d, want 201; body %s", status, body)
				}
				got, _ := jsonObject(t, body)[r.field].(string)
				if !strings.HasPrefix(got, tt.want+r.after) {
					t.Errorf("%s %q, want it to start with %q", r.field, got, tt.want+r.after)
				}
				if r.field == "url" {
					calendar = got
					if !calendarWorks(t, s, got) {
						t.Errorf("the calendar address %q gives no feed", got)
					}
				} else {
					made++
				}
			})
		}
	}
	if n := storedSessions(t, s); n != int64(made) {
		t.Errorf("%d young-person links stored, want %d: a refused request stored one", n, made)
	}
}

// With a public URL, every link starts with it, whatever the request's Host
// and forwarding headers say.
func TestLinks_PublicURLIsUsedWhateverTheRequestSays(t *testing.T) {
	s, err := servertest.StartWith(t, t.TempDir(), forms.FS(), func(c *config.Settings) {
		c.PublicURL = "https://SCT.example.org/" // the trailing slash is not doubled
		c.AllowedHosts = "sct.internal.example"  // not used with a public URL
	})
	if err != nil {
		t.Fatal(err)
	}
	s.AddUsers(t)
	createChild(t, s, "coordA", "L1", "A")
	tests := []struct {
		name   string
		host   string
		header map[string]string
	}{
		{name: "the listen address"},
		{name: "a forged Host", host: "evil.example"},
		{name: "a forged Host with X-Forwarded-Host", host: "evil.example", header: map[string]string{
			"X-Forwarded-Host": "evil2.example", "X-Forwarded-Proto": "http", "Forwarded": "host=evil3.example;proto=http",
		}},
		{name: "an allow-listed host", host: "sct.internal.example"},
	}
	for _, tt := range tests {
		for _, r := range linkRoutes {
			t.Run(tt.name+": "+r.name, func(t *testing.T) {
				status, body := sendToHost(t, s, "coordA", http.MethodPost, r.path, r.body, tt.host, tt.header)
				if status != http.StatusCreated {
					t.Fatalf("status %d, want 201; body %s", status, body)
				}
				out := jsonObject(t, body)
				got, _ := out[r.field].(string)
				if want := "https://sct.example.org" + r.after; !strings.HasPrefix(got, want) {
					t.Errorf("%s %q, want it to start with %q", r.field, got, want)
				}
				if strings.Contains(string(body), "evil") || strings.Contains(string(body), "internal") {
					t.Errorf("the answer names a host from the request: %s", body)
				}
				if r.field == "link" {
					if qr, _ := out["qr_png"].(string); !strings.HasPrefix(qr, "data:image/png;base64,") {
						t.Errorf("qr_png %.60q, want a PNG data URL", qr)
					}
				} else if !calendarWorks(t, s, got) {
					t.Errorf("the calendar address %q gives no feed here", got)
				}
			})
		}
	}
}

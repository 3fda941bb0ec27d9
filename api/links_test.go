package api

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestPublicBase(t *testing.T) {
	public, _ := url.Parse("https://sct.example.org")
	withSlash, _ := url.Parse("https://sct.example.org:8443/")
	tests := []struct {
		name    string
		public  *url.URL
		allowed []string
		host    string
		tls     bool
		header  map[string]string
		want    string // "" : refused
	}{
		{name: "the public URL whatever the Host", public: public, host: "evil.example", want: "https://sct.example.org"},
		{name: "the public URL whatever the forwarding headers", public: public, host: "evil.example",
			header: map[string]string{"X-Forwarded-Host": "evil2.example", "X-Forwarded-Proto": "http", "Forwarded": "host=evil3.example"},
			want:   "https://sct.example.org"},
		{name: "the public URL over TLS stays as set", public: public, host: "sct.example.org", tls: true, want: "https://sct.example.org"},
		{name: "the public URL's trailing slash is dropped", public: withSlash, host: "x", want: "https://sct.example.org:8443"},
		{name: "an allowed Host over plain HTTP", allowed: []string{"127.0.0.1:8080"}, host: "127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{name: "an allowed Host over TLS", allowed: []string{"sct.example.org"}, host: "sct.example.org", tls: true, want: "https://sct.example.org"},
		{name: "an allowed Host in other case", allowed: []string{"SCT.example.org"}, host: "sct.EXAMPLE.org", want: "http://sct.example.org"},
		{name: "X-Forwarded-Proto does not make it https", allowed: []string{"sct.example.org"}, host: "sct.example.org",
			header: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on", "X-Url-Scheme": "https"},
			want:   "http://sct.example.org"},
		{name: "an unknown Host", allowed: []string{"sct.example.org"}, host: "evil.example"},
		{name: "an unknown Host with an allowed X-Forwarded-Host", allowed: []string{"sct.example.org"}, host: "evil.example",
			header: map[string]string{"X-Forwarded-Host": "sct.example.org"}},
		{name: "an allowed name on another port", allowed: []string{"sct.example.org"}, host: "sct.example.org:81"},
		{name: "an empty Host", allowed: []string{"sct.example.org"}, host: ""},
		{name: "nothing allowed and no public URL", host: "127.0.0.1:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lk, err := newLinks(tt.public, tt.allowed)
			if err != nil {
				t.Fatal(err)
			}
			h := &handlers{links: lk, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			req := httptest.NewRequest(http.MethodPost, "/api/v1/calendar", nil)
			req.Host = tt.host
			if tt.tls {
				req.TLS = &tls.ConnectionState{}
			} else {
				req.TLS = nil
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			got, err := h.publicBase(echo.New().NewContext(req, httptest.NewRecorder()))
			if tt.want == "" {
				var pe problemError
				if !errors.As(err, &pe) || pe.p.Status != http.StatusMisdirectedRequest || got != "" {
					t.Fatalf("publicBase = %q, %v; want a 421 refusal", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("publicBase = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// The API refuses a public URL that is not just a scheme and a host.
func TestNew_RefusesAPublicURLWithMore(t *testing.T) {
	for _, raw := range []string{"ftp://sct.example.org", "https://", "https://sct.example.org/sct", "https://sct.example.org?a=1",
		"https://sct.example.org#x", "https://user:pw@sct.example.org", "sct.example.org"} {
		t.Run(raw, func(t *testing.T) {
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := newLinks(u, nil); err == nil || strings.Contains(err.Error(), "pw") {
				t.Errorf("newLinks(%q) = %v; want a refusal that hides any password", raw, err)
			}
		})
	}
}

// Through the whole API: a forged Host gets the error envelope, with no link,
// and the test server's own address gets one.
func TestCreateSession_ForgedHostIsMisdirected(t *testing.T) {
	f := newFixture(t)
	post := func(host string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/v1/children/CA1/sessions", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+f.tokens["coordinator A"])
		req.Header.Set("X-Forwarded-Host", "evil2.example")
		req.Header.Set("X-Forwarded-Proto", "https")
		if host != "" {
			req.Host = host
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	status, body := post("evil.example")
	var p struct {
		Error string `json:"error"`
	}
	if status != http.StatusMisdirectedRequest || json.Unmarshal([]byte(body), &p) != nil || !strings.Contains(p.Error, "SCT_PUBLIC_URL") {
		t.Errorf("forged Host: %d %s; want 421 telling the administrator to set SCT_PUBLIC_URL", status, body)
	}
	if strings.Contains(body, "#join=") || strings.Contains(body, "evil") {
		t.Errorf("the refusal shows a link or the forged host: %s", body)
	}
	status, body = post("")
	if status != http.StatusCreated || !strings.Contains(body, `"link":"`+f.srv.URL+`/#join=`) {
		t.Errorf("own address: %d %s; want 201 with a link to %s", status, body, f.srv.URL)
	}
}

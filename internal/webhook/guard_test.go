package webhook_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/webhook"
)

// names is a resolver with fixed answers, standing in for DNS.
type names map[string][]string

func (n names) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := n[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

var dns = names{
	"receiver.example.org": {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
	"localhost":            {"127.0.0.1", "::1"},
	"inside.example.org":   {"10.1.2.3"},
	"mixed.example.org":    {"93.184.216.34", "192.168.1.5"},
	"intranet":             {"10.9.9.9"},
}

func TestGuard_RefusesTargetsOffThePublicInternet(t *testing.T) {
	none, _ := webhook.ParseAllow("")
	for _, c := range []struct{ name, url string }{
		{"IPv4 loopback", "https://127.0.0.1/hook"},
		{"IPv4 loopback elsewhere in 127/8", "https://127.9.9.9/hook"},
		{"IPv6 loopback", "https://[::1]/hook"},
		{"private 10/8", "https://10.0.0.5/hook"},
		{"private 172.16/12", "https://172.20.1.1/hook"},
		{"private 192.168/16", "https://192.168.0.10/hook"},
		{"link-local (cloud metadata)", "https://169.254.169.254/latest/meta-data"},
		{"IPv4-mapped IPv6 loopback", "https://[::ffff:127.0.0.1]/hook"},
		{"IPv4-mapped IPv6 private", "https://[::ffff:10.0.0.1]/hook"},
		{"IPv6 unique local", "https://[fd00::1]/hook"},
		{"IPv6 link-local", "https://[fe80::1]/hook"},
		{"unspecified IPv4", "https://0.0.0.0/hook"},
		{"unspecified IPv6", "https://[::]/hook"},
		{"multicast IPv4", "https://224.0.0.1/hook"},
		{"multicast IPv6", "https://[ff02::1]/hook"},
		{"carrier-grade NAT", "https://100.64.0.1/hook"},
		{"broadcast", "https://255.255.255.255/hook"},
		{"NAT64 of loopback", "https://[64:ff9b::7f00:1]/hook"},
		{"6to4 of a private address", "https://[2002:a00:1::1]/hook"},
		{"Teredo", "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook"},
		{"IPv6 benchmarking", "https://[2001:2::1]/hook"},
		{"IPv4-translated (SIIT) private", "https://[::ffff:0:a00:1]/hook"},
		{"IPv4-translated (SIIT) loopback", "https://[::ffff:0:127.0.0.1]/hook"},
		{"6to4 relay anycast", "https://192.88.99.1/hook"},
		{"ORCHID", "https://[2001:10::1]/hook"},
		{"ORCHIDv2", "https://[2001:20::1]/hook"},
		{"IPv6 documentation (3fff::/20)", "https://[3fff::1]/hook"},
		{"SRv6 segment", "https://[5f00::1]/hook"},
		{"a name resolving to loopback", "https://localhost/hook"},
		{"a name resolving to a private address", "https://inside.example.org/hook"},
		{"a name with one private address among public ones", "https://mixed.example.org/hook"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := none.CheckURL(t.Context(), dns, c.url)
			if !errors.Is(err, webhook.ErrRefused) {
				t.Fatalf("%s: %v, want refused", c.url, err)
			}
			if !strings.Contains(err.Error(), "SCT_WEBHOOK_ALLOW") {
				t.Errorf("the reason does not say how to allow it: %v", err)
			}
		})
	}
}

func TestGuard_ChecksTheURLsShape(t *testing.T) {
	none, _ := webhook.ParseAllow("")
	for _, c := range []struct{ name, url, reason string }{
		{"public https", "https://receiver.example.org/hook", ""},
		{"public https on a port", "https://receiver.example.org:8443/hook?x=1", ""},
		{"public address", "https://93.184.216.34/hook", ""},
		{"public IPv6 address next to Teredo's", "https://[2001:4860:4860::8888]/hook", ""},
		{"plain http to a public host", "http://receiver.example.org/hook", "https://"},
		{"another scheme", "ftp://receiver.example.org/hook", "https://"},
		{"relative", "/hook", "absolute URL"},
		{"not a URL", "https://receiver.example.org:port/", "absolute URL"},
		{"a user name", "https://user:pass@receiver.example.org/hook", "user name"},
		{"a name that does not resolve", "https://nowhere.example.org/hook", "does not resolve"},
		{"port zero", "https://receiver.example.org:0/hook", "port"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := none.CheckURL(t.Context(), dns, c.url)
			switch {
			case c.reason == "" && err != nil:
				t.Fatalf("%s: %v, want it taken", c.url, err)
			case c.reason != "" && (err == nil || !strings.Contains(err.Error(), c.reason)):
				t.Fatalf("%s: %v, want a reason with %q", c.url, err, c.reason)
			}
		})
	}
}

func TestGuard_AllowListOpensHostsAndRangesAndPlainHTTPThere(t *testing.T) {
	g, err := webhook.ParseAllow(" localhost, 10.0.0.0/8 ,::1, Intranet.")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{
		"http://localhost:8080/hook", "https://localhost/hook", "http://10.2.3.4/hook", "http://inside.example.org/hook",
		"http://[::1]:9000/hook", "http://intranet/hook",
	} {
		if err := g.CheckURL(t.Context(), dns, u); err != nil {
			t.Errorf("%s: %v, want it allowed", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1/hook", "https://192.168.0.1/hook", "http://receiver.example.org/hook"} {
		if err := g.CheckURL(t.Context(), dns, u); err == nil {
			t.Errorf("%s is allowed; the list does not name it", u)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "not a host!", "-bad-.example.org"} {
		if _, err := webhook.ParseAllow(bad); err == nil {
			t.Errorf("allow list %q parses", bad)
		}
	}
}

// A name that resolved to a public address when the webhook was registered
// and to loopback now (DNS rebinding) is refused when connecting: the
// check is made on the address connected to.
func TestGuard_RefusesOnConnectingWhateverTheRegistrationSaw(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	rebinding := names{"rebind.example.org": {"93.184.216.34"}}
	none, _ := webhook.ParseAllow("")
	if err := none.CheckURL(t.Context(), rebinding, "https://rebind.example.org/hook"); err != nil {
		t.Fatalf("at registration: %v", err)
	}
	client := webhook.NewClient(none, 2*time.Second)
	for _, target := range []string{
		"http://localhost:" + port + "/hook", // a name that resolves to loopback now
		"http://127.0.0.1:" + port + "/hook",
		"http://[::ffff:127.0.0.1]:" + port + "/hook",
	} {
		res, err := client.Post(target, "application/json", strings.NewReader("{}"))
		if err == nil {
			res.Body.Close()
			t.Errorf("%s: connected (status %d), want refused", target, res.StatusCode)
		} else if !errors.Is(err, webhook.ErrRefused) {
			t.Errorf("%s: %v, want refused by the guard", target, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the receiver on loopback was reached %d times", hits.Load())
	}
	allowed, _ := webhook.ParseAllow("localhost")
	res, err := webhook.NewClient(allowed, 2*time.Second).Post("http://localhost:"+port+"/hook", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("an allowed host: %v", err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if hits.Load() != 1 {
		t.Fatalf("the allowed receiver was reached %d times, want 1", hits.Load())
	}
}

func TestClient_DoesNotFollowRedirects(t *testing.T) {
	var reached atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Store(true) }))
	defer target.Close()
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer srv.Close()
	g, _ := webhook.ParseAllow("127.0.0.1")
	res, err := webhook.NewClient(g, 2*time.Second).Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTemporaryRedirect || reached.Load() {
		t.Fatalf("status %d, redirect followed %v; want the 307 itself", res.StatusCode, reached.Load())
	}
}

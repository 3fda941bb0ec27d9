package webhook_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/webhook"
)

// Plain http is allowed only for a target in SCT_WEBHOOK_ALLOW, and that
// is checked again on connecting: a name that resolved inside an allowed
// range at registration and to a public address now is refused, so the
// signed body never goes out unencrypted.
func TestGuard_PlainHTTPToAPublicAddressIsRefusedOnConnecting(t *testing.T) {
	inside, _ := webhook.ParseAllow("10.0.0.0/8")
	rebind := names{"rebind.example.org": {"10.1.2.3"}}
	if err := inside.CheckURL(t.Context(), rebind, "http://rebind.example.org/hook"); err != nil {
		t.Fatalf("setup: %v", err)
	}
	// Later the name answers a public address: the connection is allowed
	// (it fails here only for want of a network), and it is plain http.
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	c, err := inside.DialContext(ctx, "tcp", "93.184.216.34:80")
	if c != nil {
		c.Close()
	}
	if !errors.Is(err, webhook.ErrRefused) {
		t.Errorf("a plain-http delivery to a public address after rebinding is not refused on connecting (dial: %v)", err)
	}
}

// Over TLS a public address is allowed on connecting (the connection here
// fails only for want of a network), a loopback one only when allowed, and
// then the certificate is checked and the request is made.
func TestGuard_TLSConnectsToPublicAddressesAndAllowedOnesOnly(t *testing.T) {
	none, _ := webhook.ParseAllow("")
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	c, err := none.DialTLSContext(ctx, "tcp", "93.184.216.34:443", nil)
	if c != nil {
		c.Close()
	}
	if errors.Is(err, webhook.ErrRefused) {
		t.Errorf("TLS to a public address is refused: %v", err)
	}

	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes refused on purpose
	srv.StartTLS()
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	roots := &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	if c, err := none.DialTLSContext(t.Context(), "tcp", addr, roots); !errors.Is(err, webhook.ErrRefused) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("TLS to loopback, not allowed: %v, want refused", err)
	}
	loop, _ := webhook.ParseAllow("127.0.0.1")
	c, err = loop.DialTLSContext(t.Context(), "tcp", addr, roots)
	if err != nil {
		t.Fatalf("TLS to an allowed address: %v", err)
	}
	c.Close()
	// With the system's roots the test server's certificate is not trusted.
	res, err := webhook.NewClient(loop, 2*time.Second).Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err == nil {
		res.Body.Close()
		t.Fatal("a certificate no root signed was accepted")
	}
	if hits.Load() != 0 {
		t.Fatalf("the server was reached %d times", hits.Load())
	}
}

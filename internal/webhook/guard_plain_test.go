package webhook_test

import (
	"context"
	"errors"
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

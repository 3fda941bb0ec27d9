package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/webhook"
)

// verify checks a delivery as the Standard Webhooks specification tells a
// receiver to, written here from the specification alone: the key is the
// base64 after "whsec_"; the signed content is id "." timestamp "." body;
// webhook-signature is a space-separated list of "v1,<base64 HMAC-SHA256>",
// any of which may match; the timestamp (unix seconds) must be near now.
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", ts, err)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is too far from now", ts)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, sig, _ := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no signature matches")
}

func TestSign_VerifiesAsTheSpecificationSays(t *testing.T) {
	secret, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if !strings.HasPrefix(secret, "whsec_") || err != nil || len(key) < 24 || len(key) > 64 {
		t.Fatalf("secret %q: want whsec_ and the base64 of 24 to 64 bytes (%v)", secret, err)
	}
	if other, _ := webhook.NewSecret(); other == secret {
		t.Fatal("two secrets are the same")
	}
	at := time.Now()
	body := []byte(`{"type":"response.submitted","data":{"child_id":"C1"}}`)
	sig, err := webhook.Sign(secret, "msg_1", at, body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_1")
	h.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	h.Set("webhook-signature", sig)
	if err := verify(secret, h, body, at); err != nil {
		t.Fatalf("the signature does not verify: %v", err)
	}
	for name, change := range map[string]func(){
		"another body":      func() { body = append(body, ' ') },
		"another id":        func() { h.Set("webhook-id", "msg_2") },
		"another timestamp": func() { h.Set("webhook-timestamp", strconv.FormatInt(at.Unix()+1, 10)) },
	} {
		t.Run(name, func(t *testing.T) {
			saved, savedID, savedTS := body, h.Get("webhook-id"), h.Get("webhook-timestamp")
			defer func() { body = saved; h.Set("webhook-id", savedID); h.Set("webhook-timestamp", savedTS) }()
			body = append([]byte(nil), body...)
			change()
			if err := verify(secret, h, body, at); err == nil {
				t.Fatal("a changed message still verifies")
			}
		})
	}
}

// The example of the specification's reference libraries: a receiver using
// them takes what this server signs.
func TestSign_MatchesTheReferenceExample(t *testing.T) {
	sig, err := webhook.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; sig != want {
		t.Fatalf("signature %s, want %s", sig, want)
	}
}

func TestSign_RefusesASecretNotWrittenAsTheSpecificationSays(t *testing.T) {
	for _, s := range []string{"", "secret", "whsec_not base64!"} {
		if _, err := webhook.Sign(s, "msg_1", time.Now(), nil); err == nil {
			t.Errorf("secret %q signs", s)
		}
	}
}

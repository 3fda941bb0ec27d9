package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// secretPrefix starts a signing secret, as the Standard Webhooks
// specification writes them: the key's bytes follow, in base64.
const secretPrefix = "whsec_"

// secretBytes is the length of a new key: the specification asks for 24 to
// 64 bytes.
const secretBytes = 32

// NewSecret makes a signing secret: "whsec_" and the base64 of 32 random
// bytes.
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// key is the HMAC key a secret holds.
func key(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, errors.New("signing secret: does not start with " + secretPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, errors.New("signing secret: not base64 after " + secretPrefix)
	}
	return b, nil
}

// Sign returns the webhook-signature header of a message, as the Standard
// Webhooks specification makes it: "v1," and the base64 of the
// HMAC-SHA256, keyed with the secret's bytes, of id "." timestamp (unix
// seconds) "." body.
func Sign(secret, id string, at time.Time, body []byte) (string, error) {
	k, err := key(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, k)
	mac.Write([]byte(id + "." + strconv.FormatInt(at.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

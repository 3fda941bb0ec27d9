package submission

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/lifelong-links/sct/internal/store"
)

// The body hash is the one stored responses already carry: the hash of the
// JSON array of the envelope's fields and the answers.
func TestHashOf_SameAsStoredBefore(t *testing.T) {
	r := store.Response{Form: "sct", Version: "1", ChildID: "C1", Timepoint: "baseline", Wave: 1, CompletedOn: "2019-06-14",
		Mode: "paper", Status: "submitted", Answers: map[string]any{"adequacy": map[string]any{"trust": int64(3)}, "nominees": []any{}}}
	whole, _ := json.Marshal([]any{r.Form, r.Version, r.ChildID, r.Timepoint, r.Wave, r.CompletedOn, r.Mode, r.Status, r.Answers})
	want := sha256.Sum256(whole)
	answers, _ := json.Marshal(r.Answers)
	if got := hashOf(r, answers); got != hex.EncodeToString(want[:]) {
		t.Errorf("hash %s, want %x", got, want)
	}
}

// A response in another language than English hashes differently from the
// same answers in English, which hash as they did before languages were
// kept.
func TestHashOf_LanguageCountsOnlyWhenNotEnglish(t *testing.T) {
	r := store.Response{Form: "sct", Version: "1", ChildID: "C1", Timepoint: "baseline", Wave: 1, CompletedOn: "2019-06-14",
		Mode: "paper", Status: "submitted"}
	answers := []byte(`{"nominees":[]}`)
	before := hashOf(r, answers)
	r.Language = "en"
	if got := hashOf(r, answers); got != before {
		t.Errorf("English hashes %s, before languages were kept %s", got, before)
	}
	r.Language = "cy"
	if got := hashOf(r, answers); got == before {
		t.Error("Welsh hashes as English")
	}
}

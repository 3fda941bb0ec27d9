package submission_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/lifelong-links/sct/internal/submission"
)

// The language a response was completed in is kept with it, canonical and
// one the form version has; the answers' codes are the same in every
// language.
func TestPut_RecordsTheLanguage(t *testing.T) {
	tests := []struct {
		name, lang, want string
	}{
		{"absent is English", "", "en"},
		{"Welsh", "cy", "cy"},
		{"canonicalised once", "AR", "ar"},
		{"a region reads its language", "ar-EG", "ar"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			child := "L" + string(rune('A'+i))
			h.child(t, child)
			id := uuid.NewString()
			got := h.put(t, id, with(sct(child, "baseline", "2019-06-14", sctAnswers(t)), func(r *submission.Request) { r.Language = tt.lang }), submission.Created)
			if got.LanguageOrDefault() != tt.want {
				t.Errorf("returned language %q, want %q", got.Language, tt.want)
			}
			if st := h.stored(t, id); st.LanguageOrDefault() != tt.want || nomineesOf(t, st.Answers) != 3 {
				t.Errorf("stored language %q with %d nominees, want %q and 3", st.Language, nomineesOf(t, st.Answers), tt.want)
			}
		})
	}
}

func TestPut_RefusesALanguageTheFormDoesNotHave(t *testing.T) {
	for _, lang := range []string{"fr", "not a tag"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t)
			h.child(t, "LX")
			id := uuid.NewString()
			_, _, err := h.svc.Put(h.ctx, id, with(sct("LX", "baseline", "2019-06-14", sctAnswers(t)), func(r *submission.Request) { r.Language = lang }), submission.Reach{})
			var inv *submission.InvalidError
			if !errors.As(err, &inv) || len(inv.Faults) != 1 || inv.Faults[0].Path != "language" || !strings.Contains(inv.Faults[0].Reason, "its languages: en, ar, cy") {
				t.Fatalf("error %v, want one fault at language naming en, ar, cy", err)
			}
			h.absent(t, id)
		})
	}
}

// An English body hashes as it did before languages were kept, so a retry
// of one stored then is still a retry; the same answers in another
// language are a change.
func TestPut_LanguageIsPartOfTheBody(t *testing.T) {
	h := newHarness(t)
	h.child(t, "LH")
	id := uuid.NewString()
	req := draft(sct("LH", "baseline", "2019-06-14", sctAnswers(t)))
	h.put(t, id, req, submission.Created)
	h.put(t, id, with(req, func(r *submission.Request) { r.Language = "en" }), submission.Unchanged)
	got := h.put(t, id, with(req, func(r *submission.Request) { r.Language = "cy" }), submission.Revised)
	if got.Language != "cy" || h.stored(t, id).Language != "cy" {
		t.Errorf("language %q, stored %q; want cy", got.Language, h.stored(t, id).Language)
	}
}

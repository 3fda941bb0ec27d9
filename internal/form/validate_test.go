package form

import (
	"strings"
	"testing"
)

// A text answer may not hold control characters or explicit direction
// overrides (they would turn the direction of whatever is shown after it);
// tabs, line breaks and the plain direction marks are fine.
func TestValidate_TextRefusesControlsAndDirectionOverrides(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		ok         bool
	}{
		{"plain", "Nan", true},
		{"Arabic with a right-to-left mark", "نان\u200f", true},
		{"a line break", "Nan\nand Grandad", true},
		{"right-to-left override", "Eve\u202e", false},
		{"left-to-right embedding", "\u202aEve", false},
		{"first-strong isolate", "Eve\u2068", false},
		{"NUL", "Eve\x00", false},
		{"escape", "Eve\x1b[31m", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &Field{Name: "name", Type: TypeText, MaxLength: 60}
			v := &validation{}
			_, ok := v.value(f, "answers.name", tt.text)
			if ok != tt.ok {
				t.Errorf("accepted = %v, want %v (faults %v)", ok, tt.ok, v.errs)
			}
			if !ok && (len(v.errs) != 1 || !strings.Contains(v.errs[0].Reason, "control character U+")) {
				t.Errorf("faults %v, want one naming the character", v.errs)
			}
		})
	}
}

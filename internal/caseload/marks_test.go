package caseload

import (
	"testing"

	"github.com/lifelong-links/sct/internal/participation"
)

// A child's row of Table 7, each count 0 or 1, is held in a byte and reads
// back as the row it was.
func TestRowMarks_ReadBackAsTheRow(t *testing.T) {
	for m := range 64 {
		bit := func(i int) int { return m >> i & 1 }
		row := participation.Row{Children: bit(0), Participating: bit(1), Withdrew: bit(2), Paused: bit(3), PlanNoFGC: bit(4), FGC: bit(5)}
		if got := marksOf(row).row(); got != row {
			t.Errorf("%+v reads back as %+v", row, got)
		}
	}
}

package cli

import (
	"runtime/debug"
	"testing"

	"github.com/lifelong-links/sct/internal/config"
)

// The server sets its garbage collector's target unless GOGC says one.
func TestTuneGC_SetsTargetUnlessGOGCIsSet(t *testing.T) {
	tests := []struct {
		name string
		gogc string
		want int
	}{
		{name: "GOGC not set", gogc: "", want: config.GCPercent},
		{name: "GOGC set", gogc: "50", want: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := debug.SetGCPercent(100) // a known target to start from
			defer debug.SetGCPercent(old)
			tuneGC(func(k string) string {
				if k == "GOGC" {
					return tt.gogc
				}
				return ""
			})
			if got := debug.SetGCPercent(100); got != tt.want {
				t.Errorf("GC percent %d, want %d", got, tt.want)
			}
		})
	}
}

package server

import (
	"runtime/debug"
	"testing"
)

// While any build runs the collector's target is raised; when the last
// ends it is what it was, whichever ends first, and ending one twice
// changes nothing. With GOGC set, a build leaves the target alone.
func TestStartBuild_RaisesTheTargetWhileAnyBuildRuns(t *testing.T) {
	t.Setenv("GOGC", "")
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	percent := func() int {
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		return p
	}
	a := startBuild()
	b := startBuild()
	if got := percent(); got != buildGCPercent {
		t.Fatalf("during two builds: %d, want %d", got, buildGCPercent)
	}
	a()
	a()
	if got := percent(); got != buildGCPercent {
		t.Fatalf("with one build left: %d, want %d", got, buildGCPercent)
	}
	b()
	if got := percent(); got != 100 {
		t.Fatalf("after the builds: %d, want 100", got)
	}

	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	done := startBuild()
	if got := percent(); got != 50 {
		t.Errorf("with GOGC=50, during a build: %d", got)
	}
	done()
}

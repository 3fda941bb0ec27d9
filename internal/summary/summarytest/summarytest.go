// Package summarytest gives other packages' tests the SCT answers the
// summary package's own tests compute by hand (internal/summary/testdata).
package summarytest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Fixture is one file of SCT answers.
type Fixture struct {
	Name    string
	Answers []byte
}

// Fixtures reads every fixture, in file name order.
func Fixtures(tb testing.TB) []Fixture {
	tb.Helper()
	_, here, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("summarytest: cannot find its own directory")
	}
	files, err := filepath.Glob(filepath.Join(filepath.Dir(here), "..", "testdata", "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("summarytest: no fixtures (%v)", err)
	}
	out := make([]Fixture, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, Fixture{Name: filepath.Base(f), Answers: b})
	}
	return out
}

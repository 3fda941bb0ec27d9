package exporttest

import (
	"os"
	"os/exec"
	"testing"
)

// Tool returns the path of a program that reads what the exports write (R's
// Rscript, GNU PSPP's pspp). Without it the test is skipped on a
// workstation and fails in CI, whose .ci/run installs it from the Debian
// package named.
func Tool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s is not on the PATH (%v): .ci/run installs %s", name, err, debianPackage)
		}
		t.Skipf("%s is not on the PATH (%v): apt-get install %s to run this check", name, err, debianPackage)
	}
	return bin
}

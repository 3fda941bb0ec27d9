package server

import (
	"os"
	"runtime/debug"
	"sync"
)

// buildGCPercent is the garbage collector's target while the server builds
// what it holds in memory from the store (the mirror, the sums, the
// practice tables, the caseload and the pairs). The build decodes every
// response, and nearly all it allocates is garbage at once: collecting half
// as often makes Tables 3 and 4 answer about a tenth sooner after a start
// on 100,000 SCTs. Afterwards the server runs with Go's own target, 100,
// under which its resident memory is about twice what it holds.
const buildGCPercent = 200

// building counts the builds under way in the process (tests run several
// servers at once): the first raises the target, the last puts it back.
var building struct {
	sync.Mutex
	n   int
	old int
}

// startBuild raises the collector's target for a build, unless GOGC says
// what it is to be; call what it returns when the build is done.
func startBuild() (done func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	building.Lock()
	if building.n == 0 {
		building.old = debug.SetGCPercent(buildGCPercent)
	}
	building.n++
	building.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			building.Lock()
			building.n--
			if building.n == 0 {
				debug.SetGCPercent(building.old)
			}
			building.Unlock()
		})
	}
}

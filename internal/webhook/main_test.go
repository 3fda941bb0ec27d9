package webhook_test

import (
	"os"
	"testing"

	"github.com/lifelong-links/sct/internal/store/storetest"
)

// The dispatcher's tests run on the embedded store, then in MongoDB mode.
func TestMain(m *testing.M) { os.Exit(storetest.RunBoth(m)) }

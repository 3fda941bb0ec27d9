// Package storetest opens stores for tests on either backend: the embedded
// store (a FerretDB inside the process, as `go run ./cmd/sct` starts), or
// MongoDB mode, where the store is reached by URI and takes every branch
// production takes on a real MongoDB. RunBoth runs a package's tests on
// each in turn; in MongoDB mode they use a standalone FerretDB started for
// the run, or the MongoDB named by SCT_TEST_MONGODB_URI (a deployer's
// replica set), each test in a database of its own.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"

	"github.com/lifelong-links/sct/internal/store"
)

// EnvURI names the MongoDB the tests use in MongoDB mode.
const EnvURI = "SCT_TEST_MONGODB_URI"

// envStandIn marks MongoDB mode on the standalone FerretDB RunBoth starts.
const envStandIn = "SCT_TEST_MONGODB_STANDIN"

// MongoDB reports whether the tests run in MongoDB mode.
func MongoDB() bool { return os.Getenv(EnvURI) != "" }

// Once skips a test in MongoDB mode: one whose store is not the one under
// test (it brings its own), so that running it again would test nothing
// new.
func Once(tb testing.TB) {
	tb.Helper()
	if MongoDB() {
		tb.Skip("brings its own store: run on the first pass only")
	}
}

// SkipOnStandIn skips a test of what only a real MongoDB guarantees when
// MongoDB mode runs on the standalone FerretDB: FerretDB v1 applies an
// update's filter and its write as two steps, so conditional writes made at
// once over several connections are not atomic as MongoDB makes them. The
// embedded store makes them so itself (one writer connection, a lock per
// response); against a real MongoDB (SCT_TEST_MONGODB_URI) the test runs.
func SkipOnStandIn(tb testing.TB) {
	tb.Helper()
	if os.Getenv(envStandIn) != "" {
		tb.Skip("MongoDB mode on a standalone FerretDB: conditional writes at once are atomic only on a real MongoDB (set " + EnvURI + ")")
	}
}

// At completes o for a store kept under dir: the embedded store in dir,
// or in MongoDB mode a database named for dir, so that opening At the same
// dir again finds the same data (a restart).
func At(dir string, o store.Options) store.Options {
	if uri := os.Getenv(EnvURI); uri != "" {
		sum := sha256.Sum256([]byte(dir + "\x00" + o.Database))
		o.URI, o.DataDir, o.Database = uri, "", "t"+hex.EncodeToString(sum[:8])
		return o
	}
	o.DataDir = dir
	return o
}

// Fresh completes o for a new, empty store of the test's own.
func Fresh(tb testing.TB, o store.Options) store.Options { return At(tb.TempDir(), o) }

// Open opens a new, empty store for the test and closes it when the test
// ends.
func Open(tb testing.TB, o store.Options) *store.Store { return OpenAt(tb, tb.TempDir(), o) }

// OpenAt opens the store kept under dir (see At) and closes it when the
// test ends: opened again, the same data, as after a restart or from
// another instance (MongoDB mode).
func OpenAt(tb testing.TB, dir string, o store.Options) *store.Store {
	tb.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Database == "" {
		o.Database = "test"
	}
	s, err := store.Open(context.Background(), At(dir, o))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// RunBoth runs the package's tests on the embedded store, then again in
// MongoDB mode against a standalone FerretDB started for the run. With
// SCT_TEST_MONGODB_URI set it runs them once, against that MongoDB. Fuzzing
// and benchmarks run once, on the embedded store.
func RunBoth(m *testing.M) int {
	flag.Parse()
	if MongoDB() || flagSet("test.fuzz") || flagSet("test.bench") {
		return m.Run()
	}
	if code := m.Run(); code != 0 {
		return code
	}
	uri, stop, err := Standalone()
	if err != nil {
		fmt.Fprintf(os.Stderr, "storetest: %v\n", err)
		return 1
	}
	defer stop()
	os.Setenv(EnvURI, uri)
	os.Setenv(envStandIn, "1")
	defer func() { os.Unsetenv(EnvURI); os.Unsetenv(envStandIn) }()
	if testing.Verbose() {
		fmt.Printf("=== the same tests in MongoDB mode, against a standalone FerretDB at %s\n", uri)
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "FAIL in MongoDB mode (a standalone FerretDB reached by URI)\n")
	}
	return code
}

func flagSet(name string) bool {
	f := flag.Lookup(name)
	return f != nil && f.Value.String() != "" && f.Value.String() != "0"
}

// Standalone starts a FerretDB on a free loopback port, as a MongoDB server
// apart from the store under test, and returns its URI and how to stop it.
func Standalone() (uri string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "sct-mongodb-")
	if err != nil {
		return "", nil, err
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("standalone FerretDB: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
		}
		os.RemoveAll(dir)
	}
	ready := make(chan string, 1)
	go func() { ready <- f.MongoDBURI() }() // blocks until it listens
	select {
	case uri = <-ready:
		return uri, stop, nil
	case <-time.After(30 * time.Second):
		stop()
		return "", nil, fmt.Errorf("standalone FerretDB did not start within 30s")
	}
}

package api_test

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/bench"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/server"
	"github.com/lifelong-links/sct/internal/server/servertest"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// BenchmarkReads fills a store with 2,000, 20,000 and 100,000 realistic
// SCTs (bench.Fill, through the services: children, follow-ups, practice
// summaries, participation, and SCT_BENCH_AUDIT audit entries of reads,
// 1,000,000 unless set), starts the server on it, and times each read
// users make (bench.UserReads); it prints them side by side, each p95 with
// its ratio to the smallest store's. SCT_BENCH_SIZES overrides the sizes
// (comma-separated). It takes about ten minutes.
//
//	go test -run '^$' -bench Reads -benchtime 1x -timeout 60m ./api
func BenchmarkReads(b *testing.B) {
	// The garbage collector's target the server runs with (go test's is
	// Go's default, which doubles the collector's work on a large heap).
	old := debug.SetGCPercent(config.GCPercent)
	b.Cleanup(func() { debug.SetGCPercent(old) })
	sizes := []int{2000, 20000, 100000}
	if v := os.Getenv("SCT_BENCH_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatal(err)
			}
			sizes = append(sizes, n)
		}
	}
	audit := 1_000_000
	if v := os.Getenv("SCT_BENCH_AUDIT"); v != "" {
		audit, _ = strconv.Atoi(v)
	}
	reg, err := form.Load(forms.FS())
	if err != nil {
		b.Fatal(err)
	}
	var all [][]bench.ReadResult
	for _, n := range sizes {
		dir := b.TempDir()
		ctx := context.Background()
		st, err := store.Open(ctx, storetest.At(dir, store.Options{Database: config.Defaults().Database}))
		if err != nil {
			b.Fatal(err)
		}
		filled, err := bench.Fill(ctx, bench.NewServiceSink(st, reg), n, audit, 64, uint64(n), "F")
		_ = st.Close(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("filled %s", filled)
		results := readsOn(b, dir)
		all = append(all, results)
		for _, r := range results {
			b.ReportMetric(float64(r.P95)/float64(time.Millisecond), fmt.Sprintf("%d-%s-p95-ms", n, strings.ReplaceAll(r.Name, " ", "_")))
		}
	}
	// On standard output: go test cuts a benchmark's log short.
	fmt.Printf("p50 and p95 by read and store size, each p95 with its ratio to the first size's:\n%s", bench.Table(sizes, all))
}

// readsOn starts the server on a filled store and, once it has built what
// it holds from the store, times the reads.
func readsOn(b *testing.B, dir string) []bench.ReadResult {
	warmed := make(chan error, 1)
	s, err := servertest.StartWithOptions(b, dir, nil, server.Options{Definitions: forms.FS(), Warmed: func(err error) { warmed <- err }})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	if err := <-warmed; err != nil {
		b.Fatal(err)
	}
	tokens := map[string]string{}
	s.Login(b, "admin", servertest.AdminEmail, servertest.AdminPassword)
	tokens["admin"] = s.Tokens["admin"]
	for _, u := range []struct{ name, role, sites string }{{"coordinator", "coordinator", `["FA"]`}, {"evaluator", "evaluator", `[]`}} {
		email := u.name + "@example.org"
		if status, body := s.Do(b, "POST", "/api/v1/users", fmt.Sprintf(`{"email":%q,"role":%q,"sites":%s,"password":%q}`,
			email, u.role, u.sites, servertest.UserPassword), "admin"); status != 201 {
			b.Fatalf("user %s: %d %s", u.name, status, body)
		}
		s.Login(b, u.name, email, servertest.UserPassword)
		tokens[u.name] = s.Tokens[u.name]
	}
	results, err := bench.Reads(context.Background(), s.Base, tokens, bench.UserReads(), 40)
	if err != nil {
		b.Fatal(err)
	}
	return results
}

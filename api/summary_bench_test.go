package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"testing"
	"time"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/bench"
	"github.com/lifelong-links/sct/internal/catalog"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/evaluation"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
)

// BenchmarkSummarySCT times GET /api/v1/summaries/sct and
// /api/v1/summaries/sct/paired over the HTTP API with 1,000, 10,000 and
// 100,000 submitted SCTs in the embedded store: half of them baselines, half
// the follow-ups of the same children, over 3 years, 12 sites and both
// groups. Building the sums from the responses (as at start) is reported as
// load-s; then each request comes right after a write, so that none is
// answered from the cache.
//
//	go test -run '^$' -bench SummarySCT -benchtime 60x ./api
func BenchmarkSummarySCT(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			ctx := context.Background()
			st := benchStore(b)
			sct, _ := catalog.Lookup(catalog.SCT)
			r := rand.New(rand.NewPCG(7, uint64(n)))
			rs := make([]store.Response, n)
			sites := []string{"A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M"}
			var site, group string
			var day time.Time
			for i := range rs {
				tp := "baseline"
				if i%2 == 0 { // a new child
					site, group = sites[r.IntN(len(sites))], []string{"lifelong_links", "comparison"}[r.IntN(2)]
					day = time.Date(2017, 4, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(3*365-200))
				} else {
					tp, day = "follow_up", day.AddDate(0, 0, 150+r.IntN(50))
				}
				completed := day.Format(time.DateOnly)
				var body struct {
					Answers json.RawMessage `json:"answers"`
				}
				_ = json.Unmarshal(bench.Body(r, "x", tp, 1, completed), &body)
				_, in, err := sct.Derived("1", body.Answers)
				if err != nil {
					b.Fatal(err)
				}
				rs[i] = store.Response{ID: fmt.Sprintf("r%07d", i), Form: "sct", Version: "1", ChildID: fmt.Sprintf("C%07d", i/2),
					Site: site, Group: group, Timepoint: tp, Wave: 1, CompletedOn: completed, Mode: "paper", Status: store.StatusSubmitted,
					Revision: 1, BodyHash: "h", Derived: in, Answers: map[string]any{}}
			}
			if _, err := st.ImportResponses(ctx, rs); err != nil {
				b.Fatal(err)
			}
			srv, tok, ev := benchAPI(b, st)
			get := func(b *testing.B, q string) {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+q, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := http.DefaultClient.Do(req)
				if err != nil || res.StatusCode != http.StatusOK {
					b.Fatalf("%s: %v %v", q, res, err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
			if _, err := ev.RebuildSums(ctx); err != nil { // time the build from the responses
				b.Fatal(err)
			}
			start := time.Now()
			if _, err := ev.RebuildSums(ctx); err != nil {
				b.Fatal(err)
			}
			load := time.Since(start)
			writes := 0
			write := func(b *testing.B) {
				b.StopTimer()
				extra := rs[0]
				writes++
				extra.ID, extra.ChildID = fmt.Sprintf("w%07d", writes), fmt.Sprintf("W%07d", writes)
				if _, err := st.ImportResponses(ctx, []store.Response{extra}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.Run("tables", func(b *testing.B) {
				queries := []string{"timepoint=baseline", "timepoint=follow_up&site=C", "timepoint=baseline&from=2018-02-10&to=2019-07-20"}
				for i := 0; i < b.N; i++ {
					write(b)
					get(b, "/api/v1/summaries/sct?"+queries[i%3])
				}
				b.ReportMetric(load.Seconds(), "load-s")
			})
			b.Run("paired", func(b *testing.B) {
				queries := []string{"", "site=C", "group=comparison&from=2018-01-01"}
				for i := 0; i < b.N; i++ {
					write(b)
					get(b, "/api/v1/summaries/sct/paired?"+queries[i%3])
				}
				b.ReportMetric(float64(n/2), "pairs")
			})
		})
	}
}

// benchStore opens an embedded store for a benchmark, closed at its end,
// with the garbage collector's target the server runs with.
func benchStore(b *testing.B) *store.Store {
	b.Helper()
	old := debug.SetGCPercent(config.GCPercent)
	b.Cleanup(func() { debug.SetGCPercent(old) })
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: b.TempDir(), Database: "bench", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close(ctx) })
	return st
}

// benchAPI serves the API over st and returns its address and an
// evaluator's token.
// benchAPI serves the API over st, with the evaluation service it builds
// its tables with.
func benchAPI(b *testing.B, st *store.Store) (*httptest.Server, string, *evaluation.Service) {
	b.Helper()
	reg, err := form.Load(forms.FS())
	if err != nil {
		b.Fatal(err)
	}
	ev, err := evaluation.New(st, reg, nil)
	if err != nil {
		b.Fatal(err)
	}
	spec, _ := auth.GenerateKeySpec(time.Now())
	keys, _ := auth.ParseKeys(spec)
	tokens := auth.NewTokens(keys, "sct", time.Now)
	claims := auth.Claims{Role: "evaluator"}
	claims.Subject = staffUser(b, st, "evaluator").ID
	tok, _, _ := tokens.Issue(claims, time.Hour)
	srv := serveAPI(b, Deps{Forms: reg, Store: st, Evaluation: ev, Tokens: tokens, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return srv, tok, ev
}

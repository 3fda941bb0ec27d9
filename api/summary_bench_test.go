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
	"testing"
	"time"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/bench"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/summary"
)

// BenchmarkSummarySCT times GET /api/v1/summaries/sct over the HTTP API
// with 1,000, 10,000 and 100,000 submitted SCTs in the embedded store, spread
// over 3 years, 12 sites, both groups and both timepoints. The first request
// after start builds the sums from the responses (reported as load-s); the
// benchmark then times requests as they are served.
//
//	go test -run '^$' -bench SummarySCT -benchtime 200x ./api
func BenchmarkSummarySCT(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			ctx := context.Background()
			st := benchStore(b)
			r := rand.New(rand.NewPCG(7, uint64(n)))
			rs := make([]store.Response, n)
			sites := []string{"A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M"}
			for i := range rs {
				tp := []string{"baseline", "follow_up"}[r.IntN(2)]
				day := time.Date(2017, 4, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(3*365)).Format(time.DateOnly)
				var body struct {
					Answers json.RawMessage `json:"answers"`
				}
				_ = json.Unmarshal(bench.Body(r, "x", tp, 1, day), &body)
				in, err := summary.InputFromSCT(body.Answers)
				if err != nil {
					b.Fatal(err)
				}
				rs[i] = store.Response{ID: fmt.Sprintf("r%07d", i), Form: "sct", Version: "1", ChildID: fmt.Sprintf("C%07d", i),
					Site: sites[r.IntN(len(sites))], Group: []string{"lifelong_links", "comparison"}[r.IntN(2)], Timepoint: tp, Wave: 1,
					CompletedOn: day, Mode: "paper", Status: store.StatusSubmitted, Revision: 1, BodyHash: "h", Inputs: &in,
					Answers: map[string]any{}}
			}
			if _, err := st.ImportResponses(ctx, rs); err != nil {
				b.Fatal(err)
			}
			srv, tok := benchAPI(b, st)
			get := func(q string) {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/summaries/sct?"+q, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := http.DefaultClient.Do(req)
				if err != nil || res.StatusCode != http.StatusOK {
					b.Fatalf("summary: %v %v", res, err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
			if _, err := st.RebuildSummaries(ctx); err != nil { // time the build from the responses
				b.Fatal(err)
			}
			start := time.Now()
			if _, err := st.RebuildSummaries(ctx); err != nil {
				b.Fatal(err)
			}
			load := time.Since(start)
			queries := []string{"timepoint=baseline", "timepoint=follow_up&site=C", "timepoint=baseline&from=2018-02-10&to=2019-07-20"}
			// Each request after a write: nothing answered from the cache.
			extra := rs[0]
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				extra.ID, extra.ChildID = fmt.Sprintf("w%07d", i), fmt.Sprintf("W%07d", i)
				if _, err := st.ImportResponses(ctx, []store.Response{extra}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				get(queries[i%3])
			}
			b.ReportMetric(load.Seconds(), "load-s")
		})
	}
}

// benchStore opens an embedded store for a benchmark, closed at its end.
func benchStore(b *testing.B) *store.Store {
	b.Helper()
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
func benchAPI(b *testing.B, st *store.Store) (*httptest.Server, string) {
	b.Helper()
	reg, err := form.Load(forms.FS())
	if err != nil {
		b.Fatal(err)
	}
	spec, _ := auth.GenerateKeySpec(time.Now())
	keys, _ := auth.ParseKeys(spec)
	tokens := auth.NewTokens(keys, "sct", time.Now)
	tok, _, _ := tokens.Issue(auth.Claims{Role: "evaluator"}, time.Hour)
	srv := httptest.NewServer(mustNew(b, Deps{Forms: reg, Store: st, Tokens: tokens, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	b.Cleanup(srv.Close)
	return srv, tok
}

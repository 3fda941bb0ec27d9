package store_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/lifelong-links/sct/internal/store"
)

// BenchmarkUpdateResponse times what a draft's autosave costs the store
// (reading the response, then replacing it on condition that it has not
// changed) with 1,000, 10,000 and 100,000 responses stored: it must not
// grow with them.
//
//	go test -run '^$' -bench UpdateResponse -benchtime 200x ./internal/store
func BenchmarkUpdateResponse(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			ctx := context.Background()
			s, err := store.Open(ctx, store.Options{DataDir: b.TempDir(), Database: "bench", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close(ctx)
			rs := make([]store.Response, n)
			for i := range rs {
				rs[i] = sct(fmt.Sprintf("r%07d", i), fmt.Sprintf("C%07d", i), "baseline", 1, store.StatusDraft)
			}
			if _, err := s.ImportResponses(ctx, rs); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				prev, err := s.Response(ctx, rs[(i*7919)%n].ID)
				if err != nil {
					b.Fatal(err)
				}
				next := prev
				next.Answers, next.BodyHash = answers(int64(i%4+1)), fmt.Sprintf("hash-%d", i)
				if err := s.UpdateResponse(ctx, next, prev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

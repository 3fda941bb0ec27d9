package store_test

import (
	"context"
	"errors"
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

// BenchmarkLookups times what a submission looks up in the store (its
// child, whether its id is taken, who holds its slot) with 1,000, 10,000
// and 100,000 submitted responses and their children stored: it must not
// grow with them. On the embedded store the three come from the mirror in
// memory (under a microsecond); read from SQLite through its unique
// indexes they took 8-30 µs alone and, at 64 submissions at once, cost
// submissions 15% of their rate, so the mirror stays. A response itself is
// read through FerretDB.
//
//	go test -run '^$' -bench Lookups -benchtime 2000x ./internal/store
func BenchmarkLookups(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		ctx := context.Background()
		s, err := store.Open(ctx, store.Options{DataDir: b.TempDir(), Database: "bench", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		rs := make([]store.Response, n)
		for i := range rs {
			rs[i] = sct(fmt.Sprintf("r%07d", i), fmt.Sprintf("C%07d", i), "baseline", 1, store.StatusSubmitted)
			if i%100 == 0 { // a child for every hundredth: enough to look up
				if _, err := s.CreateChild(ctx, store.Child{ID: rs[i].ChildID, Site: "A", Group: "lifelong_links"}); err != nil {
					b.Fatal(err)
				}
			}
		}
		if _, err := s.ImportResponses(ctx, rs); err != nil {
			b.Fatal(err)
		}
		pick := func(i int) store.Response { return rs[(i*7919)%n] }
		for _, l := range []struct {
			name string
			fn   func(i int) error
		}{
			{"child", func(i int) error {
				_, err := s.Child(ctx, rs[((i*7919)%n)/100*100].ChildID)
				return err
			}},
			{"response", func(i int) error {
				_, err := s.Response(ctx, pick(i).ID)
				return err
			}},
			{"no response", func(i int) error {
				if _, err := s.Response(ctx, "new-"+pick(i).ID); !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("a new id: %v", err)
				}
				return nil
			}},
			{"slot", func(i int) error {
				r := pick(i)
				if id, _, err := s.SlotHolder(ctx, r.ChildID, r.Form, r.Timepoint, r.Wave); err != nil || id != r.ID {
					return fmt.Errorf("slot of %s: %q, %v", r.ID, id, err)
				}
				return nil
			}},
		} {
			b.Run(fmt.Sprintf("%s/%dk", l.name, n/1000), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if err := l.fn(i); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		_ = s.Close(ctx)
	}
}

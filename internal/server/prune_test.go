package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/logbuf"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// pruneNow is the prune job's clock in these tests.
var pruneNow = time.Date(2024, 3, 5, 10, 20, 0, 0, time.UTC)

func pruneClock() time.Time { return pruneNow }

func newSyncLog() (*slog.Logger, *logbuf.Buffer) {
	buf := &logbuf.Buffer{}
	return slog.New(slog.NewTextHandler(buf, nil)), buf
}

type pruneCall struct {
	before time.Time
	window time.Duration
}

type pruneAnswer struct {
	res store.PruneResult
	err error
}

// scriptedPruner gives the prune job's runs its answers in turn (then empty
// counts) and reports each call. It stands in for the store where the test
// is about the job: its timing, logging and retries.
type scriptedPruner struct {
	answers []pruneAnswer
	calls   chan pruneCall
	mu      sync.Mutex
	n       int
}

func newScriptedPruner(answers ...pruneAnswer) *scriptedPruner {
	return &scriptedPruner{answers: answers, calls: make(chan pruneCall, 1000)}
}

func (p *scriptedPruner) PruneExpired(_ context.Context, before time.Time, window time.Duration) (store.PruneResult, error) {
	p.mu.Lock()
	i := p.n
	p.n++
	p.mu.Unlock()
	p.calls <- pruneCall{before, window}
	if i < len(p.answers) {
		return p.answers[i].res, p.answers[i].err
	}
	return store.PruneResult{}, nil
}

func TestPruning_LogsCountsAndTriesAgainAfterStoreOutage(t *testing.T) {
	outage := fmt.Errorf("prune sessions: %w", store.ErrUnavailable)
	tests := []struct {
		name    string
		answers []pruneAnswer
		logs    [][]string // what each run's log line holds, in order
	}{
		{
			name:    "a run logs its counts at info",
			answers: []pruneAnswer{{res: store.PruneResult{RefreshTokens: 3, Sessions: 2, Failures: 1}}},
			logs: [][]string{{"level=INFO", `msg="pruned ended sign-in records"`,
				"refresh_tokens=3", "sessions=2", "failures=1", "ended_before=2024-03-05T10:10:00.000Z"}},
		},
		{
			name: "a store outage is a warning and the next run tries again",
			answers: []pruneAnswer{
				{res: store.PruneResult{RefreshTokens: 1}, err: outage},
				{res: store.PruneResult{Sessions: 4}},
			},
			logs: [][]string{
				{"level=WARN", "trying again", "refresh_tokens=1", "sessions=0", "store unavailable"},
				{"level=INFO", "refresh_tokens=0", "sessions=4"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newScriptedPruner(tt.answers...)
			log, buf := newSyncLog()
			stop := startPruning(p, 10*time.Millisecond, pruneClock, log)
			for range tt.answers {
				select {
				case call := <-p.calls:
					if want := pruneNow.Add(-pruneGrace); !call.before.Equal(want) || call.window != accounts.FailureWindow {
						t.Errorf("pruned before %v with window %v, want %v and %v", call.before, call.window, want, accounts.FailureWindow)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("no prune within 10s")
				}
			}
			stop()
			lines := buf.Lines()
			if len(lines) < len(tt.logs) {
				t.Fatalf("log %q, want at least %d lines", lines, len(tt.logs))
			}
			for i, want := range tt.logs {
				for _, w := range want {
					if !strings.Contains(lines[i], w) {
						t.Errorf("log line %d %q lacks %q", i, lines[i], w)
					}
				}
			}
		})
	}
}

func TestPruning_ZeroIntervalNeverRuns(t *testing.T) {
	p := newScriptedPruner()
	stop := startPruning(p, 0, pruneClock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	time.Sleep(50 * time.Millisecond)
	stop()
	if len(p.calls) != 0 {
		t.Errorf("%d prunes ran with an interval of 0", len(p.calls))
	}
}

// stallingPruner's runs last until they are cancelled.
type stallingPruner struct {
	started  chan struct{}
	once     sync.Once
	returned atomic.Bool
}

func (p *stallingPruner) PruneExpired(ctx context.Context, _ time.Time, _ time.Duration) (store.PruneResult, error) {
	p.once.Do(func() { close(p.started) })
	<-ctx.Done()
	time.Sleep(20 * time.Millisecond) // a store takes a moment to give up
	p.returned.Store(true)
	return store.PruneResult{}, ctx.Err()
}

func TestPruning_StopWaitsForTheRunUnderWayWithoutAWarning(t *testing.T) {
	p := &stallingPruner{started: make(chan struct{})}
	log, buf := newSyncLog()
	stop := startPruning(p, 10*time.Millisecond, pruneClock, log)
	select {
	case <-p.started:
	case <-time.After(10 * time.Second):
		t.Fatal("no prune within 10s")
	}
	stop()
	if !p.returned.Load() {
		t.Error("stop returned while a prune was still under way")
	}
	if lines := buf.Lines(); len(lines) != 1 || lines[0] != "" {
		t.Errorf("log %q, want nothing: stopping is not a fault", lines)
	}
}

// The job against the real embedded store: what ended more than the grace
// ago goes, the rest stays.
func TestPruning_DeletesEndedRecordsFromTheStore(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.Fresh(t, store.Options{Database: "test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: pruneClock}))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Close(ctx); err != nil {
			t.Errorf("close store: %v", err)
		}
	}()
	links := []struct {
		id      string
		expires time.Time
	}{
		{"expired", pruneNow.Add(-pruneGrace - time.Minute)},
		{"within-grace", pruneNow.Add(-time.Minute)},
		{"live", pruneNow.Add(time.Hour)},
	}
	for _, l := range links {
		if _, err := st.CreateSession(ctx, store.Session{ID: l.id, CodeHash: "code-" + l.id, ChildID: "C1", Site: "A",
			ResponseID: "r-" + l.id, Form: "sct", Version: "1", Timepoint: "baseline", Wave: 1, ExpiresAt: l.expires}); err != nil {
			t.Fatal(err)
		}
	}
	closed, open := pruneNow.Add(-time.Hour), pruneNow.Truncate(accounts.FailureWindow)
	for _, window := range []time.Time{closed, open} {
		if _, err := st.CountAttempt(ctx, "account:a@example.org", window, accounts.FailureWindow, 1); err != nil {
			t.Fatal(err)
		}
	}

	log, buf := newSyncLog()
	stop := startPruning(st, 20*time.Millisecond, pruneClock, log)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(strings.Join(buf.Lines(), "\n"), "pruned ended sign-in records") {
		if time.Now().After(deadline) {
			t.Fatalf("no prune within 10s; log %q", buf.Lines())
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()

	if first := buf.Lines()[0]; !strings.Contains(first, "sessions=1") || !strings.Contains(first, "failures=1") {
		t.Errorf("first run logged %q, want sessions=1 and failures=1", first)
	}
	for _, l := range links {
		_, err := st.Session(ctx, l.id)
		if l.id == "expired" && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("link %s: err = %v, want it deleted", l.id, err)
		}
		if l.id != "expired" && err != nil {
			t.Errorf("link %s: %v, want it kept", l.id, err)
		}
	}
	for window, want := range map[time.Time]int{closed: 0, open: 1} {
		if n, err := st.CountAttempt(ctx, "account:a@example.org", window, accounts.FailureWindow, 0); err != nil || n != want {
			t.Errorf("failures in the window from %v: %d, %v; want %d", window, n, err, want)
		}
	}
}

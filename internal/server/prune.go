package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/store"
)

// pruneGrace is how long a record stays after it ended: a refresh token
// spent just before it expired gets its successor a moment later, and the
// clocks of instances differ a little.
const pruneGrace = 10 * time.Minute

// pruneTimeout bounds one run, so that a store that stopped answering
// mid-run is asked afresh next time. Deletes are idempotent: a run cut
// short loses nothing.
const pruneTimeout = 10 * time.Minute

// pruner is what the prune job needs of the store.
type pruner interface {
	PruneExpired(ctx context.Context, before time.Time, failureWindow time.Duration) (store.PruneResult, error)
}

// startPruning deletes the records of ended sign-ins, links and sign-in
// failure windows every interval, the first one interval from now, until
// stop is called; an interval of 0 starts nothing. A failed run is logged
// and the next one tries again. stop returns once a run under way has
// ended (it is cancelled).
func startPruning(st pruner, every time.Duration, now func() time.Time, log *slog.Logger) (stop func()) {
	if every <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				pruneOnce(ctx, st, now, log)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// pruneOnce runs one prune and logs what it did.
func pruneOnce(ctx context.Context, st pruner, now func() time.Time, log *slog.Logger) {
	runCtx, cancel := context.WithTimeout(ctx, pruneTimeout)
	defer cancel()
	before := now().Add(-pruneGrace)
	res, err := st.PruneExpired(runCtx, before, accounts.FailureWindow)
	counts := []any{"refresh_tokens", res.RefreshTokens, "sessions", res.Sessions, "failures", res.Failures}
	switch {
	case err != nil && ctx.Err() != nil:
		// Stopping: not a fault.
	case err != nil:
		log.Warn("pruning ended sign-in records; trying again at the next interval", append(counts, "err", err)...)
	default:
		log.Info("pruned ended sign-in records", append(counts, "ended_before", before)...)
	}
}

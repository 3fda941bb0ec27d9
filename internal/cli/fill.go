package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/bench"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
)

// fill opens the store the settings name and fills it.
func fill(ctx context.Context, s config.Settings, log *slog.Logger, n, auditReads int, seed uint64, stderr io.Writer) (bench.Filled, error) {
	registry, err := form.Load(forms.FS())
	if err != nil {
		return bench.Filled{}, err
	}
	st, err := store.Open(ctx, store.Options{URI: s.MongoDBURI, DataDir: s.DataDir, Database: s.Database, Logger: log})
	if err != nil {
		return bench.Filled{}, err
	}
	defer st.Close(context.WithoutCancel(ctx))
	sink := bench.NewServiceSink(st, registry)
	fmt.Fprintf(stderr, "filling %s with %d SCTs and %d audit entries of reads…\n", storeName(s), n, auditReads)
	return bench.Fill(ctx, sink, n, auditReads, 64, seed, fmt.Sprintf("F%d-", seed%100000))
}

func storeName(s config.Settings) string {
	if s.MongoDBURI != "" {
		return "the MongoDB at SCT_MONGODB_URI"
	}
	return "the embedded store in " + s.DataDir
}

// fillAndRead fills the store if asked, then times the reads if asked, on
// a server of its own on loopback.
func fillAndRead(ctx context.Context, s config.Settings, fillN, fillAudit int, reads bool, requests int, prof profiles, asJSON bool, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	out := map[string]any{}
	if fillN > 0 {
		filled, err := fill(ctx, s, log, fillN, fillAudit, uint64(time.Now().UnixNano()), stderr)
		if err != nil {
			return err
		}
		out["filled"] = filled
		if !asJSON {
			fmt.Fprintf(stdout, "filled:       %s\n", filled)
		}
	}
	if reads {
		results, mem, err := timeReads(ctx, s, log, requests, prof, stderr)
		if err != nil {
			return err
		}
		out["reads"], out["resident_mib"], out["live_heap_mib"] = results, mem.resident, mem.live
		if !asJSON {
			fmt.Fprintf(stdout, "resident:     %d MiB after the reads\n", mem.resident)
			fmt.Fprintf(stdout, "live heap:    %d MiB after a collection\n", mem.live)
			for _, r := range results {
				fmt.Fprintf(stdout, "  %s\n", r)
			}
		}
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(out)
	}
	return nil
}

// memory is what the process held after the reads: resident (what the
// system counts, the collector's slack included) and the Go heap live
// after a collection (what the server keeps).
type memory struct{ resident, live int }

// timeReads starts the server on the store, signs in an administrator, an
// evaluator and a coordinator of site FA made for the run, and times each
// of bench.UserReads.
func timeReads(ctx context.Context, s config.Settings, log *slog.Logger, requests int, prof profiles, stderr io.Writer) ([]bench.ReadResult, memory, error) {
	password := randomPassword()
	suffix := fmt.Sprint(time.Now().UnixNano() % 1_000_000)
	users := map[string]accounts.NewUser{
		"admin":       {Email: "bench-admin-" + suffix + "@example.org", Role: "admin", Password: password},
		"evaluator":   {Email: "bench-evaluator-" + suffix + "@example.org", Role: "evaluator", Password: password},
		"coordinator": {Email: "bench-coordinator-" + suffix + "@example.org", Role: "coordinator", Sites: []string{"FA"}, Password: password},
	}
	st, err := store.Open(ctx, store.Options{URI: s.MongoDBURI, DataDir: s.DataDir, Database: s.Database, Logger: log})
	if err != nil {
		return nil, memory{}, err
	}
	if err := bench.NewServiceSink(st, nil).Sites(ctx, bench.FillSites); err != nil {
		st.Close(ctx)
		return nil, memory{}, err
	}
	acc := accounts.New(accounts.Options{Store: st})
	for _, u := range users {
		if _, err := acc.CreateUser(ctx, u); err != nil {
			st.Close(ctx)
			return nil, memory{}, err
		}
	}
	if err := st.Close(ctx); err != nil {
		return nil, memory{}, err
	}

	s.Addr, s.LogLevel = "127.0.0.1:0", "error"
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv, err := startBuilt(ctx, s, log)
	if err != nil {
		return nil, memory{}, err
	}
	base := "http://" + srv.addr
	tokens := map[string]string{}
	for name, u := range users {
		tok, err := signIn(base, u.Email, password)
		if err != nil {
			return nil, memory{}, err
		}
		tokens[name] = tok
	}
	fmt.Fprintf(stderr, "timing %d reads, %d requests each…\n", len(bench.UserReads()), requests)
	if prof.cpu != "" {
		f, err := os.Create(prof.cpu)
		if err != nil {
			return nil, memory{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, memory{}, err
		}
	}
	results, err := bench.Reads(ctx, base, tokens, bench.UserReads(), requests)
	if prof.cpu != "" {
		pprof.StopCPUProfile()
	}
	mem := memory{resident: residentMiB()}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mem.live = int(ms.HeapAlloc >> 20)
	if err == nil && prof.heap != "" {
		err = writeHeapProfile(prof.heap)
	}
	cancel()
	if stopErr := <-srv.done; err == nil {
		err = stopErr
	}
	return results, mem, err
}

// residentMiB is this process's resident memory (Linux; 0 elsewhere).
func residentMiB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb / 1024
		}
	}
	return 0
}

// profiles names the files to write profiles of the reads to ("": none).
type profiles struct{ cpu, heap string }

// writeHeapProfile writes the live heap, after a collection, to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

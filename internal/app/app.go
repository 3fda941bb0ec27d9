// Package app wires the server together: settings, then the store, then the
// HTTP API; and takes them down in reverse order on stop.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/lifelong-links/sct/api"
	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/metrics"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/static"
)

const usage = `Usage: sct [command] [flags]

Commands:
  serve      run the server (the default)
  user add   create a user account: --email E --role R [--site S]... [--password P]
  site add   create a site: --code C --name N
  bench      measure submissions under load (see "sct bench -h")

The account commands work on the store the settings name (data directory or
MongoDB URI); run them while the server is stopped when the store is embedded.
Run "sct serve -h" for the settings.
`

// Run runs the command line and returns the process exit code.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	sub := ""
	if (cmd == "user" || cmd == "site") && len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	switch cmd + " " + sub {
	case "serve ":
		err = serveCommand(ctx, args, getenv, stderr)
	case "user add":
		err = userAddCommand(ctx, args, getenv, stdin, stdout, stderr)
	case "site add":
		err = siteAddCommand(ctx, args, getenv, stdout, stderr)
	case "bench ":
		err = benchCommand(ctx, args, getenv, stdout, stderr)
	case "help ":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "sct: unknown command %q\n\n%s", strings.TrimSpace(cmd+" "+sub), usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	default:
		fmt.Fprintf(stderr, "sct: %v\n", err)
		return 1
	}
}

func serveCommand(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	s, err := config.Load("sct serve", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	tuneGC(getenv)
	return Serve(ctx, s, newLogger(s, stderr), nil)
}

// tuneGC sets the garbage collector's target to config.GCPercent unless
// GOGC says otherwise.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(config.GCPercent)
	}
}

func newLogger(s config.Settings, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: s.Level()}
	if s.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Serve runs the server until ctx ends. ready, if set, is told the address
// it listens on once it accepts connections.
func Serve(ctx context.Context, s config.Settings, log *slog.Logger, ready func(addr string)) error {
	return serve(ctx, s, log, func(addr string, _ *store.Store) {
		if ready != nil {
			ready(addr)
		}
	}, forms.FS())
}

// serve runs the server; started is told the address and the open store.
func serve(ctx context.Context, s config.Settings, log *slog.Logger, started func(addr string, st *store.Store), definitions fs.FS) error {
	log.Info("starting", "settings", s)
	registry, err := form.Load(definitions)
	if err != nil {
		return fmt.Errorf("form definitions: %w", err)
	}
	meter := metrics.New() // before the store, whose commands it will time
	st, err := store.Open(ctx, store.Options{URI: s.MongoDBURI, DataDir: s.DataDir, Database: s.Database, Logger: log,
		ObserveCommand: meter.ObserveCommand})
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := st.Close(closeCtx); err != nil {
			log.Warn("closing the store", "err", err)
		}
		log.Info("store closed")
	}()
	for _, d := range registry.All() {
		if err := st.RecordFormVersion(ctx, d.Form, d.Version, d.Hash); err != nil {
			return fmt.Errorf("%s: %w", d.File, err)
		}
	}
	keys, err := loadKeys(s, time.Now())
	if err != nil {
		return err
	}
	if err := bootstrapAdmin(ctx, st, s, log); err != nil {
		return err
	}

	proxies, err := s.ProxyNets()
	if err != nil {
		return err
	}
	publicURL, err := s.PublicBase()
	if err != nil {
		return err
	}
	allowed, err := s.HostAllowList()
	if err != nil {
		return err
	}
	// Bound before the API is built: the address it really listens on (a
	// port of 0 is chosen now) is one Host the links may be made for.
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	defer ln.Close() // when it is not served; serving closes it too
	allowed = append(allowed, ownHosts(ln.Addr())...)
	if publicURL == nil {
		level := slog.LevelInfo
		if len(allowed) == 0 {
			level = slog.LevelWarn // every link would be refused
		}
		log.Log(ctx, level, "no public URL set (SCT_PUBLIC_URL): young-person links and calendar addresses are made only for requests to these hosts",
			"hosts", allowed)
	}
	handler, err := api.New(api.Deps{
		TrustedProxies: proxies, PublicURL: publicURL, AllowedHosts: allowed,
		Forms: registry, Store: st, Tokens: auth.NewTokens(keys, "sct", time.Now), RefreshTTL: s.RefreshTTL, SignInLifetime: s.SignInLifetime, MaxInFlight: s.MaxInFlight,
		Static: static.FS(), Logger: log, Metrics: meter,
	})
	if err != nil {
		return err
	}
	stopPruning := startPruning(st, s.PruneInterval, time.Now, log)
	// Stops on return, once the HTTP server has shut down and before the
	// store closes (defers run last first): no prune outlives the store.
	defer stopPruning()
	go func() {
		start := time.Now()
		if err := st.WarmSummaries(ctx); err != nil && ctx.Err() == nil {
			log.Warn("building the summary sums", "err", err)
			return
		}
		log.Info("summary sums built from the responses", "took", time.Since(start).Round(time.Millisecond))
	}()
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", "addr", ln.Addr().String(), "forms", len(registry.All()), "embedded_store", st.Embedded())
	if started != nil {
		started(ln.Addr().String(), st)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("stopping: finishing in-flight requests", "timeout", s.ShutdownTimeout)
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// ownHosts are the Host header values that name the listen address itself:
// its host:port, and localhost:<port> when it is a loopback address. A
// wildcard address (0.0.0.0, ::) names no host a client could use: none.
func ownHosts(addr net.Addr) []string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP == nil || tcp.IP.IsUnspecified() {
		return nil
	}
	port := strconv.Itoa(tcp.Port)
	out := []string{net.JoinHostPort(tcp.IP.String(), port)}
	if tcp.IP.IsLoopback() {
		out = append(out, net.JoinHostPort("localhost", port))
	}
	return out
}

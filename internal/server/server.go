// Package server wires the server together: settings, then the store, then
// the services, then the HTTP API; and takes them down in reverse order on
// stop. It also keeps what the running server needs beside them: the
// signing keys, the first administrator, the pruning of ended sign-ins.
package server

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/lifelong-links/sct/api"
	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/evaluation"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/metrics"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/webhook"
	"github.com/lifelong-links/sct/static"
)

// Serve runs the server until ctx ends. ready, if set, is told the address
// it listens on once it accepts connections.
func Serve(ctx context.Context, s config.Settings, log *slog.Logger, ready func(addr string)) error {
	return Run(ctx, s, log, Options{Started: func(addr string, _ *store.Store) {
		if ready != nil {
			ready(addr)
		}
	}})
}

// Options are what a caller of Run may add to the settings.
type Options struct {
	// Started, if set, is told the address the server listens on and the
	// open store, once it accepts connections (the load command writes to
	// the store directly).
	Started func(addr string, st *store.Store)
	// Warmed, if set, is told once the summary sums, the practice tables
	// and the caseload are built from the store (after Started), or that
	// building them failed.
	Warmed func(error)
	// Definitions are the form definitions (nil: the published ones).
	Definitions fs.FS
	// Webhooks sets the webhook dispatcher's timings (zero fields: the
	// defaults); tests shorten them.
	Webhooks webhook.Tuning
}

// Run runs the server until ctx ends.
func Run(ctx context.Context, s config.Settings, log *slog.Logger, o Options) error {
	started, definitions := o.Started, o.Definitions
	if started == nil {
		started = func(string, *store.Store) {}
	}
	if definitions == nil {
		definitions = forms.FS()
	}
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
	setupToken, err := firstRunToken(ctx, st, s)
	if err != nil {
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
	eval, err := evaluation.New(st, registry, time.Now)
	if err != nil {
		return err
	}
	guard, err := s.WebhookAllowList()
	if err != nil {
		return err
	}
	tuning := o.Webhooks
	if tuning.Poll == 0 && st.Embedded() {
		// The server is the embedded store's only writer and is told of
		// every commit: the poll is a safety net only.
		tuning.Poll = 15 * time.Second
	}
	dispatcher := webhook.New(webhook.Options{Store: st, Guard: guard, Tuning: tuning,
		Logger: log, Sole: st.Embedded()})
	st.OnCommit(func(_ string, next *store.Response) {
		if next == nil || next.Status == store.StatusSubmitted { // a draft makes no event
			dispatcher.Notify()
		}
	})
	st.OnChildCommit(func(string, *store.Child) { dispatcher.Notify() })
	hooks := webhook.NewService(webhook.ServiceOptions{Store: st, Guard: guard, GiveUpAfter: tuning.GiveUpAfter, Notify: dispatcher.Notify,
		Changed: dispatcher.WebhooksChanged})
	handler, err := api.New(api.Deps{
		Webhooks:       hooks,
		TrustedProxies: proxies, PublicURL: publicURL, AllowedHosts: allowed,
		Forms: registry, Store: st, Evaluation: eval, Tokens: auth.NewTokens(keys, "sct", time.Now), RefreshTTL: s.RefreshTTL, SignInLifetime: s.SignInLifetime, MaxInFlight: s.MaxInFlight,
		Static: static.FS(), Logger: log, Metrics: meter, SetupToken: setupToken,
	})
	if err != nil {
		return err
	}
	stopPruning := startPruning(st, s.PruneInterval, time.Now, log)
	// Stops on return, once the HTTP server has shut down and before the
	// store closes (defers run last first): no prune outlives the store.
	defer stopPruning()
	dispatchCtx, stopDispatch := context.WithCancel(context.WithoutCancel(ctx))
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		dispatcher.Run(dispatchCtx)
	}()
	// Like the pruning: stopped after the HTTP server, before the store.
	defer func() {
		stopDispatch()
		<-dispatched
	}()
	go func() {
		start := time.Now()
		err := eval.Warm(ctx)
		if o.Warmed != nil {
			defer o.Warmed(err)
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("building the summary sums", "err", err)
			return
		}
		log.Info("summary sums built from the responses", "took", time.Since(start).Round(time.Millisecond))
		// The build read every response and kept a small part of each:
		// what it read is garbage now. Give that memory back to the
		// system at once, rather than leave the process at the build's
		// high-water mark until the runtime returns it little by little.
		debug.FreeOSMemory()
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
	if setupToken != "" {
		log.Warn("no accounts yet: open the setup address in a browser to create the first administrator (it works once, until the server stops)",
			"setup_address", setupAddress(publicURL, ln.Addr(), setupToken))
	}
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

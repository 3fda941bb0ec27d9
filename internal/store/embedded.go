package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// embedded is an in-process FerretDB on a loopback port, keeping its data in
// SQLite files under <data dir>/ferretdb.
type embedded struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

func startEmbedded(dataDir string, log *slog.Logger) (*embedded, error) {
	if dataDir == "" {
		return nil, errors.New("embedded store: no data directory")
	}
	dir, err := filepath.Abs(filepath.Join(dataDir, "ferretdb"))
	if err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	// FerretDB logs every connection at info; only its warnings matter here.
	quiet := slog.New(log.Handler().WithGroup("ferretdb"))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    slog.New(levelFloor{Handler: quiet.Handler(), min: slog.LevelWarn}),
	})
	if err != nil {
		return nil, fmt.Errorf("embedded store in %s: %w", dir, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &embedded{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_ = f.Run(ctx)
	}()
	ready := make(chan string, 1)
	go func() { ready <- f.MongoDBURI() }() // blocks until the listener is up
	select {
	case e.uri = <-ready:
	case <-e.done:
		return nil, fmt.Errorf("embedded store in %s stopped while starting", dir)
	case <-time.After(30 * time.Second):
		e.stop()
		return nil, fmt.Errorf("embedded store in %s did not start within 30s", dir)
	}
	log.Info("embedded store started", "dir", dir)
	return e, nil
}

func (e *embedded) stop() {
	e.cancel()
	<-e.done
}

// levelFloor drops records below a level, and defers With and WithGroup
// until a record is kept: FerretDB adds every SQL statement, document
// included, as an attribute to a logger it almost never writes to, and a
// text handler would format that eagerly on every statement.
type levelFloor struct {
	slog.Handler
	min slog.Level
	ops []func(slog.Handler) slog.Handler // With and WithGroup, in order
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) Handle(ctx context.Context, r slog.Record) error {
	out := h.Handler
	for _, op := range h.ops {
		out = op(out)
	}
	return out.Handle(ctx, r)
}

func (h levelFloor) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFloor{h.Handler, h.min, append(h.ops[:len(h.ops):len(h.ops)], func(x slog.Handler) slog.Handler { return x.WithAttrs(as) })}
}

func (h levelFloor) WithGroup(name string) slog.Handler {
	return levelFloor{h.Handler, h.min, append(h.ops[:len(h.ops):len(h.ops)], func(x slog.Handler) slog.Handler { return x.WithGroup(name) })}
}

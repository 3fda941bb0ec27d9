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
		Logger:    slog.New(levelFloor{quiet.Handler(), slog.LevelWarn}),
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

// levelFloor drops records below a level.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(as), h.min}
}

func (h levelFloor) WithGroup(name string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(name), h.min}
}

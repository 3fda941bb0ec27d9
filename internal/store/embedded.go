package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	_ "modernc.org/sqlite" // FerretDB's SQLite driver, for indexIDLookups
)

// embedded is an in-process FerretDB on a loopback port, keeping its data in
// SQLite files under <data dir>/ferretdb.
type embedded struct {
	uri    string
	dir    string // FerretDB's SQLite files: <dir>/<database>.sqlite
	cancel context.CancelFunc
	done   chan struct{}
}

// The write-ahead log is copied into the database file (a checkpoint) in
// the background, a moment after writes, rather than by the commit that
// finds the log long, which is what SQLite does by default (every 1,000
// pages). Submissions rewrite the same index pages over and over: a
// checkpoint made by a commit stalls the store's one writer while it copies
// them, and its sync, the next time the log is long again. Made in the
// background, it runs beside the writer (SQLite lets a checkpoint copy
// what no reader needs while commits go on appending), and copies each
// page once however often it changed since the last.
//
// Measured with 64 clients submitting for 12 s (sct bench), runs
// alternating: into a copy of a store of 100,000 SCTs, 1,586 and 1,609
// submissions a second (p99 107 and 91 ms) against 1,447 and 1,484 (p99 104
// and 90 ms) with SQLite's default; into an empty store, 96–104% of the
// code before the read indexes, p99 as low. A log of 10,000 pages
// checkpointed by its commits alone made 0–8% more submissions into an
// empty store, but the p99 into the large one rose to 120–144 ms (long
// checkpoints, made while the writer waits); every 100 or 250 ms in the
// background, to 95–99 ms. Every commit is still synced to the log before
// it is acknowledged (synchronous=FULL).
const (
	// checkpointSoon is how soon after a checkpoint that copied something
	// the next is made; with nothing to copy the wait doubles, up to
	// checkpointIdle.
	checkpointSoon = 30 * time.Millisecond
	checkpointIdle = time.Second
	// walCheckpointPages bounds the log should the background fall
	// behind: past it, a commit checkpoints as by default.
	walCheckpointPages = 10_000
)

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
		SQLiteURL: "file:" + dir + "/?_pragma=" + url.QueryEscape(fmt.Sprintf("wal_autocheckpoint(%d)", walCheckpointPages)),
		Logger:    slog.New(levelFloor{Handler: quiet.Handler(), min: slog.LevelWarn}),
	})
	if err != nil {
		return nil, fmt.Errorf("embedded store in %s: %w", dir, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &embedded{dir: dir, cancel: cancel, done: make(chan struct{})}
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

// indexIDLookups makes FerretDB's lookups by _id use an index, in the
// collections of a database named. FerretDB v1.24 finds a document by _id
// with the SQL expression _ferretdb_sjson->'$._id' but indexes _id (its
// unique index "_id_") on _ferretdb_sjson->"_id", and SQLite uses an index
// only for the expression it was made on: every lookup by _id (a response
// read, a revision's replace) read the whole table, 70 ms at 10,000
// responses. Both expressions give the same value (a bare label is the
// path "$." and the label; "_id" names no column, so SQLite takes it as a
// string), so FerretDB's unique index is made again, under its own name,
// on the expression its lookups use: one index serves both the rule and
// the lookups. (An earlier version kept a second index, "_id_lookup",
// beside FerretDB's; every index costs each write a JSON extraction and a
// place in its B-tree, so it is dropped.) The index is dropped and made in
// one transaction, so the rule never lapses. FerretDB keeps its indexes'
// names and keys in its own metadata, which this leaves as it is, and
// reports any unique index broken by an insert as a duplicate key.
func (e *embedded) indexIDLookups(ctx context.Context, database string, collections []string) error {
	// The busy timeout FerretDB itself uses: it may be writing meanwhile.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, database+".sqlite")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("embedded store: %w", err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT name, table_name FROM _ferretdb_collections`)
	if err != nil {
		return fmt.Errorf("embedded store: list tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var name, t string
		if err := rows.Scan(&name, &t); err != nil {
			rows.Close()
			return fmt.Errorf("embedded store: list tables: %w", err)
		}
		if slices.Contains(collections, name) {
			tables = append(tables, t)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("embedded store: list tables: %w", err)
	}
	for _, t := range tables {
		if err := uniqueIDIndex(ctx, db, t); err != nil {
			return fmt.Errorf("embedded store: index %s: %w", t, err)
		}
	}
	return nil
}

// uniqueIDIndex makes the unique index on _id of FerretDB's table t on
// idExpression, unless it is made so already.
func uniqueIDIndex(ctx context.Context, db *sql.DB, t string) error {
	name := t + "__id_" // FerretDB's name for its index "_id_"
	want := fmt.Sprintf(`CREATE UNIQUE INDEX %q ON %q (%s)`, name, t, idExpression)
	var made string
	err := db.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&made)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if made != want {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, q := range []string{fmt.Sprintf(`DROP INDEX IF EXISTS %q`, name), want} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	_, err = db.ExecContext(ctx, fmt.Sprintf(`DROP INDEX IF EXISTS %q`, t+"_id_lookup"))
	return err
}

// idExpression is how FerretDB v1.24's SQLite backend finds a document by
// _id (its metadata.IDColumn).
const idExpression = `_ferretdb_sjson->'$._id'`

func (e *embedded) stop() {
	e.cancel()
	<-e.done
}

// levelFloor drops records below a level (and FerretDB's dumps of the
// commands it refused, see Handle), and defers With and WithGroup
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
	// FerretDB logs every command it refuses as a warning, the response
	// dumped whole: the store answers for those it expects (a taken key),
	// and the driver ends its sessions at close with a command FerretDB v1
	// does not know, which would greet every stop. A refusal that closes
	// the connection is logged as an error, and kept.
	if r.Level < slog.LevelError && (strings.HasPrefix(r.Message, "Response header: ") || strings.HasPrefix(r.Message, "Response message:")) {
		return nil
	}
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

// checkpoints copies the write-ahead log into the database file in the
// background (see checkpointSoon) until stop is closed.
func (s *Store) checkpoints(stop <-chan struct{}) {
	wait := checkpointSoon
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var lastLog, lastDone int64
	for {
		select {
		case <-stop:
			return
		case <-timer.C:
		}
		var busy, log, done int64
		err := s.sqlr.db.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done)
		switch {
		case err != nil || (log == lastLog && done == lastDone):
			wait = min(2*wait, checkpointIdle) // nothing new (or not now): wait longer
		default:
			wait = checkpointSoon
		}
		lastLog, lastDone = log, done
		timer.Reset(wait)
	}
}

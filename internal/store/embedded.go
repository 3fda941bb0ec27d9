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

// walCheckpointPages is how many pages SQLite's write-ahead log holds
// before a commit copies them into the database file (SQLite's default is
// 1,000). Every submission rewrites the same hot pages of the indexes; a
// checkpoint copies each page once however often it was written since the
// last, so a longer log copies far less and the one writer spends less of
// its turn on it: 64 clients submitting for 40 s made 11% more submissions
// with 10,000 than with 1,000, p99 alike (70.9 and 67.8 ms), and with
// 30,000 the checkpoints grew long enough to raise the p99 to 72 ms. The
// log then reaches about 40 MiB on disk. A commit is made durable in the
// log either way (synchronous=FULL), so this changes no acknowledgement.
const walCheckpointPages = 10_000

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

// Package store persists: children, responses, accounts, sign-ins, the
// audit trail and form versions, in MongoDB. It is the only package that
// knows MongoDB: with no URI it runs an embedded FerretDB (SQLite under the
// data directory) and talks to it through the same official driver, so one
// code path serves both. It relies on single-document atomicity and unique
// indexes only (FerretDB v1 has no transactions). It knows no rules of the
// domain: what a response derives is stored as the deriver wrote it, and
// state derived from responses follows them through OnCommit. The embedded
// store's own handling lives in embedded.go (start, the _id lookup index),
// mirror.go (what hot paths look up, the conditional replace) and
// committer.go (group commit).
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsoncodec"
	"go.mongodb.org/mongo-driver/event"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readpref"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/x/mongo/driver"
	"go.mongodb.org/mongo-driver/x/mongo/driver/topology"
)

// Errors the store returns; callers test them with errors.Is.
var (
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("conflict")
	ErrUnavailable = errors.New("store unavailable")
)

// Options say which store to open.
type Options struct {
	URI      string // empty: embedded FerretDB under DataDir
	DataDir  string
	Database string
	Logger   *slog.Logger
	// Now stamps records; time.Now when nil.
	Now func() time.Time
	// ObserveCommand, if set, is told how long each command took, by its
	// name (for metrics).
	ObserveCommand func(name string, took time.Duration)
}

// Store is an open store.
type Store struct {
	reads  *mongo.Client
	writes *mongo.Client // the same client as reads on MongoDB
	db     *mongo.Database
	wdb    *mongo.Database
	embed  *embedded
	log    *slog.Logger
	now    func() time.Time
	mirror *mirror               // embedded store only
	sqlr   *sqlReader            // embedded store only: queries FerretDB would answer by a full read
	hooks  atomic.Pointer[hooks] // told of committed changes (OnCommit, OnChildCommit)
	reg    *bsoncodec.Registry   // plainRegistry, for documents decoded by hand
	closed atomic.Bool
	// stopCheckpoints ends the embedded store's background checkpoints
	// (see checkpoints).
	stopCheckpoints func()
	// calendarMu makes this instance's calendar addresses one at a time.
	calendarMu sync.Mutex
	// Group commit of the inserts on hot paths, by collection.
	inserts map[string]*committer
}

// hooks are the functions told of committed changes.
type hooks struct {
	responses []func(id string, next *Response)
	children  []func(id string, next *Child)
}

// OnCommit has fn told of every committed change to a response, in the
// order they commit: its state now, or nil when it was erased. Components
// that keep state derived from responses (the summary sums, the caseload)
// follow the store through it; fn runs on the writer's goroutine and must
// be quick. Writes made by other instances are not told (see ErasedSince
// and Filter.ChangedSince). Call it before serving.
func (s *Store) OnCommit(fn func(id string, next *Response)) {
	s.addHook(func(h *hooks) { h.responses = append(h.responses, fn) })
}

// OnChildCommit is OnCommit for children: a child's state now, or nil once
// erased.
func (s *Store) OnChildCommit(fn func(id string, next *Child)) {
	s.addHook(func(h *hooks) { h.children = append(h.children, fn) })
}

func (s *Store) addHook(add func(*hooks)) {
	for {
		old := s.hooks.Load()
		h := &hooks{}
		if old != nil {
			h.responses, h.children = slices.Clone(old.responses), slices.Clone(old.children)
		}
		add(h)
		if s.hooks.CompareAndSwap(old, h) {
			return
		}
	}
}

// committed tells the hooks of a change to a response.
func (s *Store) committed(id string, next *Response) {
	if h := s.hooks.Load(); h != nil {
		for _, fn := range h.responses {
			fn(id, next)
		}
	}
}

// childCommitted tells the hooks of a change to a child.
func (s *Store) childCommitted(id string, next *Child) {
	if h := s.hooks.Load(); h != nil {
		for _, fn := range h.children {
			fn(id, next)
		}
	}
}

// commandMonitor tells observe of every command finished; nil observes
// nothing.
func commandMonitor(observe func(string, time.Duration)) *event.CommandMonitor {
	if observe == nil {
		return nil
	}
	return &event.CommandMonitor{
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) { observe(e.CommandName, e.Duration) },
		Failed:    func(_ context.Context, e *event.CommandFailedEvent) { observe(e.CommandName, e.Duration) },
	}
}

// Open connects to the store (starting the embedded one if no URI is given),
// checks that it answers, and creates the indexes.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Store{log: o.Logger, now: o.Now, reg: plainRegistry()}
	uri := o.URI
	if uri == "" {
		e, err := startEmbedded(o.DataDir, o.Logger)
		if err != nil {
			return nil, err
		}
		s.embed, uri = e, e.uri
	}
	base := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second).
		// Acknowledged means journaled on a majority: a reply the client sees
		// survives the loss of the primary.
		SetWriteConcern(&writeconcern.WriteConcern{W: "majority", Journal: boolPtr(true)}).
		SetRegistry(s.reg).
		SetMonitor(commandMonitor(o.ObserveCommand))
	if s.embed != nil {
		base.SetWriteConcern(&writeconcern.WriteConcern{W: 1, Journal: boolPtr(true)})
	}
	var err error
	if s.reads, err = mongo.Connect(ctx, base); err != nil {
		s.closeEmbedded()
		return nil, fmt.Errorf("connect to store: %w", err)
	}
	s.writes = s.reads
	if s.embed != nil {
		// SQLite has one writer: many concurrent writers spin on its lock and
		// the tail latency explodes. One connection for writes queues them
		// in the driver instead.
		wopts := *base
		wopts.SetMaxPoolSize(1)
		if s.writes, err = mongo.Connect(ctx, &wopts); err != nil {
			_ = s.reads.Disconnect(ctx)
			s.closeEmbedded()
			return nil, fmt.Errorf("connect to store: %w", err)
		}
	}
	s.db = s.reads.Database(o.Database)
	s.wdb = s.writes.Database(o.Database)
	s.inserts = map[string]*committer{}
	for _, coll := range []string{collResponses, collRevisions, collAudit, collChildren} {
		s.inserts[coll] = newCommitter(s.wdb.Collection(coll))
	}
	if err := s.Ping(ctx); err != nil {
		_ = s.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := s.ensureIndexes(ctx); err != nil {
		_ = s.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("create indexes: %w", err)
	}
	if s.embed != nil {
		if err := s.embed.indexIDLookups(ctx, o.Database, readByID()); err != nil {
			_ = s.Close(context.WithoutCancel(ctx))
			return nil, err
		}
		if s.sqlr, err = openSQLReader(s.embed.dir, o.Database); err != nil {
			_ = s.Close(context.WithoutCancel(ctx))
			return nil, err
		}
		if err := s.sqlr.ensureIndexes(ctx); err != nil {
			_ = s.Close(context.WithoutCancel(ctx))
			return nil, err
		}
		if err := s.loadMirror(ctx); err != nil {
			_ = s.Close(context.WithoutCancel(ctx))
			return nil, err
		}
		stop, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			s.checkpoints(stop)
		}()
		s.stopCheckpoints = func() { close(stop); <-stopped }
	}
	return s, nil
}

func boolPtr(b bool) *bool { return &b }

// plainRegistry decodes documents and arrays held in interface values as
// map[string]any and []any, so answers read back are the same Go types the
// validator produced, not the driver's own.
func plainRegistry() *bsoncodec.Registry {
	reg := bson.NewRegistry()
	reg.RegisterTypeMapEntry(bson.TypeEmbeddedDocument, reflect.TypeOf(map[string]any(nil)))
	reg.RegisterTypeMapEntry(bson.TypeArray, reflect.TypeOf([]any(nil)))
	return reg
}

// Embedded reports whether this store runs in-process.
func (s *Store) Embedded() bool { return s.embed != nil }

// Ping checks that the store answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.reads.Ping(ctx, readpref.Primary()); err != nil {
		return classify(fmt.Errorf("ping store: %w", err))
	}
	return nil
}

// Close disconnects and stops the embedded store, in reverse order of start.
// Closing again does nothing.
func (s *Store) Close(ctx context.Context) error {
	if s.closed.Swap(true) {
		return nil
	}
	for _, c := range s.inserts {
		c.close()
	}
	var errs []error
	if s.writes != nil && s.writes != s.reads {
		errs = append(errs, s.writes.Disconnect(ctx))
	}
	if s.reads != nil {
		errs = append(errs, s.reads.Disconnect(ctx))
	}
	if s.stopCheckpoints != nil {
		s.stopCheckpoints()
	}
	if s.sqlr != nil {
		errs = append(errs, s.sqlr.close())
	}
	s.closeEmbedded()
	return errors.Join(errs...)
}

func (s *Store) closeEmbedded() {
	if s.embed != nil {
		s.embed.stop()
	}
}

func (s *Store) ensureIndexes(ctx context.Context) error {
	specs := map[string][]mongo.IndexModel{
		collResponses: {
			{Keys: bson.D{{Key: "slot", Value: 1}}, Options: options.Index().SetUnique(true).SetName("slot_unique")},
			{Keys: bson.D{{Key: "child_id", Value: 1}, {Key: "site", Value: 1}}, Options: options.Index().SetName("child_site")},
			{Keys: bson.D{{Key: "form", Value: 1}, {Key: "status", Value: 1}, {Key: "timepoint", Value: 1}, {Key: "completed_on", Value: 1}}, Options: options.Index().SetName("summary_scan")},
			{Keys: bson.D{{Key: "site", Value: 1}, {Key: "child_id", Value: 1}}, Options: options.Index().SetName("site_child")},
			{Keys: bson.D{{Key: "form", Value: 1}, {Key: "updated_at", Value: 1}}, Options: options.Index().SetName("changed")},
			{Keys: bson.D{{Key: "updated_at", Value: 1}}, Options: options.Index().SetName("changed_any")},
		},
		collRevisions: {
			{Keys: bson.D{{Key: "response_id", Value: 1}, {Key: "revision", Value: 1}}, Options: options.Index().SetName("response_revision")},
			{Keys: bson.D{{Key: "record.child_id", Value: 1}}, Options: options.Index().SetName("child")},
		},
		collChildren: {
			{Keys: bson.D{{Key: "site", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("site_id")},
			{Keys: bson.D{{Key: "updated_at", Value: 1}}, Options: options.Index().SetName("changed")},
		},
		collUsers: {
			{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true).SetName("email_unique")},
		},
		collRefreshTokens: {
			{Keys: bson.D{{Key: "family", Value: 1}}, Options: options.Index().SetName("family")},
			{Keys: bson.D{{Key: "user_id", Value: 1}}, Options: options.Index().SetName("user")},
			{Keys: bson.D{{Key: "expires_at", Value: 1}}, Options: options.Index().SetName("expires")},
		},
		collSessions: {
			{Keys: bson.D{{Key: "code_hash", Value: 1}}, Options: options.Index().SetUnique(true).SetName("code_unique")},
			{Keys: bson.D{{Key: "child_id", Value: 1}}, Options: options.Index().SetName("child")},
			{Keys: bson.D{{Key: "expires_at", Value: 1}}, Options: options.Index().SetName("expires")},
			{Keys: bson.D{{Key: "spent_at", Value: 1}}, Options: options.Index().SetName("spent")},
			{Keys: bson.D{{Key: "grant_hash", Value: 1}}, Options: options.Index().SetName("grant")},
		},
		collAttempts: {
			{Keys: bson.D{{Key: "window", Value: 1}}, Options: options.Index().SetName("window")},
		},
		collErasures: {
			{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName("at")},
		},
		collCalendars: {
			{Keys: bson.D{{Key: "user_id", Value: 1}}, Options: options.Index().SetUnique(true).SetName("user_unique")},
		},
		collDeliveries: {
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "next_at", Value: 1}}, Options: options.Index().SetName("due")},
			{Keys: bson.D{{Key: "webhook_id", Value: 1}, {Key: "status", Value: 1}, {Key: "next_at", Value: 1}}, Options: options.Index().SetName("webhook_due")},
			{Keys: bson.D{{Key: "child_id", Value: 1}}, Options: options.Index().SetName("child")},
			{Keys: bson.D{{Key: "webhook_id", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("webhook_created")},
		},
		collClaims: {
			{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName("at")},
		},
		collAudit: {
			{Keys: bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("at_id")},
			{Keys: bson.D{{Key: "actor", Value: 1}, {Key: "at", Value: -1}}, Options: options.Index().SetName("actor_at")},
		},
	}
	if s.embed != nil {
		// Every collection exists from the start, so that its lookups by _id
		// can be indexed (indexIDLookups). Only those missing are made: the
		// embedded server logs a refusal to make one that exists as a
		// warning, which would greet every start.
		have, err := s.wdb.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			return classify(fmt.Errorf("list collections: %w", err))
		}
		for _, coll := range collections() {
			if slices.Contains(have, coll) {
				continue
			}
			err := s.wdb.CreateCollection(ctx, coll)
			var ce mongo.CommandError
			if err != nil && !(errors.As(err, &ce) && ce.Code == codeNamespaceExists) {
				return classify(fmt.Errorf("%s: %w", coll, err))
			}
		}
	}
	if err := s.calendarsOnePerAccount(ctx); err != nil {
		return classify(fmt.Errorf("%s: %w", collCalendars, err))
	}
	for coll, models := range specs {
		for _, m := range models {
			if err := s.ensureIndex(ctx, coll, m); err != nil {
				return classify(fmt.Errorf("%s: %w", coll, err))
			}
		}
	}
	return nil
}

// ensureIndex creates one index (FerretDB v1.24 panics on a createIndexes
// that lists several indexes of which some exist already, as on every
// restart). The embedded store keeps unique indexes only: FerretDB v1
// answers every query but one on _id alone by reading the whole collection,
// so there an index other than a unique one costs each insert a JSON
// extraction per key and gives nothing back. One made by an earlier version
// is dropped.
func (s *Store) ensureIndex(ctx context.Context, coll string, m mongo.IndexModel) error {
	indexes := s.wdb.Collection(coll).Indexes()
	if s.embed == nil || (m.Options.Unique != nil && *m.Options.Unique) {
		_, err := indexes.CreateOne(ctx, m)
		return err
	}
	return s.dropIndex(ctx, coll, *m.Options.Name)
}

// dropIndex drops the index of coll named name, if there is one.
func (s *Store) dropIndex(ctx context.Context, coll, name string) error {
	indexes := s.wdb.Collection(coll).Indexes()
	specs, err := indexes.ListSpecifications(ctx)
	if err != nil {
		return err
	}
	for _, spec := range specs {
		if spec.Name == name {
			_, err := indexes.DropOne(ctx, spec.Name)
			return err
		}
	}
	return nil
}

// Collection names.
const (
	collChildren      = "children"
	collResponses     = "responses"
	collRevisions     = "response_revisions"
	collFormVersions  = "form_versions"
	collUsers         = "users"
	collSites         = "sites"
	collRefreshTokens = "refresh_tokens"
	collSessions      = "sessions"
	collAttempts      = "login_failures"
	collAudit         = "audit"
	collCalendars     = "calendar_tokens"
	collErasures      = "erasures"
	collWebhooks      = "webhooks"
	collDeliveries    = "webhook_deliveries"
	collClaims        = "webhook_claims"
	collWebhookMarks  = "webhook_marks"
	collSetup         = "setup"
)

// collections lists every collection the store uses.
func collections() []string {
	return []string{collChildren, collResponses, collRevisions, collFormVersions, collUsers, collSites,
		collRefreshTokens, collSessions, collAttempts, collAudit, collCalendars, collErasures,
		collWebhooks, collDeliveries, collClaims, collWebhookMarks, collSetup}
}

// readByID lists the collections whose documents are looked up by _id; the
// others (the audit trail, the revision history, the erasure notes) are
// only appended to and listed.
func readByID() []string {
	return slices.DeleteFunc(collections(), func(c string) bool {
		return c == collAudit || c == collRevisions || c == collErasures
	})
}

// codeNamespaceExists is the server's error code for creating a collection
// that exists.
const codeNamespaceExists = 48

// errClosed is what the mirror answers once the store is closed, as the
// driver would.
var errClosed = fmt.Errorf("%w: the store is closed", ErrUnavailable)

// classify marks errors that mean the store cannot be reached, so callers can
// answer "try again later" rather than fail: no server to select, a broken
// connection, a timeout, and a server that answers it is shutting down or
// is no longer the primary (a replica set's election).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var sel topology.ServerSelectionError
	var se mongo.ServerError
	var pool driver.RetryablePoolError // the pool cleared after another operation lost its connection
	if errors.As(err, &sel) || mongo.IsNetworkError(err) || mongo.IsTimeout(err) || (errors.As(err, &pool) && pool.Retryable()) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, mongo.ErrClientDisconnected) ||
		(errors.As(err, &se) && (se.HasErrorLabel("RetryableWriteError") || notNow(se))) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// byID reads the document of a collection with an _id; ErrNotFound (as
// "<what> <id>: not found") when there is none.
func byID[T any](ctx context.Context, db *mongo.Database, coll, what, id string) (T, error) {
	var doc T
	err := db.Collection(coll).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		var none T
		return none, fmt.Errorf("%s %s: %w", what, id, ErrNotFound)
	}
	if err != nil {
		var none T
		return none, classify(fmt.Errorf("read %s: %w", what, err))
	}
	return doc, nil
}

// notNow reports whether a server's error says "not now, try again":
// shutting down, interrupted by shutdown or by a change of primary, not the
// primary, unreachable (the codes drivers retry on).
func notNow(se mongo.ServerError) bool {
	for _, code := range []int{6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436} {
		if se.HasErrorCode(code) {
			return true
		}
	}
	return false
}

// insert writes one document through its collection's group commit.
func (s *Store) insert(ctx context.Context, coll string, doc any) error {
	if c := s.inserts[coll]; c != nil {
		return c.insert(ctx, doc)
	}
	_, err := s.wdb.Collection(coll).InsertOne(ctx, doc)
	return err
}

package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// AuditEntry records who did what, when, from where. The store offers no way
// to change or delete one.
type AuditEntry struct {
	ID        string    `bson:"_id"`
	At        time.Time `bson:"at"`
	Actor     string    `bson:"actor"` // user id, "session:<id>", or the email tried
	Role      string    `bson:"role,omitempty"`
	Action    string    `bson:"action"` // e.g. login, login_failed, response.read
	Target    string    `bson:"target,omitempty"`
	Site      string    `bson:"site,omitempty"`
	RequestID string    `bson:"request_id,omitempty"`
	Remote    string    `bson:"remote,omitempty"`
	Detail    string    `bson:"detail,omitempty"`
}

// AppendAudit adds an entry.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) error {
	e.ID = uuid.NewString()
	e.At = s.now().UTC().Truncate(time.Millisecond)
	if err := s.insert(ctx, collAudit, e); err != nil {
		return classify(fmt.Errorf("append audit: %w", err))
	}
	return nil
}

// AuditFilter selects entries; empty fields match all.
type AuditFilter struct {
	Actor, Action, Target, Site string
	From, To                    time.Time
	// Limit is the most entries listed (at most MaxAuditPage; 0: that).
	Limit int64
	// Before lists the entries after this one in the order of the list
	// (older, or as old with a smaller id): the next page.
	Before *AuditCursor
}

// AuditCursor is an entry's place in the list: newest first, then by id.
type AuditCursor struct {
	At time.Time
	ID string
}

// MaxAuditPage is the most entries one read of the audit trail lists.
const MaxAuditPage = 1000

// Audit lists entries, newest first.
// Audit lists entries, newest first (then by id, descending), and says
// whether there are more after them. Each page costs the same however long
// the trail: an index on (at, _id) gives it.
func (s *Store) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, bool, error) {
	if s.closed.Load() {
		return nil, false, errClosed
	}
	if f.Limit <= 0 || f.Limit > MaxAuditPage {
		f.Limit = MaxAuditPage
	}
	var entries []AuditEntry
	var err error
	if s.sqlr != nil {
		entries, err = s.sqlr.audit(ctx, f)
	} else {
		entries, err = s.auditByQuery(ctx, f)
	}
	if err != nil {
		return nil, false, classify(fmt.Errorf("read audit: %w", err))
	}
	more := int64(len(entries)) > f.Limit
	if more {
		entries = entries[:f.Limit]
	}
	return entries, more, nil
}

// auditByQuery reads a page (and one more entry) with MongoDB's index.
func (s *Store) auditByQuery(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	q := bson.D{}
	for _, kv := range []struct{ k, v string }{{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}, {"site", f.Site}} {
		if kv.v != "" {
			q = append(q, bson.E{Key: kv.k, Value: kv.v})
		}
	}
	at := bson.D{}
	if !f.From.IsZero() {
		at = append(at, bson.E{Key: "$gte", Value: f.From.UTC()})
	}
	if !f.To.IsZero() {
		at = append(at, bson.E{Key: "$lte", Value: f.To.UTC()})
	}
	if len(at) > 0 {
		q = append(q, bson.E{Key: "at", Value: at})
	}
	if b := f.Before; b != nil {
		q = append(q, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: b.At.UTC()}}}},
			bson.D{{Key: "at", Value: b.At.UTC()}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: b.ID}}}},
		}})
	}
	cur, err := s.db.Collection(collAudit).Find(ctx, q,
		options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(f.Limit+1))
	if err != nil {
		return nil, err
	}
	entries := []AuditEntry{}
	if err := cur.All(ctx, &entries); err != nil {
		return nil, err
	}
	return entries, nil
}

// EraseChild removes a child and everything recorded about them: responses
// with their history and summary inputs, session links, and the webhook
// deliveries of their responses (not yet sent, or kept for the list). Each step is
// idempotent, so an erasure cut short is finished by running it again; the
// child record goes last, so a half-done erasure is still visible and
// repeatable. Erased response ids are noted (ids only) so that other
// instances drop them from their summaries.
//
// The child is marked first: a response written while the erasure runs
// finds the mark when it checks its child after writing, and removes
// itself (DropErasedResponse); one written before the mark is swept below.
func (s *Store) EraseChild(ctx context.Context, id string) error {
	var marked Child
	err := s.wdb.Collection(collChildren).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "erasing", Value: true}, {Key: "updated_at", Value: s.now().UTC().Truncate(time.Millisecond)}}}}).Decode(&marked)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return classify(fmt.Errorf("erase child: %w", err))
	}
	if s.mirror != nil {
		if c, ok := s.mirror.child(id); ok {
			c.Erasing = true
			s.mirrorChild(c)
		}
	}
	docs, err := s.responsesOfChild(ctx, id)
	if err != nil {
		return classify(fmt.Errorf("erase child: %w", err))
	}
	responses := make([]Response, len(docs))
	for i, d := range docs {
		responses[i] = d.response()
		if err := s.noteErased(ctx, d.ID, ""); err != nil {
			return err
		}
	}
	if err := s.noteErased(ctx, ErasedChild(id), marked.Site); err != nil {
		return err
	}
	type step struct {
		coll string
		q    bson.D
	}
	steps := []step{{collSessions, bson.D{{Key: "child_id", Value: id}}}}
	if s.sqlr == nil {
		steps = append(steps, step{collRevisions, bson.D{{Key: "record.child_id", Value: id}}},
			step{collResponses, bson.D{{Key: "child_id", Value: id}}})
	} else {
		// FerretDB would read every revision and response for a filter on
		// child_id: the documents go one by one, by _id (a response's
		// revisions are <id>#1 to <id>#<revision>).
		for _, d := range docs {
			for n := 1; n <= d.Revision; n++ {
				steps = append(steps, step{collRevisions, bson.D{{Key: "_id", Value: d.ID + "#" + strconv.Itoa(n)}}})
			}
			steps = append(steps, step{collResponses, bson.D{{Key: "_id", Value: d.ID}}})
		}
	}
	// Webhook deliveries of the child's responses (Seq 1 and up: the
	// delivery of the child's erasure itself has none), with their bodies.
	steps = append(steps, step{collDeliveries, bson.D{{Key: "child_id", Value: id}, {Key: "seq", Value: bson.D{{Key: "$gte", Value: 1}}}}},
		step{collChildren, bson.D{{Key: "_id", Value: id}}})
	for _, st := range steps {
		if _, err := s.wdb.Collection(st.coll).DeleteMany(ctx, st.q); err != nil {
			return classify(fmt.Errorf("erase child from %s: %w", st.coll, err))
		}
	}
	s.mirrorErase(id, responses)
	for _, r := range responses {
		s.committed(r.ID, nil)
	}
	s.childCommitted(id, nil)
	return nil
}

// DropErasedResponse removes a response written for a child whose erasure
// ran meanwhile, with its history and its part in the summaries, as the
// erasure would have.
func (s *Store) DropErasedResponse(ctx context.Context, r Response) error {
	if err := s.noteErased(ctx, r.ID, ""); err != nil {
		return err
	}
	for _, st := range []struct {
		coll string
		q    bson.D
	}{
		{collRevisions, bson.D{{Key: "response_id", Value: r.ID}}},
		{collResponses, bson.D{{Key: "_id", Value: r.ID}}},
		{collDeliveries, bson.D{{Key: "key", Value: r.ID}, {Key: "seq", Value: bson.D{{Key: "$gte", Value: 1}}}}},
	} {
		if _, err := s.wdb.Collection(st.coll).DeleteMany(ctx, st.q); err != nil {
			return classify(fmt.Errorf("drop erased response from %s: %w", st.coll, err))
		}
	}
	// The response only: the child's own record goes with its erasure,
	// which may still be under way and must stay repeatable.
	s.mirrorErase("", []Response{r})
	s.committed(r.ID, nil)
	return nil
}

// responsesOfChild reads a child's responses, without answers. The
// embedded store finds their ids in the index of a site's responses
// (q_resp, read alone) and reads each by _id.
func (s *Store) responsesOfChild(ctx context.Context, id string) ([]responseDoc, error) {
	if s.sqlr == nil {
		cur, err := s.db.Collection(collResponses).Find(ctx, bson.D{{Key: "child_id", Value: id}},
			options.Find().SetProjection(bson.D{{Key: "answers", Value: 0}}))
		if err != nil {
			return nil, err
		}
		var docs []responseDoc
		return docs, cur.All(ctx, &docs)
	}
	infos, err := s.sqlr.infos(ctx, "q_resp", field("child_id")+" = ?", []any{id})
	if err != nil {
		return nil, err
	}
	docs := make([]responseDoc, 0, len(infos))
	for _, ri := range infos {
		d, err := s.responseDoc(ctx, ri.ID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// ErasedChild is how ErasedSince lists an erased child: beside the ids of
// erased responses, which are UUIDs.
func ErasedChild(id string) string { return "child:" + id }

// ErasedSince lists the responses erased at or after since, and the
// children (see ErasedChild): what other instances' derived state must
// drop.
func (s *Store) ErasedSince(ctx context.Context, since time.Time) ([]string, error) {
	cur, err := s.db.Collection(collErasures).Find(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$gte", Value: since}}}})
	if err != nil {
		return nil, classify(fmt.Errorf("read erasures: %w", err))
	}
	var gone []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &gone); err != nil {
		return nil, classify(fmt.Errorf("read erasures: %w", err))
	}
	ids := make([]string, len(gone))
	for i, g := range gone {
		ids[i] = g.ID
	}
	return ids, nil
}

// Erased reports whether any of ids (response ids, or children's made by
// ErasedChild) has been erased.
func (s *Store) Erased(ctx context.Context, ids ...string) (bool, error) {
	for _, id := range ids {
		err := s.db.Collection(collErasures).FindOne(ctx, bson.D{{Key: "_id", Value: id}},
			options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return false, classify(fmt.Errorf("read erasures: %w", err))
		}
		return true, nil
	}
	return false, nil
}

// Erasure is a noted erasure: of a response (ID its id) or of a child
// (ID made by ErasedChild, Site the child's site).
type Erasure struct {
	ID   string    `bson:"_id"`
	Site string    `bson:"site,omitempty"`
	At   time.Time `bson:"at"`
}

// ErasuresSince lists the erasures noted at or after since, oldest first.
func (s *Store) ErasuresSince(ctx context.Context, since time.Time) ([]Erasure, error) {
	cur, err := s.db.Collection(collErasures).Find(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$gte", Value: since.UTC()}}}},
		options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, classify(fmt.Errorf("read erasures: %w", err))
	}
	out := []Erasure{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, classify(fmt.Errorf("read erasures: %w", err))
	}
	return out, nil
}

// noteErased notes an erased response or child id (with a child's site,
// nothing else), so that other instances drop it from their summaries and
// webhooks can tell of it.
func (s *Store) noteErased(ctx context.Context, id, site string) error {
	_, err := s.wdb.Collection(collErasures).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}},
		Erasure{ID: id, Site: site, At: s.now().UTC()}, options.Replace().SetUpsert(true))
	if err != nil {
		return classify(fmt.Errorf("note erasure: %w", err))
	}
	return nil
}

package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/lifelong-links/sct/internal/summary"
)

// ErrSlotTaken means another submitted response already holds the child's
// place for this form, timepoint and wave.
var ErrSlotTaken = fmt.Errorf("%w: another submitted response exists for this child, form, timepoint and wave", ErrConflict)

// Response statuses.
const (
	StatusDraft     = "draft"
	StatusSubmitted = "submitted"
)

// Response is the current state of one form response; submitted revisions
// are also kept, whole, in its history.
type Response struct {
	ID          string         `bson:"_id" json:"id"`
	Form        string         `bson:"form" json:"form"`
	Version     string         `bson:"version" json:"version"`
	ChildID     string         `bson:"child_id" json:"child_id"`
	Site        string         `bson:"site" json:"site"`
	Group       string         `bson:"group" json:"group"`
	Timepoint   string         `bson:"timepoint,omitempty" json:"timepoint,omitempty"`
	Wave        int            `bson:"wave" json:"wave"`
	CompletedOn string         `bson:"completed_on,omitempty" json:"completed_on,omitempty"`
	Mode        string         `bson:"mode" json:"mode"`
	Status      string         `bson:"status" json:"status"`
	Answers     map[string]any `bson:"answers" json:"answers"`
	// Revision counts submitted revisions; 0 while it has only been a draft.
	Revision    int        `bson:"revision" json:"revision"`
	BodyHash    string     `bson:"body_hash" json:"-"`
	CreatedAt   time.Time  `bson:"created_at" json:"created_at"`
	UpdatedAt   time.Time  `bson:"updated_at" json:"updated_at"`
	SubmittedAt *time.Time `bson:"submitted_at,omitempty" json:"submitted_at,omitempty"`
	// Inputs is what the response adds to the SCT summaries (submitted SCTs only).
	Inputs *summary.Input `bson:"-" json:"-"`
}

// responseDoc is a response as stored: with the slot that makes "one
// submitted response per child, form, timepoint and wave" a unique index,
// and the summary inputs under stable short names.
type responseDoc struct {
	Response `bson:",inline"`
	Slot     string     `bson:"slot"`
	Inputs   *inputsDoc `bson:"inputs,omitempty"`
}

// inputsDoc has summary.Input's fields in order, with stored names: a Go
// rename must never orphan stored data.
type inputsDoc struct {
	Nominees         int               `bson:"nominees"`
	Relationships    []string          `bson:"relationships,omitempty"`
	KeyPeople        int               `bson:"key_people"`
	KeyRelationships []string          `bson:"key_relationships,omitempty"`
	Support          map[string][4]int `bson:"support,omitempty"`
	LetDown          [4]int            `bson:"let_down"`
	Adequacy         map[string]int    `bson:"adequacy,omitempty"`
}

func toDoc(r Response) responseDoc {
	d := responseDoc{Response: r, Slot: "draft:" + r.ID}
	if r.Status == StatusSubmitted {
		d.Slot = r.Form + "|" + r.ChildID + "|" + r.Timepoint + "|" + strconv.Itoa(r.Wave)
	}
	if r.Inputs != nil {
		in := inputsDoc(*r.Inputs)
		d.Inputs = &in
	}
	return d
}

func (d responseDoc) response() Response {
	r := d.Response
	if d.Inputs != nil {
		in := summary.Input(*d.Inputs)
		r.Inputs = &in
	}
	return r
}

// revisionDoc is one submitted revision in the history.
type revisionDoc struct {
	ID         string      `bson:"_id"` // <response id>#<revision>
	ResponseID string      `bson:"response_id"`
	Revision   int         `bson:"revision"`
	Record     responseDoc `bson:"record"`
}

// Response reads the current state of a response.
func (s *Store) Response(ctx context.Context, id string) (Response, error) {
	var d responseDoc
	err := s.db.Collection(collResponses).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Response{}, fmt.Errorf("response %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Response{}, classify(fmt.Errorf("read response: %w", err))
	}
	return d.response(), nil
}

// Revisions returns every submitted revision of a response, oldest first.
func (s *Store) Revisions(ctx context.Context, id string) ([]Response, error) {
	cur, err := s.db.Collection(collRevisions).Find(ctx, bson.D{{Key: "response_id", Value: id}},
		options.Find().SetSort(bson.D{{Key: "revision", Value: 1}}))
	if err != nil {
		return nil, classify(fmt.Errorf("read revisions: %w", err))
	}
	var docs []revisionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, classify(fmt.Errorf("read revisions: %w", err))
	}
	out := make([]Response, len(docs))
	for i, d := range docs {
		out[i] = d.Record.response()
	}
	return out, nil
}

// InsertResponse stores a new response. It returns ErrConflict when the id
// exists already and ErrSlotTaken when another submitted response holds the
// same child, form, timepoint and wave.
func (s *Store) InsertResponse(ctx context.Context, r Response) error {
	d := toDoc(r)
	if err := s.keepRevision(ctx, d); err != nil {
		return err
	}
	_, err := s.wdb.Collection(collResponses).InsertOne(ctx, d)
	if mongo.IsDuplicateKeyError(err) {
		return s.whichDuplicate(ctx, r.ID)
	}
	if err != nil {
		return classify(fmt.Errorf("insert response: %w", err))
	}
	return nil
}

// UpdateResponse replaces prev with r, provided nobody changed prev in the
// meantime (ErrConflict otherwise). A new submitted revision goes to the
// history first, so history is never missing what the current state shows.
func (s *Store) UpdateResponse(ctx context.Context, r, prev Response) error {
	d := toDoc(r)
	if r.Revision != prev.Revision {
		if err := s.keepRevision(ctx, d); err != nil {
			return err
		}
	}
	res, err := s.wdb.Collection(collResponses).ReplaceOne(ctx,
		bson.D{{Key: "_id", Value: r.ID}, {Key: "revision", Value: prev.Revision}, {Key: "body_hash", Value: prev.BodyHash}}, d)
	if mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("response %s: %w", r.ID, ErrSlotTaken)
	}
	if err != nil {
		return classify(fmt.Errorf("update response: %w", err))
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("response %s changed while this update was made: %w", r.ID, ErrConflict)
	}
	return nil
}

// keepRevision writes a submitted revision to the history. It is an upsert:
// a revision written by an attempt that then lost a race is overwritten by
// the next attempt at that number.
func (s *Store) keepRevision(ctx context.Context, d responseDoc) error {
	if d.Status != StatusSubmitted {
		return nil
	}
	rev := revisionDoc{ID: d.ID + "#" + strconv.Itoa(d.Revision), ResponseID: d.ID, Revision: d.Revision, Record: d}
	_, err := s.wdb.Collection(collRevisions).ReplaceOne(ctx, bson.D{{Key: "_id", Value: rev.ID}}, rev,
		options.Replace().SetUpsert(true))
	if err != nil {
		return classify(fmt.Errorf("keep revision: %w", err))
	}
	return nil
}

func (s *Store) whichDuplicate(ctx context.Context, id string) error {
	n, err := s.db.Collection(collResponses).CountDocuments(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return classify(fmt.Errorf("insert response: %w", err))
	}
	if n > 0 {
		return fmt.Errorf("response %s exists: %w", id, ErrConflict)
	}
	return fmt.Errorf("response %s: %w", id, ErrSlotTaken)
}

// SubmittedResponse returns the submitted response holding a child's place
// for a form, timepoint and wave.
func (s *Store) SubmittedResponse(ctx context.Context, childID, form, timepoint string, wave int) (Response, error) {
	slot := toDoc(Response{Form: form, ChildID: childID, Timepoint: timepoint, Wave: wave, Status: StatusSubmitted}).Slot
	var d responseDoc
	err := s.db.Collection(collResponses).FindOne(ctx, bson.D{{Key: "slot", Value: slot}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Response{}, fmt.Errorf("no submitted %s %s for child %s: %w", form, timepoint, childID, ErrNotFound)
	}
	if err != nil {
		return Response{}, classify(fmt.Errorf("read response: %w", err))
	}
	return d.response(), nil
}

// Filter selects submitted responses for a summary. Empty fields match all.
type Filter struct {
	Form      string
	Timepoint string
	Site      string
	Group     string
	Version   string
	Wave      int
	From, To  string // completed_on, inclusive, YYYY-MM-DD
}

func (f Filter) query() bson.D {
	q := bson.D{{Key: "form", Value: f.Form}, {Key: "status", Value: StatusSubmitted}}
	for _, kv := range []struct{ k, v string }{
		{"timepoint", f.Timepoint}, {"site", f.Site}, {"group", f.Group}, {"version", f.Version},
	} {
		if kv.v != "" {
			q = append(q, bson.E{Key: kv.k, Value: kv.v})
		}
	}
	if f.Wave > 0 {
		q = append(q, bson.E{Key: "wave", Value: f.Wave})
	}
	dates := bson.D{}
	if f.From != "" {
		dates = append(dates, bson.E{Key: "$gte", Value: f.From})
	}
	if f.To != "" {
		dates = append(dates, bson.E{Key: "$lte", Value: f.To})
	}
	if len(dates) > 0 {
		q = append(q, bson.E{Key: "completed_on", Value: dates})
	}
	return q
}

// EachSCTInput calls fn with the summary inputs of every submitted response
// the filter selects. Only the inputs are read, never the answers.
func (s *Store) EachSCTInput(ctx context.Context, f Filter, fn func(summary.Input)) error {
	cur, err := s.db.Collection(collResponses).Find(ctx, f.query(),
		options.Find().SetProjection(bson.D{{Key: "inputs", Value: 1}}).SetBatchSize(1000))
	if err != nil {
		return classify(fmt.Errorf("read summary inputs: %w", err))
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d struct {
			Inputs *inputsDoc `bson:"inputs"`
		}
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("decode summary inputs: %w", err)
		}
		if d.Inputs != nil {
			fn(summary.Input(*d.Inputs))
		}
	}
	return classify(cur.Err())
}

package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
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
	ID          string         `bson:"_id"`
	Form        string         `bson:"form"`
	Version     string         `bson:"version"`
	ChildID     string         `bson:"child_id"`
	Site        string         `bson:"site"`
	Group       string         `bson:"group"`
	Timepoint   string         `bson:"timepoint,omitempty"`
	Wave        int            `bson:"wave"`
	CompletedOn string         `bson:"completed_on,omitempty"`
	Mode        string         `bson:"mode"`
	Language    string         `bson:"language,omitempty"` // a canonical BCP 47 tag; empty in records made before languages were kept (all English)
	Status      string         `bson:"status"`
	Answers     map[string]any `bson:"-"` // stored as responseDoc.Answers
	// AnswersJSON is Answers encoded as JSON (encoding/json's encoding of
	// the map), when the writer has made it already: the store then writes
	// it as it is instead of encoding Answers again. Whoever changes
	// Answers must drop it. Never set on a response read from the store.
	AnswersJSON []byte `bson:"-" json:"-"`
	// Revision counts submitted revisions; 0 while it has only been a draft.
	Revision int `bson:"revision"`
	// RevisionReason is why staff changed a submitted response (free text).
	RevisionReason string     `bson:"revision_reason,omitempty"`
	BodyHash       string     `bson:"body_hash" json:"-"`
	CreatedAt      time.Time  `bson:"created_at"`
	UpdatedAt      time.Time  `bson:"updated_at"`
	SubmittedAt    *time.Time `bson:"submitted_at,omitempty"`
	// Derived is what a submitted response adds to its form's tables, as
	// JSON, worked out once at submission by the form's deriver (nil when
	// the form has none, and for drafts). The store keeps it as it is given.
	Derived json.RawMessage `bson:"-" json:"-"`
	// DerivedValue is the value Derived encodes, as the deriver made it,
	// when the writer has it: the commit hooks read it rather than decoding
	// Derived again. Never set on a response read from the store.
	DerivedValue any `bson:"-" json:"-"`
}

// LanguageOrDefault is the language the response was completed in: its
// own, or English for a record made before languages were kept.
func (r *Response) LanguageOrDefault() string {
	if r.Language == "" {
		return "en"
	}
	return r.Language
}

// responseDoc is a response as stored: with the slot that makes "one
// submitted response per child, form, timepoint and wave" a unique index,
// and the summary inputs under stable short names.
type responseDoc struct {
	Response `bson:",inline"`
	Slot     string       `bson:"slot"`
	Answers  answersText  `bson:"answers"`
	Derived  *derivedText `bson:"derived,omitempty"`
	// Inputs and Practice are where earlier versions kept Derived, for
	// SCTs and practice summaries; they are read, never written.
	Inputs   *derivedText `bson:"inputs,omitempty"`
	Practice *derivedText `bson:"practice,omitempty"`
	// Superseded is the submitted revision this one replaced: written in
	// the same document, so a revision is never lost between the replace
	// and the write to the history.
	Superseded *responseDoc `bson:"superseded,omitempty"`
	// Facts is, on the embedded store, a copy of the fields its index of
	// responses holds, as one JSON array (see factsExpr); never read back
	// from a document.
	Facts string `bson:"q,omitempty"`
}

// Answers and the inputs derived from them are stored as JSON text, one
// string field each. Nothing queries inside them, and FerretDB turns every
// stored value into a Go value on each read, filter or projection: an SCT
// whose answers and inputs are documents reads at about 600 a second, with
// them as text at about 4,000. Documents written with them as documents
// still read.
type (
	answersText struct {
		m    map[string]any
		text []byte // m as JSON, when the writer has it (Response.AnswersJSON)
	}
	derivedText json.RawMessage
)

func (a answersText) MarshalBSONValue() (bsontype.Type, []byte, error) {
	if a.text != nil {
		return bson.TypeString, bsoncore.AppendString(nil, string(a.text)), nil
	}
	return storedAsText(a.m)
}

func (a *answersText) UnmarshalBSONValue(t bsontype.Type, data []byte) error {
	if t != bson.TypeString {
		var m map[string]any
		if err := readStored(t, data, &m); err != nil {
			return err
		}
		for k, v := range m {
			m[k] = plainNumbers(v)
		}
		*a = answersText{m: m}
		return nil
	}
	text, _, ok := bsoncore.ReadString(data)
	if !ok {
		return errors.New("answers: malformed string")
	}
	m, err := decodeAnswers(text)
	*a = answersText{m: m}
	return err
}

func (d derivedText) MarshalBSONValue() (bsontype.Type, []byte, error) {
	return bson.TypeString, bsoncore.AppendString(nil, string(d)), nil
}

// UnmarshalBSONValue reads derived inputs stored as text, or as a document
// by earlier versions (turned into the same JSON).
func (d *derivedText) UnmarshalBSONValue(t bsontype.Type, data []byte) error {
	if t == bson.TypeString {
		text, _, ok := bsoncore.ReadString(data)
		if !ok {
			return errors.New("derived inputs: malformed string")
		}
		*d = derivedText(text)
		return nil
	}
	var v map[string]any
	if err := readStored(t, data, &v); err != nil || v == nil {
		return err
	}
	b, err := json.Marshal(v)
	*d = b
	return err
}

// storedAsText encodes v as a BSON string holding its JSON.
func storedAsText(v any) (bsontype.Type, []byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, nil, err
	}
	return bson.TypeString, bsoncore.AppendString(nil, string(b)), nil
}

// readStored decodes a value stored by storedAsText, or stored as a
// document before that.
func readStored(t bsontype.Type, data []byte, v any) error {
	switch t {
	case bson.TypeString:
		text, _, ok := bsoncore.ReadString(data)
		if !ok {
			return errors.New("malformed string")
		}
		return json.Unmarshal([]byte(text), v)
	case bson.TypeEmbeddedDocument:
		return bson.UnmarshalWithRegistry(plainRegistry(), data, v)
	case bson.TypeNull, bson.TypeUndefined:
		return nil
	}
	return fmt.Errorf("stored as %s, not as text or a document", t)
}

// decodeAnswers reads answers stored as text into the Go types the form
// validator produces: whole numbers as int64, other numbers as float64.
func decodeAnswers(text string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("answers: %w", err)
	}
	for k, v := range m {
		m[k] = plainNumbers(v)
	}
	return m, nil
}

// plainNumbers gives whole numbers as int64 and others as float64, however
// they were decoded: the one form answers have wherever they are read.
func plainNumbers(v any) any {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = plainNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = plainNumbers(e)
		}
	}
	return v
}

func toDoc(r Response) responseDoc {
	d := responseDoc{Response: r, Slot: "draft:" + r.ID, Answers: answersText{m: r.Answers, text: r.AnswersJSON}}
	if r.Status == StatusSubmitted {
		d.Slot = r.Form + "|" + r.ChildID + "|" + r.Timepoint + "|" + strconv.Itoa(r.Wave)
	}
	if r.Derived != nil {
		t := derivedText(r.Derived)
		d.Derived = &t
	}
	d.Superseded = nil // set by UpdateResponse only
	return d
}

// stored is r as the store writes it: with its facts on the embedded store.
func (s *Store) stored(r Response) responseDoc {
	d := toDoc(r)
	if s.sqlr != nil {
		d.Facts = factsOf(d)
	}
	return d
}

func (d responseDoc) response() Response {
	r := d.Response
	r.Answers, r.AnswersJSON, r.DerivedValue = d.Answers.m, nil, nil
	r.Derived = d.derived()
	return r
}

// derived is the stored Derived, wherever this document's version kept it.
func (d responseDoc) derived() json.RawMessage {
	for _, t := range []*derivedText{d.Derived, d.Inputs, d.Practice} {
		if t != nil {
			return json.RawMessage(*t)
		}
	}
	return nil
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
	d, err := s.responseDoc(ctx, id)
	if err != nil {
		return Response{}, err
	}
	return d.response(), nil
}

func (s *Store) responseDoc(ctx context.Context, id string) (responseDoc, error) {
	if !s.knows(id) {
		return responseDoc{}, fmt.Errorf("response %s: %w", id, ErrNotFound)
	}
	return byID[responseDoc](ctx, s.db, collResponses, "response", id)
}

// Revisions returns every submitted revision of a response, oldest first:
// those in the history, the one the current state superseded, and the
// current state.
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
	byRev := map[int]Response{}
	for _, d := range docs {
		byRev[d.Revision] = d.Record.response()
	}
	cd, err := s.responseDoc(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if err == nil {
		if sd := cd.Superseded; sd != nil {
			if _, ok := byRev[sd.Revision]; !ok {
				byRev[sd.Revision] = sd.response()
			}
		}
		if current := cd.response(); current.Status == StatusSubmitted {
			if _, ok := byRev[current.Revision]; !ok {
				byRev[current.Revision] = current
			}
		}
	}
	out := make([]Response, 0, len(byRev))
	for _, r := range byRev {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Response) int { return a.Revision - b.Revision })
	return out, nil
}

// InsertResponse stores a new response. It returns ErrConflict when the id
// exists already and ErrSlotTaken when another submitted response holds the
// same child, form, timepoint and wave.
func (s *Store) InsertResponse(ctx context.Context, r Response) error {
	d := s.stored(r)
	err := s.insert(ctx, collResponses, d)
	if mongo.IsDuplicateKeyError(err) {
		return s.whichDuplicate(ctx, r.ID)
	}
	if err != nil {
		return classify(fmt.Errorf("insert response: %w", err))
	}
	s.wrote(nil, r)
	s.committed(r.ID, &r)
	return nil
}

// UpdateResponse replaces prev with r, provided nobody changed prev in the
// meantime (ErrConflict otherwise). A submitted prev goes into r's document
// (written atomically with it) and then to the history; whatever prev itself
// had superseded, read from the store, is made sure of in the history
// first, before its last copy is overwritten.
func (s *Store) UpdateResponse(ctx context.Context, r, prev Response) error {
	if prev.Status == StatusSubmitted {
		stored, err := s.responseDoc(ctx, prev.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err == nil && stored.Superseded != nil {
			if err := s.keepRevision(ctx, *stored.Superseded); err != nil {
				return err
			}
		}
	}
	d := s.stored(r)
	if prev.Status == StatusSubmitted && prev.Revision != r.Revision {
		p := toDoc(prev)
		d.Superseded = &p
	}
	replaced, err := s.replaceIfCurrent(ctx, d, prev)
	if err != nil {
		if mongo.IsDuplicateKeyError(err) || s.slotHeldByOther(ctx, d) {
			return fmt.Errorf("response %s: %w", r.ID, ErrSlotTaken)
		}
		return classify(fmt.Errorf("update response: %w", err))
	}
	if !replaced {
		return fmt.Errorf("response %s changed while this update was made: %w", r.ID, ErrConflict)
	}
	s.wrote(&prev, r)
	s.committed(r.ID, &r)
	if d.Superseded != nil {
		return s.keepRevision(ctx, *d.Superseded)
	}
	return nil
}

// replaceIfCurrent replaces the stored response with d provided it is still
// prev (the same revision and content), and reports whether it did. On
// MongoDB the condition is the replace's filter; the embedded store checks
// it under a lock instead (see replaceUnderLock).
func (s *Store) replaceIfCurrent(ctx context.Context, d responseDoc, prev Response) (bool, error) {
	if s.mirror != nil {
		return s.replaceUnderLock(ctx, d, prev)
	}
	res, err := s.wdb.Collection(collResponses).ReplaceOne(ctx,
		bson.D{{Key: "_id", Value: d.ID}, {Key: "revision", Value: prev.Revision}, {Key: "body_hash", Value: prev.BodyHash}}, d)
	return err == nil && res.MatchedCount > 0, err
}

// slotHeldByOther reports whether another response holds d's slot. FerretDB
// reports a unique index broken by an update as an internal error rather
// than a duplicate key, so the cause is looked up rather than read off it.
func (s *Store) slotHeldByOther(ctx context.Context, d responseDoc) bool {
	if d.Status != StatusSubmitted {
		return false
	}
	n, err := s.db.Collection(collResponses).CountDocuments(ctx,
		bson.D{{Key: "slot", Value: d.Slot}, {Key: "_id", Value: bson.D{{Key: "$ne", Value: d.ID}}}})
	return err == nil && n > 0
}

// keepRevision adds a committed submitted state to the history unless that
// revision is there already: an entry, once written, is never replaced.
func (s *Store) keepRevision(ctx context.Context, d responseDoc) error {
	if d.Status != StatusSubmitted || d.Revision < 1 {
		return nil
	}
	rev := revisionDoc{ID: d.ID + "#" + strconv.Itoa(d.Revision), ResponseID: d.ID, Revision: d.Revision, Record: d}
	err := s.insert(ctx, collRevisions, rev)
	if err != nil && !mongo.IsDuplicateKeyError(err) {
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

// SlotHolder returns the id and completion date of the submitted response
// holding a child's place for a form, timepoint and wave.
func (s *Store) SlotHolder(ctx context.Context, childID, form, timepoint string, wave int) (id, completedOn string, err error) {
	slot := toDoc(Response{Form: form, ChildID: childID, Timepoint: timepoint, Wave: wave, Status: StatusSubmitted}).Slot
	if s.closed.Load() {
		return "", "", errClosed
	}
	if s.mirror != nil {
		if id, completedOn, ok := s.mirror.slot(form, childID, timepoint, wave); ok {
			return id, completedOn, nil
		}
		return "", "", fmt.Errorf("no submitted %s %s for child %s: %w", form, timepoint, childID, ErrNotFound)
	}
	var d struct {
		ID          string `bson:"_id"`
		CompletedOn string `bson:"completed_on"`
	}
	err = s.db.Collection(collResponses).FindOne(ctx, bson.D{{Key: "slot", Value: slot}},
		options.FindOne().SetProjection(bson.D{{Key: "completed_on", Value: 1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", "", fmt.Errorf("no submitted %s %s for child %s: %w", form, timepoint, childID, ErrNotFound)
	}
	if err != nil {
		return "", "", classify(fmt.Errorf("read response: %w", err))
	}
	return d.ID, d.CompletedOn, nil
}

// Filter selects submitted responses of one form for a summary. Other empty
// fields match all.
type Filter struct {
	Form      string
	Timepoint string
	Site      string
	Group     string
	Version   string
	Wave      int
	From, To  string // completed_on, inclusive, YYYY-MM-DD
	// ChangedSince selects responses written at or after it (zero: any).
	ChangedSince time.Time
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
	if !f.ChangedSince.IsZero() {
		q = append(q, bson.E{Key: "updated_at", Value: bson.D{{Key: "$gte", Value: f.ChangedSince}}})
	}
	return q
}

// Derived is what one submitted response derived at submission, with the
// facts tables select and group by.
type Derived struct {
	ID, ChildID, Form, Version, Site, Group, Timepoint, CompletedOn string
	Wave                                                            int
	Inputs                                                          json.RawMessage
}

// EachDerived calls fn with the derived inputs of every submitted response
// the filter selects (those with none are passed over), read from a cursor
// without the answers.
func (s *Store) EachDerived(ctx context.Context, f Filter, fn func(Derived) error) error {
	if s.closed.Load() {
		return errClosed
	}
	if s.sqlr != nil {
		return s.sqlr.eachDerived(ctx, f, runtime.NumCPU(), fn)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cur, err := s.db.Collection(collResponses).Find(ctx, f.query(),
		options.Find().SetProjection(bson.D{{Key: "answers", Value: 0}, {Key: "superseded", Value: 0}}).SetBatchSize(1000))
	if err != nil {
		return classify(fmt.Errorf("read derived inputs: %w", err))
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d responseDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("decode derived inputs: %w", err)
		}
		in := d.derived()
		if in == nil {
			continue
		}
		if err := fn(Derived{ID: d.ID, ChildID: d.ChildID, Form: d.Form, Version: d.Version, Site: d.Site, Group: d.Group,
			Timepoint: d.Timepoint, CompletedOn: d.CompletedOn, Wave: d.Wave, Inputs: in}); err != nil {
			return err
		}
	}
	return classify(cur.Err())
}

// EachResponse calls fn with every submitted response of a form the filter
// selects, one at a time from a cursor, so that an export of any size holds
// a batch of responses in memory at most. The responses come without their
// derived inputs and superseded revision: an export needs the answers.
func (s *Store) EachResponse(ctx context.Context, f Filter, fn func(Response) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// No sort: FerretDB sorts in memory, again for every batch of the
	// cursor, which would hold the whole collection and cost a full read per
	// batch. Rows come in the order they are stored.
	// No projection either: FerretDB applies it after decoding each document,
	// on the one goroutine that reads the cursor, which sets the pace.
	cur, err := s.db.Collection(collResponses).Find(ctx, f.query(), options.Find().SetBatchSize(eachBatch))
	if err != nil {
		return classify(fmt.Errorf("read responses: %w", err))
	}
	// The store reads the next batch while fn works through this one: on
	// the embedded store the reading costs a core of its own.
	batches := make(chan []bson.Raw, 1)
	var readErr error
	go func() {
		defer close(batches)
		defer cur.Close(context.WithoutCancel(ctx))
		var batch []bson.Raw
		for cur.Next(ctx) {
			batch = append(batch, slices.Clone(cur.Current))
			if cur.RemainingBatchLength() == 0 || len(batch) == eachBatch {
				select {
				case batches <- batch:
				case <-ctx.Done():
					return
				}
				batch = nil
			}
		}
		if readErr = cur.Err(); readErr == nil && len(batch) > 0 {
			select {
			case batches <- batch:
			case <-ctx.Done():
			}
		}
	}()
	err = func() error {
		for batch := range batches {
			for _, raw := range batch {
				var d struct { // a responseDoc without what an export leaves out
					Response `bson:",inline"`
					Answers  answersText `bson:"answers"`
				}
				if err := bson.UnmarshalWithRegistry(s.reg, raw, &d); err != nil {
					return fmt.Errorf("decode response: %w", err)
				}
				d.Response.Answers = d.Answers.m
				if err := fn(d.Response); err != nil {
					return err
				}
			}
		}
		return nil
	}()
	cancel()
	for range batches { // the reader has stopped once batches is closed
	}
	if err != nil {
		return err
	}
	return classify(readErr)
}

// eachBatch is how many responses EachResponse asks the store for at a time.
const eachBatch = 500

// StoredForm is the document a response is stored as.
func StoredForm(r Response) any { return toDoc(r) }

// InsertRaw inserts a document into a collection through the same write
// client the server uses, with nothing else: the baseline a load test
// compares the server's submissions with.
func (s *Store) InsertRaw(ctx context.Context, collection string, doc any) error {
	_, err := s.wdb.Collection(collection).InsertOne(ctx, doc)
	return classify(err)
}

// ImportResponses writes many new responses at once (in batches), as a
// migration of existing records would: each must be complete, with its
// summary inputs derived already. It stops at the first batch the store
// refuses and reports how many were written before it.
func (s *Store) ImportResponses(ctx context.Context, rs []Response) (int, error) {
	const batch = 500
	written := 0
	for start := 0; start < len(rs); start += batch {
		part := rs[start:min(start+batch, len(rs))]
		docs := make([]any, len(part))
		for i, r := range part {
			docs[i] = s.stored(r)
		}
		if _, err := s.wdb.Collection(collResponses).InsertMany(ctx, docs); err != nil {
			return written, classify(fmt.Errorf("import responses: %w", err))
		}
		for _, r := range part {
			s.wrote(nil, r)
			s.committed(r.ID, &r)
		}
		written += len(part)
	}
	return written, nil
}

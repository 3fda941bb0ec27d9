package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/lifelong-links/sct/internal/summary"
)

// Summary inputs are kept twice: on each submitted response (the truth) and
// added up per bucket (one day of one form version, site, group, timepoint
// and wave), so that a summary never reads responses. FerretDB v1 reads a
// whole collection for any query that is not by _id, so everything on a hot
// path here goes by _id.
//
// A write that changes what is counted first records the change in the
// journal, then writes the response, then applies the change to the buckets
// and deletes the journal entry. Applying is idempotent: each bucket update
// carries the entry's marker and is refused once the marker is there. At
// open, entries left by a crash are applied if their response write was
// committed and dropped if not, so buckets always come back equal to a
// rebuild from the responses.

type bucketDoc struct {
	ID        string    `bson:"_id"`
	Form      string    `bson:"form"`
	Site      string    `bson:"site"`
	Group     string    `bson:"group"`
	Timepoint string    `bson:"timepoint"`
	Version   string    `bson:"version"`
	Wave      int       `bson:"wave"`
	Day       string    `bson:"day"`
	Tally     tallyDoc  `bson:"tally"`
	Applied   []string  `bson:"applied"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// tallyDoc is a summary.Tally as stored; ratings are keyed r1..r4 and
// adequacy answers a1..a3 so that $inc can address them by name.
type tallyDoc struct {
	Respondents       int                       `bson:"respondents"`
	NamedAnyone       int                       `bson:"named_anyone"`
	NomineeSum        int                       `bson:"nominee_sum"`
	NomineeSumSquares int                       `bson:"nominee_sum_squares"`
	NamedKeyPerson    int                       `bson:"named_key_person"`
	Relationships     map[string]int            `bson:"relationships"`
	KeyRelationships  map[string]int            `bson:"key_relationships"`
	Support           map[string]map[string]int `bson:"support"`
	LetDown           map[string]int            `bson:"let_down"`
	Adequacy          map[string]map[string]int `bson:"adequacy"`
}

func (d tallyDoc) tally() summary.Tally {
	t := summary.Tally{Respondents: d.Respondents, NamedAnyone: d.NamedAnyone, NomineeSum: d.NomineeSum,
		NomineeSumSquares: d.NomineeSumSquares, NamedKeyPerson: d.NamedKeyPerson,
		Relationships: d.Relationships, KeyRelationships: d.KeyRelationships,
		Support: map[string][4]int{}, Adequacy: map[string][3]int{}}
	for s, m := range d.Support {
		var c [4]int
		for i := range c {
			c[i] = m["r"+strconv.Itoa(i+1)]
		}
		t.Support[s] = c
	}
	for i := range t.LetDown {
		t.LetDown[i] = d.LetDown["r"+strconv.Itoa(i+1)]
	}
	for s, m := range d.Adequacy {
		var c [3]int
		for i := range c {
			c[i] = m["a"+strconv.Itoa(i+1)]
		}
		t.Adequacy[s] = c
	}
	return t
}

// incFields is the $inc that adds (sign 1) or removes (sign -1) one
// response's inputs.
func incFields(in summary.Input, sign int) bson.D {
	var t summary.Tally
	t.Add(in)
	d := bson.D{}
	add := func(path string, n int) {
		if n != 0 {
			d = append(d, bson.E{Key: "tally." + path, Value: sign * n})
		}
	}
	add("respondents", t.Respondents)
	add("named_anyone", t.NamedAnyone)
	add("nominee_sum", t.NomineeSum)
	add("nominee_sum_squares", t.NomineeSumSquares)
	add("named_key_person", t.NamedKeyPerson)
	for code, n := range t.Relationships {
		add("relationships."+code, n)
	}
	for code, n := range t.KeyRelationships {
		add("key_relationships."+code, n)
	}
	for s, c := range t.Support {
		for i, n := range c {
			add("support."+s+".r"+strconv.Itoa(i+1), n)
		}
	}
	for i, n := range t.LetDown {
		add("let_down.r"+strconv.Itoa(i+1), n)
	}
	for s, c := range t.Adequacy {
		for i, n := range c {
			add("adequacy."+s+".a"+strconv.Itoa(i+1), n)
		}
	}
	return d
}

func bucketOf(r Response) summary.Key {
	return summary.Key{Form: r.Form, Site: r.Site, Group: r.Group, Timepoint: r.Timepoint, Version: r.Version, Wave: r.Wave, Day: r.CompletedOn}
}

func bucketID(k summary.Key) string {
	return strings.Join([]string{k.Form, k.Site, k.Group, k.Timepoint, k.Version, strconv.Itoa(k.Wave), k.Day}, "|")
}

// counted reports whether a response is in the buckets: submitted, with inputs.
func counted(r Response) bool { return r.Status == StatusSubmitted && r.Inputs != nil }

// change is one bucket update of a journal entry.
type change struct {
	Key    summary.Key `bson:"key"`
	Inputs inputsDoc   `bson:"inputs"`
	Sign   int         `bson:"sign"`
}

// slotChange moves a response's slot pointer.
type slotChange struct {
	Add    string `bson:"add,omitempty"`    // slot now held
	Remove string `bson:"remove,omitempty"` // slot given up
}

type journalDoc struct {
	ID         string      `bson:"_id"`
	ResponseID string      `bson:"response_id"`
	Revision   int         `bson:"revision"`
	BodyHash   string      `bson:"body_hash"` // empty: the response is being erased
	Changes    []change    `bson:"changes"`
	Slots      *slotChange `bson:"slots,omitempty"`
	// History is the submitted revision this write supersedes: kept once
	// the write has proved it was the stored state.
	History   *responseDoc `bson:"history,omitempty"`
	CreatedAt time.Time    `bson:"created_at"`
}

// slotDoc points from a slot to the response holding it: the lookup by _id
// that FerretDB can do quickly. The unique index on responses.slot remains
// what makes a slot single.
type slotDoc struct {
	ID         string `bson:"_id"`
	ResponseID string `bson:"response_id"`
}

// journalFor works out what moving from prev (nil for a new response) to
// next (nil for an erased one) changes in the buckets and slots; nil when
// nothing.
func journalFor(prev, next *Response) *journalDoc {
	var j journalDoc
	if prev != nil && counted(*prev) {
		j.Changes = append(j.Changes, change{Key: bucketOf(*prev), Inputs: inputsDoc(*prev.Inputs), Sign: -1})
	}
	if next != nil && counted(*next) {
		j.Changes = append(j.Changes, change{Key: bucketOf(*next), Inputs: inputsDoc(*next.Inputs), Sign: 1})
	}
	var prevSlot, nextSlot string
	if prev != nil && prev.Status == StatusSubmitted {
		prevSlot = toDoc(*prev).Slot
	}
	if next != nil && next.Status == StatusSubmitted {
		nextSlot = toDoc(*next).Slot
	}
	if prevSlot != nextSlot || nextSlot != "" {
		j.Slots = &slotChange{Add: nextSlot}
		if prevSlot != nextSlot {
			j.Slots.Remove = prevSlot
		}
	}
	if prev != nil && next != nil && prev.Status == StatusSubmitted && prev.Revision != next.Revision {
		h := toDoc(*prev)
		j.History = &h
	}
	if len(j.Changes) == 0 && j.Slots == nil && j.History == nil {
		return nil
	}
	target := next
	if target == nil {
		target = prev
	}
	j.ResponseID, j.Revision = target.ID, target.Revision
	if next != nil {
		j.BodyHash = next.BodyHash
		j.ID = next.ID + "#" + strconv.Itoa(next.Revision) + "#" + short(next.BodyHash)
	} else {
		j.ID = prev.ID + "#erase"
	}
	return &j
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

func (s *Store) journal(ctx context.Context, j *journalDoc) error {
	if j == nil {
		return nil
	}
	j.CreatedAt = s.now().UTC()
	_, err := s.wdb.Collection(collJournal).ReplaceOne(ctx, bson.D{{Key: "_id", Value: j.ID}}, j, options.Replace().SetUpsert(true))
	if err != nil {
		return classify(fmt.Errorf("journal: %w", err))
	}
	return nil
}

// apply carries out a journal entry: idempotent while the entry exists, so
// a crash at any point is mended by applying it again.
func (s *Store) apply(ctx context.Context, j *journalDoc) error {
	if j == nil {
		return nil
	}
	if err := s.applyChanges(ctx, j); err != nil {
		return err
	}
	return s.finish(ctx, j)
}

// applyChanges updates the buckets, slots and history of an entry.
func (s *Store) applyChanges(ctx context.Context, j *journalDoc) error {
	coll := s.wdb.Collection(collBuckets)
	for i, c := range j.Changes {
		marker := j.ID + "/" + strconv.Itoa(i)
		id := bucketID(c.Key)
		set := bson.D{{Key: "updated_at", Value: s.now().UTC()}}
		onInsert := bson.D{{Key: "form", Value: c.Key.Form}, {Key: "site", Value: c.Key.Site}, {Key: "group", Value: c.Key.Group},
			{Key: "timepoint", Value: c.Key.Timepoint}, {Key: "version", Value: c.Key.Version}, {Key: "wave", Value: c.Key.Wave},
			{Key: "day", Value: c.Key.Day}}
		update := bson.D{{Key: "$set", Value: set}, {Key: "$setOnInsert", Value: onInsert}, {Key: "$push", Value: bson.D{{Key: "applied", Value: marker}}}}
		if inc := incFields(summary.Input(c.Inputs), c.Sign); len(inc) > 0 {
			update = append(update, bson.E{Key: "$inc", Value: inc})
		}
		_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "applied", Value: bson.D{{Key: "$ne", Value: marker}}}},
			update, options.Update().SetUpsert(true))
		if err != nil && !mongo.IsDuplicateKeyError(err) { // duplicate: applied already
			return classify(fmt.Errorf("apply to summary bucket: %w", err))
		}
		if err := s.refreshBucket(ctx, id); err != nil {
			return err
		}
	}
	if sc := j.Slots; sc != nil {
		slots := s.wdb.Collection(collSlots)
		if sc.Remove != "" {
			if _, err := slots.DeleteOne(ctx, bson.D{{Key: "_id", Value: sc.Remove}, {Key: "response_id", Value: j.ResponseID}}); err != nil {
				return classify(fmt.Errorf("release slot: %w", err))
			}
		}
		if sc.Add != "" {
			if _, err := slots.ReplaceOne(ctx, bson.D{{Key: "_id", Value: sc.Add}}, slotDoc{ID: sc.Add, ResponseID: j.ResponseID},
				options.Replace().SetUpsert(true)); err != nil {
				return classify(fmt.Errorf("note slot: %w", err))
			}
		}
	}
	if j.History != nil {
		if err := s.keepRevision(ctx, *j.History); err != nil {
			return err
		}
	}
	return nil
}

// finish deletes an applied entry, then the markers it left: once the entry
// is gone nothing applies it again.
func (s *Store) finish(ctx context.Context, j *journalDoc) error {
	coll := s.wdb.Collection(collBuckets)
	if _, err := s.wdb.Collection(collJournal).DeleteOne(ctx, bson.D{{Key: "_id", Value: j.ID}}); err != nil {
		return classify(fmt.Errorf("journal: %w", err))
	}
	// The markers have done their work once the entry is gone.
	for i, c := range j.Changes {
		if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: bucketID(c.Key)}},
			bson.D{{Key: "$pull", Value: bson.D{{Key: "applied", Value: j.ID + "/" + strconv.Itoa(i)}}}}); err != nil {
			return classify(fmt.Errorf("tidy summary bucket: %w", err))
		}
	}
	return nil
}

// recover applies what a crash left in the journal. Entries younger than
// grace may belong to a write still under way in another instance.
func (s *Store) recover(ctx context.Context, grace time.Duration) error {
	cur, err := s.db.Collection(collJournal).Find(ctx, bson.D{})
	if err != nil {
		return classify(fmt.Errorf("read journal: %w", err))
	}
	var entries []journalDoc
	if err := cur.All(ctx, &entries); err != nil {
		return classify(fmt.Errorf("read journal: %w", err))
	}
	for i := range entries {
		j := &entries[i]
		if s.now().Sub(j.CreatedAt) < grace {
			continue
		}
		ok, err := s.committed(ctx, j)
		if err != nil {
			return err
		}
		if ok {
			s.log.Info("recovering a write cut short", "entry", j.ID)
			if err := s.apply(ctx, j); err != nil {
				return err
			}
			continue
		}
		if _, err := s.wdb.Collection(collJournal).DeleteOne(ctx, bson.D{{Key: "_id", Value: j.ID}}); err != nil {
			return classify(err)
		}
	}
	return nil
}

// committed reports whether the response write a journal entry was made for
// took place.
func (s *Store) committed(ctx context.Context, j *journalDoc) (bool, error) {
	cur, err := s.Response(ctx, j.ResponseID)
	if j.BodyHash == "" { // an erasure: done when the response is gone
		return errors.Is(err, ErrNotFound), nil
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case cur.Revision == j.Revision && cur.BodyHash == j.BodyHash:
		return true, nil
	case cur.Revision > j.Revision:
		var rev revisionDoc
		err := s.db.Collection(collRevisions).FindOne(ctx, bson.D{{Key: "_id", Value: j.ResponseID + "#" + strconv.Itoa(j.Revision)}}).Decode(&rev)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return false, nil
		}
		return err == nil && rev.Record.BodyHash == j.BodyHash, classify(err)
	}
	return false, nil
}

// bucketCache holds every bucket's tally in memory for summaries. The
// embedded store has one process, so its own writes keep the cache exact;
// with MongoDB, other instances write too, so the cache re-reads buckets
// changed lately before answering.
type bucketCache struct {
	once   sync.Once
	err    error
	index  *summary.Index
	mu     sync.Mutex
	synced time.Time
}

// UseSummaryScheme sets the codes the summary cache keeps; call it once
// before serving. Codes outside it appear in no report.
func (s *Store) UseSummaryScheme(scheme summary.Scheme) {
	s.buckets = &bucketCache{index: summary.NewIndex(scheme)}
}

func (s *Store) refreshBucket(ctx context.Context, id string) error {
	if s.buckets == nil {
		return nil
	}
	var d bucketDoc
	err := s.db.Collection(collBuckets).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if err != nil {
		return classify(fmt.Errorf("read summary bucket: %w", err))
	}
	s.buckets.index.Set(d.key(), d.Tally.tally())
	return nil
}

func (d bucketDoc) key() summary.Key {
	return summary.Key{Form: d.Form, Site: d.Site, Group: d.Group, Timepoint: d.Timepoint, Version: d.Version, Wave: d.Wave, Day: d.Day}
}

// sync loads the cache on first use and, with MongoDB, re-reads the buckets
// other instances changed.
func (s *Store) syncBuckets(ctx context.Context) error {
	c := s.buckets
	if c == nil {
		return errors.New("summary cache: no scheme set")
	}
	c.once.Do(func() {
		start := s.now()
		c.err = s.eachBucket(ctx, bson.D{}, func(d bucketDoc) { c.index.Set(d.key(), d.Tally.tally()) })
		c.synced = start
	})
	if c.err != nil || s.embed != nil {
		return c.err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.now().Sub(c.synced) < time.Second {
		return nil
	}
	start := s.now()
	// Overlap generously: clocks of instances differ a little.
	since := c.synced.Add(-10 * time.Second)
	if err := s.eachBucket(ctx, bson.D{{Key: "updated_at", Value: bson.D{{Key: "$gte", Value: since}}}},
		func(d bucketDoc) { c.index.Set(d.key(), d.Tally.tally()) }); err != nil {
		return err
	}
	c.synced = start
	return nil
}

func (s *Store) eachBucket(ctx context.Context, q bson.D, fn func(bucketDoc)) error {
	cur, err := s.db.Collection(collBuckets).Find(ctx, q, options.Find().SetProjection(bson.D{{Key: "applied", Value: 0}}))
	if err != nil {
		return classify(fmt.Errorf("read summary buckets: %w", err))
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d bucketDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("decode summary bucket: %w", err)
		}
		fn(d)
	}
	return classify(cur.Err())
}

// SCTTally adds up the summary inputs the filter selects, from the buckets.
func (s *Store) SCTTally(ctx context.Context, f Filter) (summary.Tally, error) {
	if err := s.syncBuckets(ctx); err != nil {
		return summary.Tally{}, err
	}
	return s.buckets.index.Tally(summary.Query{Form: f.Form, Site: f.Site, Group: f.Group, Timepoint: f.Timepoint,
		Version: f.Version, Wave: f.Wave, From: f.From, To: f.To}), nil
}

// RebuildSummaries recomputes every bucket from the responses' own inputs
// and returns how many buckets it wrote. Run it with the server stopped.
func (s *Store) RebuildSummaries(ctx context.Context) (int, error) {
	want, err := s.tallyResponses(ctx)
	if err != nil {
		return 0, err
	}
	coll := s.wdb.Collection(collBuckets)
	if _, err := coll.DeleteMany(ctx, bson.D{}); err != nil {
		return 0, classify(fmt.Errorf("clear summary buckets: %w", err))
	}
	if _, err := s.wdb.Collection(collJournal).DeleteMany(ctx, bson.D{}); err != nil {
		return 0, classify(fmt.Errorf("clear journal: %w", err))
	}
	var docs []any
	for k, t := range want {
		docs = append(docs, bucketDoc{ID: bucketID(k), Form: k.Form, Site: k.Site, Group: k.Group, Timepoint: k.Timepoint,
			Version: k.Version, Wave: k.Wave, Day: k.Day, Tally: tallyDocOf(*t), Applied: []string{}, UpdatedAt: s.now().UTC()})
		if len(docs) == 500 {
			if _, err := coll.InsertMany(ctx, docs); err != nil {
				return 0, classify(fmt.Errorf("write summary buckets: %w", err))
			}
			docs = docs[:0]
		}
	}
	if len(docs) > 0 {
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			return 0, classify(fmt.Errorf("write summary buckets: %w", err))
		}
	}
	if s.buckets != nil {
		s.buckets.index.Reset()
		for k, t := range want {
			s.buckets.index.Set(k, *t)
		}
	}
	return len(want), nil
}

// CheckSummaries compares the buckets with a recount from the responses and
// lists every bucket that differs (none when they agree).
func (s *Store) CheckSummaries(ctx context.Context) ([]string, error) {
	want, err := s.tallyResponses(ctx)
	if err != nil {
		return nil, err
	}
	have := map[summary.Key]summary.Tally{}
	if err := s.eachBucket(ctx, bson.D{}, func(d bucketDoc) { have[d.key()] = d.Tally.tally() }); err != nil {
		return nil, err
	}
	var diffs []string
	for k, t := range want {
		if !tallyEqual(have[k], *t) {
			diffs = append(diffs, bucketID(k))
		}
		delete(have, k)
	}
	for k, t := range have {
		if !tallyEqual(t, summary.Tally{}) {
			diffs = append(diffs, bucketID(k)+" (no responses)")
		}
	}
	return diffs, nil
}

func tallyEqual(a, b summary.Tally) bool {
	return fmt.Sprint(tallyDocOf(a)) == fmt.Sprint(tallyDocOf(b))
}

func (s *Store) tallyResponses(ctx context.Context) (map[summary.Key]*summary.Tally, error) {
	want := map[summary.Key]*summary.Tally{}
	err := s.EachResponse(ctx, Filter{Form: "sct"}, func(r Response) error {
		if !counted(r) {
			return nil
		}
		k := bucketOf(r)
		if want[k] == nil {
			want[k] = &summary.Tally{}
		}
		want[k].Add(*r.Inputs)
		return nil
	})
	return want, err
}

// tallyDocOf stores a tally, leaving out zero counts so that equal tallies
// store equally.
func tallyDocOf(t summary.Tally) tallyDoc {
	d := tallyDoc{Respondents: t.Respondents, NamedAnyone: t.NamedAnyone, NomineeSum: t.NomineeSum,
		NomineeSumSquares: t.NomineeSumSquares, NamedKeyPerson: t.NamedKeyPerson,
		Relationships: map[string]int{}, KeyRelationships: map[string]int{}, Support: map[string]map[string]int{},
		LetDown: map[string]int{}, Adequacy: map[string]map[string]int{}}
	for k, n := range t.Relationships {
		if n != 0 {
			d.Relationships[k] = n
		}
	}
	for k, n := range t.KeyRelationships {
		if n != 0 {
			d.KeyRelationships[k] = n
		}
	}
	for s, c := range t.Support {
		for i, n := range c {
			if n != 0 {
				if d.Support[s] == nil {
					d.Support[s] = map[string]int{}
				}
				d.Support[s]["r"+strconv.Itoa(i+1)] = n
			}
		}
	}
	for i, n := range t.LetDown {
		if n != 0 {
			d.LetDown["r"+strconv.Itoa(i+1)] = n
		}
	}
	for s, c := range t.Adequacy {
		for i, n := range c {
			if n != 0 {
				if d.Adequacy[s] == nil {
					d.Adequacy[s] = map[string]int{}
				}
				d.Adequacy[s]["a"+strconv.Itoa(i+1)] = n
			}
		}
	}
	return d
}

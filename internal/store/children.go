package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Child is a child known by the local authority's pseudonymous ID. No names.
type Child struct {
	ID        string    `bson:"_id"`
	Site      string    `bson:"site"`
	Group     string    `bson:"group"`
	AgeBand   string    `bson:"age_band,omitempty"`
	StartedOn string    `bson:"started_on,omitempty"`
	CreatedAt time.Time `bson:"created_at"`
	// UpdatedAt is when the record last changed (registered, participation
	// kept, erasure begun): what another instance's catch-up reads.
	UpdatedAt time.Time `bson:"updated_at,omitempty"`
	// Participation is the child's Lifelong Links participation record
	// (Appendix 4, Table 15), when one has been kept.
	Participation *Participation `bson:"participation,omitempty"`
	// Erasing is set when the child's erasure begins: from then on nothing
	// more may be recorded for them (see EraseChild).
	Erasing bool `bson:"erasing,omitempty" json:"-"`
}

// Participation is a child's participation status with the report's codes.
type Participation struct {
	Eligible      *bool  `bson:"eligible,omitempty"`
	Participating *bool  `bson:"participating,omitempty"`
	StartedOn     string `bson:"started_on,omitempty"`
	// 0 participated, 1 refusal by child, 2 agency consent, 3 foster carer,
	// 4 birth parent, 5 being considered, -1 unknown.
	ReasonNotParticipating *int   `bson:"reason_not_participating,omitempty"`
	CeasedOn               string `bson:"ceased_on,omitempty"`
	// 1 completed, 2 child withdrew, 3 social worker withdrew, 4 other, -1 unknown.
	ReasonCeased *int `bson:"reason_ceased,omitempty"`
	// 1 yes, 0 no, -1 not applicable.
	PlanCompleted      *int      `bson:"plan_completed,omitempty"`
	FGCCompleted       *int      `bson:"fgc_completed,omitempty"`
	ReviewFGCCompleted *int      `bson:"review_fgc_completed,omitempty"`
	Pauses             []Pause   `bson:"pauses,omitempty"`
	UpdatedAt          time.Time `bson:"updated_at"`
}

// Pause is a child-led pause in Lifelong Links; To is empty while it lasts.
type Pause struct {
	From string `bson:"from"`
	To   string `bson:"to,omitempty"`
}

// SetParticipation replaces a child's participation record.
func (s *Store) SetParticipation(ctx context.Context, childID string, p Participation) (Child, error) {
	p.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	var c Child
	err := s.wdb.Collection(collChildren).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: childID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "participation", Value: p}, {Key: "updated_at", Value: p.UpdatedAt}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Child{}, fmt.Errorf("child %q: %w", childID, ErrNotFound)
	}
	if err != nil {
		return Child{}, classify(fmt.Errorf("set participation: %w", err))
	}
	s.mirrorChild(c)
	s.childCommitted(c.ID, &c)
	return c, nil
}

// CreateChild stores a new child; ErrConflict when the ID is taken.
func (s *Store) CreateChild(ctx context.Context, c Child) (Child, error) {
	c.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	c.UpdatedAt = c.CreatedAt
	err := s.insert(ctx, collChildren, c)
	if mongo.IsDuplicateKeyError(err) {
		return Child{}, fmt.Errorf("child %q: %w", c.ID, ErrConflict)
	}
	if err != nil {
		return Child{}, classify(fmt.Errorf("create child: %w", err))
	}
	s.mirrorChild(c)
	s.childCommitted(c.ID, &c)
	return c, nil
}

// Child reads one child; ErrNotFound when there is none.
func (s *Store) Child(ctx context.Context, id string) (Child, error) {
	if s.closed.Load() {
		return Child{}, errClosed
	}
	if s.mirror != nil {
		if c, ok := s.mirror.child(id); ok {
			return c, nil
		}
		return Child{}, fmt.Errorf("child %q: %w", id, ErrNotFound)
	}
	var c Child
	err := s.db.Collection(collChildren).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Child{}, fmt.Errorf("child %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Child{}, classify(fmt.Errorf("read child: %w", err))
	}
	return c, nil
}

// ChildrenOfSite lists a site's children by ID; every site's when site is "".
func (s *Store) ChildrenOfSite(ctx context.Context, site string) ([]Child, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	if s.mirror != nil {
		return s.mirror.childrenOf(site), nil
	}
	q := bson.D{}
	if site != "" {
		q = bson.D{{Key: "site", Value: site}}
	}
	cur, err := s.db.Collection(collChildren).Find(ctx, q,
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, classify(fmt.Errorf("list children: %w", err))
	}
	children := []Child{}
	if err := cur.All(ctx, &children); err != nil {
		return nil, classify(fmt.Errorf("list children: %w", err))
	}
	return children, nil
}

// ResponseInfo is a response without its answers: enough to list it.
type ResponseInfo struct {
	ID          string    `bson:"_id"`
	Form        string    `bson:"form"`
	Version     string    `bson:"version"`
	ChildID     string    `bson:"child_id"`
	Timepoint   string    `bson:"timepoint,omitempty"`
	Wave        int       `bson:"wave"`
	CompletedOn string    `bson:"completed_on,omitempty"`
	Mode        string    `bson:"mode"`
	Status      string    `bson:"status"`
	Revision    int       `bson:"revision"`
	UpdatedAt   time.Time `bson:"updated_at"`
	Site        string    `bson:"site"`
}

// ResponsesOfSite lists the responses of a site's children, without answers;
// every site's when site is "".
func (s *Store) ResponsesOfSite(ctx context.Context, site string) ([]ResponseInfo, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	if s.sqlr != nil {
		out, err := s.sqlr.responsesOfSite(ctx, site)
		if err != nil {
			return nil, classify(fmt.Errorf("list responses: %w", err))
		}
		return out, nil
	}
	q := bson.D{}
	if site != "" {
		q = bson.D{{Key: "site", Value: site}}
	}
	cur, err := s.db.Collection(collResponses).Find(ctx, q,
		options.Find().SetProjection(bson.D{{Key: "answers", Value: 0}, {Key: "inputs", Value: 0}}).
			SetSort(bson.D{{Key: "child_id", Value: 1}, {Key: "updated_at", Value: 1}}))
	if err != nil {
		return nil, classify(fmt.Errorf("list responses: %w", err))
	}
	out := []ResponseInfo{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, classify(fmt.Errorf("list responses: %w", err))
	}
	return out, nil
}

// MaxChildrenPage is the most children one page of a site's list holds.
const MaxChildrenPage = 500

// ChildrenPage lists up to limit of a site's children in ID order after the
// ID after ("": from the first), with their responses (no answers), and
// says whether more follow. A page costs the same however many children
// the site has: it walks an index on (site, _id) and one on child_id.
func (s *Store) ChildrenPage(ctx context.Context, site, after string, limit int) ([]Child, []ResponseInfo, bool, error) {
	if s.closed.Load() {
		return nil, nil, false, errClosed
	}
	if limit <= 0 || limit > MaxChildrenPage {
		limit = MaxChildrenPage
	}
	var children []Child
	var responses []ResponseInfo
	var err error
	if s.sqlr != nil {
		children, err = s.sqlr.childrenPage(ctx, site, after, limit+1)
	} else {
		children, err = s.childrenPageByQuery(ctx, site, after, limit+1)
	}
	if err != nil {
		return nil, nil, false, classify(fmt.Errorf("list children: %w", err))
	}
	more := len(children) > limit
	if more {
		children = children[:limit]
	}
	ids := make([]string, len(children))
	for i, c := range children {
		ids[i] = c.ID
	}
	if s.sqlr != nil {
		responses, err = s.sqlr.responsesOf(ctx, site, ids)
	} else {
		responses, err = s.responsesOfByQuery(ctx, ids)
	}
	if err != nil {
		return nil, nil, false, classify(fmt.Errorf("list responses: %w", err))
	}
	return children, responses, more, nil
}

func (s *Store) childrenPageByQuery(ctx context.Context, site, after string, limit int) ([]Child, error) {
	q := bson.D{{Key: "site", Value: site}}
	if after != "" {
		q = append(q, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	cur, err := s.db.Collection(collChildren).Find(ctx, q,
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	children := []Child{}
	return children, cur.All(ctx, &children)
}

func (s *Store) responsesOfByQuery(ctx context.Context, childIDs []string) ([]ResponseInfo, error) {
	if len(childIDs) == 0 {
		return nil, nil
	}
	cur, err := s.db.Collection(collResponses).Find(ctx, bson.D{{Key: "child_id", Value: bson.D{{Key: "$in", Value: childIDs}}}},
		options.Find().SetProjection(bson.D{{Key: "answers", Value: 0}, {Key: "inputs", Value: 0}, {Key: "derived", Value: 0},
			{Key: "practice", Value: 0}, {Key: "superseded", Value: 0}}).
			SetSort(bson.D{{Key: "child_id", Value: 1}, {Key: "updated_at", Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := []ResponseInfo{}
	return out, cur.All(ctx, &out)
}

// ChildrenChangedSince lists the children registered, given a
// participation record or marked for erasure at or after since: what
// another instance's catch-up reads (MongoDB, by an index on updated_at).
func (s *Store) ChildrenChangedSince(ctx context.Context, since time.Time) ([]Child, error) {
	cur, err := s.db.Collection(collChildren).Find(ctx, bson.D{{Key: "updated_at", Value: bson.D{{Key: "$gte", Value: since.UTC()}}}})
	if err != nil {
		return nil, classify(fmt.Errorf("read changed children: %w", err))
	}
	children := []Child{}
	if err := cur.All(ctx, &children); err != nil {
		return nil, classify(fmt.Errorf("read changed children: %w", err))
	}
	return children, nil
}

// ResponsesChangedSince lists the responses (no answers) written at or
// after since: what another instance's catch-up and the webhooks read
// (MongoDB, by an index on updated_at).
func (s *Store) ResponsesChangedSince(ctx context.Context, since time.Time) ([]ResponseInfo, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	if s.sqlr != nil {
		// FerretDB would read and decode every response: the index of
		// responses in the order they were written (q_time) is read alone
		// instead, from since on.
		out, err := s.sqlr.infos(ctx, "q_time", field("updated_at")+" >= ?", []any{since.UnixMilli()})
		if err != nil {
			return nil, classify(fmt.Errorf("read changed responses: %w", err))
		}
		return out, nil
	}
	cur, err := s.db.Collection(collResponses).Find(ctx, bson.D{{Key: "updated_at", Value: bson.D{{Key: "$gte", Value: since.UTC()}}}},
		options.Find().SetProjection(bson.D{{Key: "answers", Value: 0}, {Key: "inputs", Value: 0}, {Key: "derived", Value: 0},
			{Key: "practice", Value: 0}, {Key: "superseded", Value: 0}}))
	if err != nil {
		return nil, classify(fmt.Errorf("read changed responses: %w", err))
	}
	out := []ResponseInfo{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, classify(fmt.Errorf("read changed responses: %w", err))
	}
	return out, nil
}

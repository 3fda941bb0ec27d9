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
	ID        string    `bson:"_id" json:"id"`
	Site      string    `bson:"site" json:"site"`
	Group     string    `bson:"group" json:"group"`
	AgeBand   string    `bson:"age_band,omitempty" json:"age_band,omitempty"`
	StartedOn string    `bson:"started_on,omitempty" json:"started_on,omitempty"`
	CreatedAt time.Time `bson:"created_at" json:"created_at"`
}

// CreateChild stores a new child; ErrConflict when the ID is taken.
func (s *Store) CreateChild(ctx context.Context, c Child) (Child, error) {
	c.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	_, err := s.wdb.Collection(collChildren).InsertOne(ctx, c)
	if mongo.IsDuplicateKeyError(err) {
		return Child{}, fmt.Errorf("child %q: %w", c.ID, ErrConflict)
	}
	if err != nil {
		return Child{}, classify(fmt.Errorf("create child: %w", err))
	}
	return c, nil
}

// Child reads one child; ErrNotFound when there is none.
func (s *Store) Child(ctx context.Context, id string) (Child, error) {
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

// ChildrenOfSite lists a site's children by ID.
func (s *Store) ChildrenOfSite(ctx context.Context, site string) ([]Child, error) {
	cur, err := s.db.Collection(collChildren).Find(ctx, bson.D{{Key: "site", Value: site}},
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
	ID          string    `bson:"_id" json:"id"`
	Form        string    `bson:"form" json:"form"`
	Version     string    `bson:"version" json:"version"`
	ChildID     string    `bson:"child_id" json:"child_id"`
	Timepoint   string    `bson:"timepoint,omitempty" json:"timepoint,omitempty"`
	Wave        int       `bson:"wave" json:"wave"`
	CompletedOn string    `bson:"completed_on,omitempty" json:"completed_on,omitempty"`
	Mode        string    `bson:"mode" json:"mode"`
	Status      string    `bson:"status" json:"status"`
	Revision    int       `bson:"revision" json:"revision"`
	UpdatedAt   time.Time `bson:"updated_at" json:"updated_at"`
}

// ResponsesOfSite lists the responses of a site's children, without answers.
func (s *Store) ResponsesOfSite(ctx context.Context, site string) ([]ResponseInfo, error) {
	cur, err := s.db.Collection(collResponses).Find(ctx, bson.D{{Key: "site", Value: site}},
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

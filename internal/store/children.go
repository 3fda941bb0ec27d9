package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
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

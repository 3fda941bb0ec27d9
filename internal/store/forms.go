package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

// ErrFormChanged means a published form version's content differs from what
// this store first saw under the same version.
var ErrFormChanged = errors.New("published form version changed")

type formVersionDoc struct {
	ID          string    `bson:"_id"`
	Form        string    `bson:"form"`
	Version     string    `bson:"version"`
	Hash        string    `bson:"hash"`
	FirstLoaded time.Time `bson:"first_loaded"`
}

// RecordFormVersion remembers the content hash of a form version the first
// time it is seen, and afterwards refuses a different hash for it.
func (s *Store) RecordFormVersion(ctx context.Context, form, version, hash string) error {
	doc := formVersionDoc{ID: form + "@" + version, Form: form, Version: version, Hash: hash, FirstLoaded: s.now().UTC()}
	coll := s.wdb.Collection(collFormVersions)
	_, err := coll.InsertOne(ctx, doc)
	if err == nil {
		return nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return classify(fmt.Errorf("record form version: %w", err))
	}
	var seen formVersionDoc
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: doc.ID}}).Decode(&seen); err != nil {
		return classify(fmt.Errorf("read form version: %w", err))
	}
	if seen.Hash != hash {
		return fmt.Errorf("%w: %s version %s was published on %s with hash %s; this definition hashes to %s. Publish the change as a new version",
			ErrFormChanged, form, version, seen.FirstLoaded.Format(time.DateOnly), seen.Hash, hash)
	}
	return nil
}

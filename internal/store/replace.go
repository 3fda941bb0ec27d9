package store

import (
	"context"
	"errors"
	"hash/fnv"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// lockWriting holds the lock on a response's conditional replace; call what
// it returns to release it.
func (s *Store) lockWriting(id string) (unlock func()) {
	h := fnv.New32a()
	h.Write([]byte(id))
	mu := &s.writing[h.Sum32()%uint32(len(s.writing))]
	mu.Lock()
	return mu.Unlock
}

// replaceUnderLock is replaceIfCurrent on the embedded store, which finds a
// document through an index only by _id alone (a filter on more fields
// makes FerretDB read and decode every response): the replace filters on
// _id and the condition is checked just before it, under a lock on the
// response. That is exact because this process is the embedded store's
// only writer.
func (s *Store) replaceUnderLock(ctx context.Context, d responseDoc, prev Response) (bool, error) {
	defer s.lockWriting(d.ID)()
	var now struct {
		Revision int    `bson:"revision"`
		BodyHash string `bson:"body_hash"`
	}
	err := s.db.Collection(collResponses).FindOne(ctx, bson.D{{Key: "_id", Value: d.ID}},
		options.FindOne().SetProjection(bson.D{{Key: "revision", Value: 1}, {Key: "body_hash", Value: 1}})).Decode(&now)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && (now.Revision != prev.Revision || now.BodyHash != prev.BodyHash)) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	res, err := s.wdb.Collection(collResponses).ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, d)
	return err == nil && res.MatchedCount > 0, err
}

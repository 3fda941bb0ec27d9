package store

import (
	"context"

	"go.mongodb.org/mongo-driver/bson"
)

// RefreshTokenStored reports whether a refresh token's record is still kept,
// which the API cannot tell for an expired or revoked token: it is refused
// as not found either way.
func (s *Store) RefreshTokenStored(ctx context.Context, hash string) (bool, error) {
	n, err := s.db.Collection(collRefreshTokens).CountDocuments(ctx, bson.D{{Key: "_id", Value: hash}})
	return n > 0, err
}

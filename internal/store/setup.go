package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// firstAdminClaim is the _id of the one document that decides which first
// administrator is made.
const firstAdminClaim = "first_admin"

// setupClaim records that the first administrator has been chosen. Without
// transactions, this one document, inserted once under a fixed _id, is
// what decides between callers at once (on every instance); the account
// follows it. User is kept only until the account is made, so that a
// process stopped between the two writes can finish the account.
type setupClaim struct {
	ID     string    `bson:"_id"`
	UserID string    `bson:"user_id"`
	User   *User     `bson:"user,omitempty"`
	At     time.Time `bson:"at"`
}

// normalUser is u as an account is stored: email trimmed and lower case,
// stamped now, no nil sites.
func (s *Store) normalUser(u User) User {
	now := s.now().UTC().Truncate(time.Millisecond)
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	u.CreatedAt, u.UpdatedAt = now, now
	if u.Sites == nil {
		u.Sites = []string{}
	}
	return u
}

// CreateFirstAdmin stores u as the first account, only while there is no
// account at all and no first account has been claimed before; otherwise
// ErrConflict. Of any number of callers at once, on any number of
// instances, one makes its account. A claim left without its account (the
// process stopped between the two writes) is finished here, before the
// caller is refused, as FinishFirstAdmin does.
func (s *Store) CreateFirstAdmin(ctx context.Context, u User) (User, error) {
	n, err := s.CountUsers(ctx)
	if err != nil {
		return User{}, fmt.Errorf("first administrator: %w", err)
	}
	if n > 0 {
		return User{}, fmt.Errorf("first administrator: an account exists: %w", ErrConflict)
	}
	u = s.normalUser(u)
	_, err = s.wdb.Collection(collSetup).InsertOne(ctx, setupClaim{ID: firstAdminClaim, UserID: u.ID, User: &u, At: u.CreatedAt})
	if mongo.IsDuplicateKeyError(err) {
		if _, err := s.FinishFirstAdmin(ctx); err != nil {
			return User{}, err
		}
		return User{}, fmt.Errorf("first administrator: claimed already: %w", ErrConflict)
	}
	if err != nil {
		return User{}, classify(fmt.Errorf("first administrator: %w", err))
	}
	if err := s.finishClaim(ctx, u); err != nil {
		return User{}, err
	}
	return u, nil
}

// FinishFirstAdmin makes the first account from its claim if the claim was
// stored and the account was not, and reports whether a first account has
// been claimed at all.
func (s *Store) FinishFirstAdmin(ctx context.Context) (bool, error) {
	var c setupClaim
	err := s.db.Collection(collSetup).FindOne(ctx, bson.D{{Key: "_id", Value: firstAdminClaim}}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, classify(fmt.Errorf("read the first administrator's claim: %w", err))
	}
	if c.User == nil {
		return true, nil
	}
	return true, s.finishClaim(ctx, *c.User)
}

// finishClaim stores the claimed account (once: an account of that id or
// email already there is the one claimed), then drops the claim's copy of
// it, password hash and all.
func (s *Store) finishClaim(ctx context.Context, u User) error {
	_, err := s.wdb.Collection(collUsers).InsertOne(ctx, u)
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return classify(fmt.Errorf("create the first administrator: %w", err))
	}
	_, err = s.wdb.Collection(collSetup).UpdateOne(ctx, bson.D{{Key: "_id", Value: firstAdminClaim}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "user", Value: ""}}}})
	if err != nil {
		return classify(fmt.Errorf("finish the first administrator's claim: %w", err))
	}
	return nil
}

// HoldsData reports whether the store holds anything people made: an
// account, a site, a child or a response. (Form versions, recorded by every
// start, are not data.)
func (s *Store) HoldsData(ctx context.Context) (bool, error) {
	for _, coll := range []string{collUsers, collSites, collChildren, collResponses} {
		n, err := s.db.Collection(coll).CountDocuments(ctx, bson.D{}, options.Count().SetLimit(1))
		if err != nil {
			return false, classify(fmt.Errorf("%s: %w", coll, err))
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

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

// ErrReused means a refresh token was presented a second time: its whole
// family has been revoked, since one of the two holders is not the user.
var ErrReused = errors.New("refresh token reused")

// RefreshToken is a sign-in that can be renewed. Only its hash is stored;
// each use replaces it with a new token of the same family.
type RefreshToken struct {
	Hash      string     `bson:"_id"`
	UserID    string     `bson:"user_id"`
	Family    string     `bson:"family"`
	CreatedAt time.Time  `bson:"created_at"`
	ExpiresAt time.Time  `bson:"expires_at"`
	Ends      time.Time  `bson:"ends,omitempty"` // when the sign-in ends however often it is refreshed
	UsedAt    *time.Time `bson:"used_at,omitempty"`
	Revoked   bool       `bson:"revoked"`
	// SignInGen is the account's SignInGen when the sign-in was made (nil
	// in tokens stored before it was kept): a change to the account raises
	// it before revoking the account's tokens, so a renewal racing that
	// change finds it even where the revocation, many writes, misses the
	// renewal's new token.
	SignInGen *int `bson:"signin_gen,omitempty"`
}

// InsertRefreshToken stores a new refresh token.
func (s *Store) InsertRefreshToken(ctx context.Context, t RefreshToken) error {
	t.CreatedAt = s.now().UTC()
	_, err := s.wdb.Collection(collRefreshTokens).InsertOne(ctx, t)
	return classify(err)
}

// UseRefreshToken spends a refresh token: it succeeds once for a live token.
// A second use of a spent token revokes its family and returns ErrReused;
// an unknown, expired or revoked token is ErrNotFound.
func (s *Store) UseRefreshToken(ctx context.Context, hash string) (RefreshToken, error) {
	now := s.now().UTC()
	coll := s.wdb.Collection(collRefreshTokens)
	var t RefreshToken
	err := coll.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: hash}, {Key: "used_at", Value: nil}, {Key: "revoked", Value: false},
			{Key: "expires_at", Value: bson.D{{Key: "$gt", Value: now}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "used_at", Value: now}}}}).Decode(&t)
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return RefreshToken{}, classify(fmt.Errorf("use refresh token: %w", err))
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: hash}}).Decode(&t); err == nil && t.UsedAt != nil && !t.Revoked {
		if err := s.RevokeTokenFamily(ctx, t.Family); err != nil {
			return RefreshToken{}, err
		}
		return RefreshToken{}, ErrReused
	}
	return RefreshToken{}, fmt.Errorf("refresh token: %w", ErrNotFound)
}

// FamilyRevoked reports whether a sign-in has been revoked: whether any of
// its tokens has.
func (s *Store) FamilyRevoked(ctx context.Context, family string) (bool, error) {
	n, err := s.wdb.Collection(collRefreshTokens).CountDocuments(ctx,
		bson.D{{Key: "family", Value: family}, {Key: "revoked", Value: true}}, options.Count().SetLimit(1))
	if err != nil {
		return false, classify(fmt.Errorf("read sign-in: %w", err))
	}
	return n > 0, nil
}

// RevokeTokenFamily revokes every token descended from one sign-in. It
// first stores a revoked marker of the sign-in (FamilyRevoked counts it),
// then revokes the tokens: revoking them is many writes, and a renewal under
// way could store its new token after they were read. The renewal looks at
// FamilyRevoked after storing its token, so either it finds the marker or
// the revocation, which reads the tokens after the marker is written, finds
// its token.
func (s *Store) RevokeTokenFamily(ctx context.Context, family string) error {
	coll := s.wdb.Collection(collRefreshTokens)
	_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: familyMarkerPrefix + family}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "family", Value: family}, {Key: "revoked", Value: true},
			{Key: "expires_at", Value: s.now().UTC().Add(familyMarkerTTL)}}}}, options.Update().SetUpsert(true))
	if err != nil {
		return classify(fmt.Errorf("revoke sign-in: %w", err))
	}
	_, err = coll.UpdateMany(ctx, bson.D{{Key: "family", Value: family}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revoked", Value: true}}}})
	return classify(err)
}

// A revoked sign-in's marker is a document among its tokens, under an id no
// token hash can take. It is needed only while a renewal that began before
// the revocation may still be under way; its tokens stay revoked after it is
// pruned.
const (
	familyMarkerPrefix = "revoked:"
	familyMarkerTTL    = 24 * time.Hour
)

// RevokeUserTokens revokes every refresh token of a user.
func (s *Store) RevokeUserTokens(ctx context.Context, userID string) error {
	_, err := s.wdb.Collection(collRefreshTokens).UpdateMany(ctx, bson.D{{Key: "user_id", Value: userID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revoked", Value: true}}}})
	return classify(err)
}

// Session is a young person's link to complete one response for one child.
type Session struct {
	ID         string     `bson:"_id"`
	CodeHash   string     `bson:"code_hash" json:"-"`
	ChildID    string     `bson:"child_id"`
	Site       string     `bson:"site"`
	ResponseID string     `bson:"response_id"`
	Form       string     `bson:"form"`
	Version    string     `bson:"version"`
	Timepoint  string     `bson:"timepoint"`
	Wave       int        `bson:"wave"`
	CreatedBy  string     `bson:"created_by" json:"-"`
	CreatedAt  time.Time  `bson:"created_at"`
	ExpiresAt  time.Time  `bson:"expires_at"`
	OpenedAt   *time.Time `bson:"opened_at,omitempty"`
	SpentAt    *time.Time `bson:"spent_at,omitempty"`
	// GrantHash is the hash of the device grant the phone that redeemed the
	// code keeps: it renews the session's access after the link's own
	// time, until GrantUntil, so answers kept on the phone can still be
	// sent. It ends with the session (submission, erasure).
	GrantHash  string     `bson:"grant_hash,omitempty" json:"-"`
	GrantUntil *time.Time `bson:"grant_until,omitempty"`
}

// Live reports whether the session may still be used at t: not spent, and
// within the link's time or its device grant's.
func (s Session) Live(t time.Time) bool {
	return s.SpentAt == nil && (t.Before(s.ExpiresAt) || (s.GrantUntil != nil && t.Before(*s.GrantUntil)))
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, sess Session) (Session, error) {
	sess.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	_, err := s.wdb.Collection(collSessions).InsertOne(ctx, sess)
	if mongo.IsDuplicateKeyError(err) {
		return Session{}, fmt.Errorf("session: %w", ErrConflict)
	}
	return sess, classify(err)
}

// OpenSession redeems a session's one-time code: once, while it is live.
// The device that redeems it gets the grant whose hash is grantHash, until
// grantUntil.
func (s *Store) OpenSession(ctx context.Context, codeHash, grantHash string, grantUntil time.Time) (Session, error) {
	now := s.now().UTC()
	var sess Session
	err := s.wdb.Collection(collSessions).FindOneAndUpdate(ctx,
		bson.D{{Key: "code_hash", Value: codeHash}, {Key: "opened_at", Value: nil}, {Key: "spent_at", Value: nil},
			{Key: "expires_at", Value: bson.D{{Key: "$gt", Value: now}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "opened_at", Value: now},
			{Key: "grant_hash", Value: grantHash}, {Key: "grant_until", Value: grantUntil.UTC().Truncate(time.Millisecond)}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&sess)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Session{}, fmt.Errorf("session code: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, classify(fmt.Errorf("open session: %w", err))
	}
	return sess, nil
}

// SessionByGrant reads the session a device grant belongs to, while it is
// live.
func (s *Store) SessionByGrant(ctx context.Context, grantHash string) (Session, error) {
	var sess Session
	err := s.db.Collection(collSessions).FindOne(ctx, bson.D{{Key: "grant_hash", Value: grantHash}}).Decode(&sess)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && !sess.Live(s.now())) {
		return Session{}, fmt.Errorf("device grant: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, classify(fmt.Errorf("read session: %w", err))
	}
	return sess, nil
}

// Session reads one session.
func (s *Store) Session(ctx context.Context, id string) (Session, error) {
	return byID[Session](ctx, s.db, collSessions, "session", id)
}

// SpendSession ends a session once its response is submitted.
func (s *Store) SpendSession(ctx context.Context, id string) error {
	_, err := s.wdb.Collection(collSessions).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "spent_at", Value: nil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "spent_at", Value: s.now().UTC()}}}})
	return classify(err)
}

// SpendSessionsMadeBy spends every open young person's link that the staff
// account userID made for a child of a site not in keep, and returns how
// many it spent: a link lasts only while its maker could still make it.
func (s *Store) SpendSessionsMadeBy(ctx context.Context, userID string, keep []string) (int, error) {
	if keep == nil {
		keep = []string{}
	}
	res, err := s.wdb.Collection(collSessions).UpdateMany(ctx,
		bson.D{{Key: "created_by", Value: userID}, {Key: "spent_at", Value: nil}, {Key: "site", Value: bson.D{{Key: "$nin", Value: keep}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "spent_at", Value: s.now().UTC()}}}})
	if err != nil {
		return 0, classify(fmt.Errorf("spend links: %w", err))
	}
	return int(res.ModifiedCount), nil
}

// CountAttempt adds delta to the attempts counted under key in the window
// that starts at window and lasts length, and returns the count after the
// change. It is one atomic update of one document, so attempts made at
// once, on any number of instances, each see a count of their own: a limit
// checked against it is reserved before the attempt is made, never raced.
func (s *Store) CountAttempt(ctx context.Context, key string, window time.Time, length time.Duration, delta int) (int, error) {
	var doc struct {
		Count int `bson:"count"`
	}
	window = window.UTC()
	filter := bson.D{{Key: "_id", Value: key + "@" + window.Format(time.RFC3339)}}
	update := bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: delta}}},
		{Key: "$setOnInsert", Value: bson.D{{Key: "window", Value: window}, {Key: "ends", Value: window.Add(length)}}}}
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	var err error
	// Two first attempts in a window may both try to insert its document;
	// the loser finds it there on its next try.
	for range 3 {
		err = s.wdb.Collection(collAttempts).FindOneAndUpdate(ctx, filter, update, opts).Decode(&doc)
		if !mongo.IsDuplicateKeyError(err) {
			break
		}
	}
	if err != nil {
		return 0, classify(fmt.Errorf("count attempt: %w", err))
	}
	return doc.Count, nil
}

// PruneResult counts the records PruneExpired deleted, by kind.
type PruneResult struct {
	RefreshTokens int64 // tokens of sign-ins that have ended
	Sessions      int64 // young-person links expired or spent
	Failures      int64 // sign-in failure counts of closed windows
}

// PruneExpired deletes the sign-in records that can no longer matter at
// before:
//   - refresh tokens that expired before it, of sign-ins (families) with no
//     token that is unrevoked and unexpired at before. A spent token is kept
//     while its sign-in lives: presenting it again is what reveals a copied
//     token and ends the sign-in (see UseRefreshToken);
//   - young-person links spent before it, or that expired before it and
//     whose device grant (if any) ended before it too;
//   - sign-in failure counts whose window, failureWindow long, ended before it.
//
// before should trail the clock by more than a refresh takes and more than
// the instances' clocks differ: a token spent just before it expired gets
// its successor a moment later. Each step is idempotent, so a run cut short
// is finished by the next; the result counts what was deleted before any
// error.
func (s *Store) PruneExpired(ctx context.Context, before time.Time, failureWindow time.Duration) (PruneResult, error) {
	before = before.UTC()
	var res PruneResult
	tokens := s.wdb.Collection(collRefreshTokens)
	// The sign-ins still in use, one entry each. A sign-in with no live
	// token cannot gain one (only a live token is spent for a successor),
	// and a new sign-in's tokens expire after before: nothing written
	// between this read and the delete makes it wrong.
	live, err := tokens.Distinct(ctx, "family", bson.D{{Key: "revoked", Value: false},
		{Key: "expires_at", Value: bson.D{{Key: "$gte", Value: before}}}})
	if err != nil {
		return res, classify(fmt.Errorf("prune refresh tokens: %w", err))
	}
	if live == nil {
		live = bson.A{} // $nin wants an array, not null
	}
	del, err := tokens.DeleteMany(ctx, bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: before}}},
		{Key: "family", Value: bson.D{{Key: "$nin", Value: live}}}})
	if err != nil {
		return res, classify(fmt.Errorf("prune refresh tokens: %w", err))
	}
	res.RefreshTokens = del.DeletedCount

	// A link whose time is up lives on while its device grant does.
	del, err = s.wdb.Collection(collSessions).DeleteMany(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: before}}}, {Key: "grant_until", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: before}}}, {Key: "grant_until", Value: bson.D{{Key: "$lt", Value: before}}}},
		bson.D{{Key: "spent_at", Value: bson.D{{Key: "$lt", Value: before}}}},
	}}})
	if err != nil {
		return res, classify(fmt.Errorf("prune sessions: %w", err))
	}
	res.Sessions = del.DeletedCount

	// Counts say when their window ends; those written before they did
	// had windows failureWindow long.
	del, err = s.wdb.Collection(collAttempts).DeleteMany(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "ends", Value: bson.D{{Key: "$lt", Value: before}}}},
		bson.D{{Key: "ends", Value: bson.D{{Key: "$exists", Value: false}}},
			{Key: "window", Value: bson.D{{Key: "$lt", Value: before.Add(-failureWindow)}}}},
	}}})
	if err != nil {
		return res, classify(fmt.Errorf("prune sign-in failures: %w", err))
	}
	res.Failures = del.DeletedCount
	return res, nil
}

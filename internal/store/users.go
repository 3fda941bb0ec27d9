package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// User is a staff account. Email is kept lower-case and unique.
type User struct {
	ID           string    `bson:"_id"`
	Email        string    `bson:"email"`
	PasswordHash string    `bson:"password_hash" json:"-"`
	Role         string    `bson:"role"`
	Sites        []string  `bson:"sites"`
	Disabled     bool      `bson:"disabled"`
	CreatedAt    time.Time `bson:"created_at"`
	UpdatedAt    time.Time `bson:"updated_at"`
	// TokenGen counts the changes that ended the account's sign-ins: an
	// access token issued before the last of them no longer works.
	TokenGen int `bson:"token_gen" json:"-"`
	// SignInGen counts the changes to the account itself (password, role,
	// sites, disabled), which end its sign-ins, where signing out on one
	// device ends only the access tokens.
	SignInGen int `bson:"signin_gen" json:"-"`
	// KnownAddresses are where the account last signed in from.
	KnownAddresses []KnownAddress `bson:"known_addresses,omitempty" json:"-"`
}

// KnownAddress is an address an account signed in from, and when last.
type KnownAddress struct {
	Address string    `bson:"address"`
	At      time.Time `bson:"at"`
}

// SetKnownAddresses replaces the addresses an account is known to sign in from.
func (s *Store) SetKnownAddresses(ctx context.Context, id string, addrs []KnownAddress) error {
	_, err := s.wdb.Collection(collUsers).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "known_addresses", Value: addrs}}}})
	return classify(err)
}

// CreateUser stores a new account; ErrConflict when the email is taken.
func (s *Store) CreateUser(ctx context.Context, u User) (User, error) {
	u = s.normalUser(u)
	_, err := s.wdb.Collection(collUsers).InsertOne(ctx, u)
	if mongo.IsDuplicateKeyError(err) {
		return User{}, fmt.Errorf("user %s: %w", u.Email, ErrConflict)
	}
	if err != nil {
		return User{}, classify(fmt.Errorf("create user: %w", err))
	}
	return u, nil
}

// User reads one account by id.
func (s *Store) User(ctx context.Context, id string) (User, error) {
	return s.findUser(ctx, bson.D{{Key: "_id", Value: id}})
}

// UserByEmail reads one account by email, ignoring case.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	return s.findUser(ctx, bson.D{{Key: "email", Value: strings.ToLower(strings.TrimSpace(email))}})
}

func (s *Store) findUser(ctx context.Context, q bson.D) (User, error) {
	var u User
	err := s.db.Collection(collUsers).FindOne(ctx, q).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return User{}, fmt.Errorf("user: %w", ErrNotFound)
	}
	if err != nil {
		return User{}, classify(fmt.Errorf("read user: %w", err))
	}
	return u, nil
}

// Users lists every account by email.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	cur, err := s.db.Collection(collUsers).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "email", Value: 1}}))
	if err != nil {
		return nil, classify(fmt.Errorf("list users: %w", err))
	}
	users := []User{}
	if err := cur.All(ctx, &users); err != nil {
		return nil, classify(fmt.Errorf("list users: %w", err))
	}
	return users, nil
}

// CountUsers counts accounts.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	n, err := s.db.Collection(collUsers).CountDocuments(ctx, bson.D{})
	return n, classify(err)
}

// UserChange lists what an update changes; nil fields stay as they are.
type UserChange struct {
	Role         *string
	Sites        []string
	Disabled     *bool
	PasswordHash *string
}

// UpdateUser applies a change to an account and returns the result. Any
// change ends what the account's old standing gave: its access tokens (the
// token generation moves on), its sign-ins (the sign-in generation moves on:
// see RefreshToken.SignInGen) and its calendar address.
func (s *Store) UpdateUser(ctx context.Context, id string, ch UserChange) (User, error) {
	set := bson.D{{Key: "updated_at", Value: s.now().UTC().Truncate(time.Millisecond)}}
	if ch.Role != nil {
		set = append(set, bson.E{Key: "role", Value: *ch.Role})
	}
	if ch.Sites != nil {
		set = append(set, bson.E{Key: "sites", Value: ch.Sites})
	}
	if ch.Disabled != nil {
		set = append(set, bson.E{Key: "disabled", Value: *ch.Disabled})
	}
	if ch.PasswordHash != nil {
		set = append(set, bson.E{Key: "password_hash", Value: *ch.PasswordHash})
	}
	update := bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: bson.D{{Key: "token_gen", Value: 1}, {Key: "signin_gen", Value: 1}}}}
	// First: a feed that outlives the change would be worse than a change
	// that has to be made again.
	if _, err := s.wdb.Collection(collCalendars).DeleteMany(ctx, bson.D{{Key: "user_id", Value: id}}); err != nil {
		return User{}, classify(fmt.Errorf("end calendar address: %w", err))
	}
	var u User
	err := s.wdb.Collection(collUsers).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}},
		update, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return User{}, fmt.Errorf("user %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return User{}, classify(fmt.Errorf("update user: %w", err))
	}
	return u, nil
}

// EndAccessTokens moves an account's token generation on, so that every
// access token issued to it so far stops working.
func (s *Store) EndAccessTokens(ctx context.Context, id string) error {
	_, err := s.wdb.Collection(collUsers).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "token_gen", Value: 1}}}})
	return classify(err)
}

// Site is a local authority taking part.
type Site struct {
	Code string `bson:"_id"`
	Name string `bson:"name"`
	// FollowUpMonths is how long after a child's last SCT the next is due.
	FollowUpMonths int       `bson:"followup_months"`
	CreatedAt      time.Time `bson:"created_at"`
}

// DefaultFollowUpMonths is the follow-up interval of a site that sets none.
const DefaultFollowUpMonths = 6

// CreateSite stores a new site; ErrConflict when the code is taken.
func (s *Store) CreateSite(ctx context.Context, site Site) (Site, error) {
	site.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	if site.FollowUpMonths == 0 {
		site.FollowUpMonths = DefaultFollowUpMonths
	}
	_, err := s.wdb.Collection(collSites).InsertOne(ctx, site)
	if mongo.IsDuplicateKeyError(err) {
		return Site{}, fmt.Errorf("site %s: %w", site.Code, ErrConflict)
	}
	if err != nil {
		return Site{}, classify(fmt.Errorf("create site: %w", err))
	}
	return site, nil
}

// Sites lists every site by code.
func (s *Store) Sites(ctx context.Context) ([]Site, error) {
	cur, err := s.db.Collection(collSites).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, classify(fmt.Errorf("list sites: %w", err))
	}
	sites := []Site{}
	if err := cur.All(ctx, &sites); err != nil {
		return nil, classify(fmt.Errorf("list sites: %w", err))
	}
	return sites, nil
}

// Site is the site of a code; ErrNotFound when there is none. It reads one
// document by its _id, where Sites reads them all.
func (s *Store) Site(ctx context.Context, code string) (Site, error) {
	return byID[Site](ctx, s.db, collSites, "site", code)
}

// SiteExists reports whether a site code is known.
func (s *Store) SiteExists(ctx context.Context, code string) (bool, error) {
	n, err := s.db.Collection(collSites).CountDocuments(ctx, bson.D{{Key: "_id", Value: code}})
	if err != nil {
		return false, classify(fmt.Errorf("read site: %w", err))
	}
	return n > 0, nil
}

// SetFollowUpMonths changes a site's follow-up interval.
func (s *Store) SetFollowUpMonths(ctx context.Context, code string, months int) (Site, error) {
	var site Site
	err := s.wdb.Collection(collSites).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: code}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "followup_months", Value: months}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&site)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Site{}, fmt.Errorf("site %s: %w", code, ErrNotFound)
	}
	if err != nil {
		return Site{}, classify(fmt.Errorf("update site: %w", err))
	}
	return site, nil
}

// CalendarToken lets a calendar program fetch one user's follow-up feed.
// Only its hash is stored; a new token replaces the user's old one. It
// holds while the account stays as it was when the token was made (Gen is
// the account's SignInGen then): a change to the account ends it, even a
// token made by a request that was under way as the change was made.
type CalendarToken struct {
	Hash      string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	Gen       int       `bson:"gen"`
	CreatedAt time.Time `bson:"created_at"`
}

// SetCalendarToken replaces a user's calendar token, made for the account
// at sign-in generation gen.
func (s *Store) SetCalendarToken(ctx context.Context, userID, hash string, gen int) error {
	coll := s.wdb.Collection(collCalendars)
	// An account has one address at most (a unique index on user_id).
	// Addresses are made one at a time here; of two made at once by two
	// instances, the one inserted second finds the first, ends it and tries
	// again, as if it had come after.
	// Two instances trying again at once would collide again: each waits
	// a random while first, longer after each try, so that one goes first.
	s.calendarMu.Lock()
	defer s.calendarMu.Unlock()
	for tries := 1; ; tries++ {
		if _, err := coll.DeleteMany(ctx, bson.D{{Key: "user_id", Value: userID}}); err != nil {
			return classify(fmt.Errorf("replace calendar token: %w", err))
		}
		_, err := coll.InsertOne(ctx, CalendarToken{Hash: hash, UserID: userID, Gen: gen, CreatedAt: s.now().UTC()})
		switch {
		case err == nil || !mongo.IsDuplicateKeyError(err):
			return classify(err)
		case tries == calendarTries:
			return fmt.Errorf("%w: another instance kept making this account's calendar address", ErrUnavailable)
		}
		select {
		case <-time.After(time.Duration(1+rand.IntN(2*tries)) * time.Millisecond):
		case <-ctx.Done():
			return classify(ctx.Err())
		}
	}
}

// calendarTries is how many times SetCalendarToken tries before it says the
// store is too busy (a 503: try again).
const calendarTries = 20

// calendarsOnePerAccount readies a store made before the calendar index
// was unique for that index, once: the index it replaces goes, and so does
// all but the newest address of each account (two made at once then). A
// store with the unique index already is left as it is.
func (s *Store) calendarsOnePerAccount(ctx context.Context) error {
	coll := s.wdb.Collection(collCalendars)
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return err
	}
	for _, spec := range specs {
		if spec.Name == "user_unique" {
			return nil
		}
	}
	if err := s.dropIndex(ctx, collCalendars, "user"); err != nil {
		return err
	}
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}}))
	if err != nil {
		return err
	}
	var all []CalendarToken
	if err := cur.All(ctx, &all); err != nil {
		return err
	}
	seen := map[string]bool{}
	var extra []string
	for _, t := range all {
		if seen[t.UserID] {
			extra = append(extra, t.Hash)
		}
		seen[t.UserID] = true
	}
	if len(extra) > 0 {
		_, err = coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: extra}}}})
	}
	return err
}

// CalendarUser returns the user a calendar token belongs to, while the
// account is still as it was when the token was made.
func (s *Store) CalendarUser(ctx context.Context, hash string) (User, error) {
	_, u, err := s.calendarBy(ctx, bson.D{{Key: "_id", Value: hash}})
	return u, err
}

// CalendarOf returns an account's working calendar token and the account
// (ErrNotFound when it has none, or the account changed since it was made).
func (s *Store) CalendarOf(ctx context.Context, userID string) (CalendarToken, User, error) {
	return s.calendarBy(ctx, bson.D{{Key: "user_id", Value: userID}})
}

// calendarBy reads the calendar token filter finds and its account, while
// the account is still as it was when the token was made.
func (s *Store) calendarBy(ctx context.Context, filter bson.D) (CalendarToken, User, error) {
	var t CalendarToken
	err := s.db.Collection(collCalendars).FindOne(ctx, filter).Decode(&t)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return CalendarToken{}, User{}, fmt.Errorf("calendar token: %w", ErrNotFound)
	}
	if err != nil {
		return CalendarToken{}, User{}, classify(fmt.Errorf("read calendar token: %w", err))
	}
	u, err := s.User(ctx, t.UserID)
	if err == nil && u.SignInGen != t.Gen {
		return CalendarToken{}, User{}, fmt.Errorf("calendar token of an account changed since: %w", ErrNotFound)
	}
	return t, u, err
}

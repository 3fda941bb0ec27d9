// Package accounts is the service behind signing in: staff sign-in,
// refresh and sign-out with their limits, a young person's link and the
// device grant that renews it, and the administration of staff accounts.
// It issues tokens and keeps the store's records of them; the API decodes
// requests, calls it, and writes what it returns (and the audit trail).
package accounts

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/store"
)

// Store is what the service needs of the store.
type Store interface {
	UserByEmail(ctx context.Context, email string) (store.User, error)
	User(ctx context.Context, id string) (store.User, error)
	Users(ctx context.Context) ([]store.User, error)
	CreateUser(ctx context.Context, u store.User) (store.User, error)
	CountUsers(ctx context.Context) (int64, error)
	CreateFirstAdmin(ctx context.Context, u store.User) (store.User, error)
	UpdateUser(ctx context.Context, id string, ch store.UserChange) (store.User, error)
	SiteExists(ctx context.Context, code string) (bool, error)
	SetKnownAddresses(ctx context.Context, id string, addrs []store.KnownAddress) error
	EndAccessTokens(ctx context.Context, id string) error

	CountAttempt(ctx context.Context, key string, window time.Time, length time.Duration, delta int) (int, error)

	InsertRefreshToken(ctx context.Context, t store.RefreshToken) error
	UseRefreshToken(ctx context.Context, hash string) (store.RefreshToken, error)
	RevokeTokenFamily(ctx context.Context, family string) error
	FamilyRevoked(ctx context.Context, family string) (bool, error)
	RevokeUserTokens(ctx context.Context, userID string) error

	OpenSession(ctx context.Context, codeHash, grantHash string, grantUntil time.Time) (store.Session, error)
	SessionByGrant(ctx context.Context, grantHash string) (store.Session, error)
}

// Tokens issues access tokens.
type Tokens interface {
	Issue(c auth.Claims, ttl time.Duration) (string, time.Time, error)
}

// AccessTTL is how long an access token lives.
const AccessTTL = 15 * time.Minute

// DeviceGrantFor is how long the phone that redeemed a young person's code
// may go on sending that one SCT after the link's own time is up: answers
// kept on a phone without signal still reach the server when it is back.
const DeviceGrantFor = 30 * 24 * time.Hour

// Errors the service answers with; each means the same to every caller.
var (
	ErrBadLogin    = errors.New("wrong email or password")
	ErrSignInEnded = errors.New("this sign-in has ended; sign in again")
	ErrBadCode     = errors.New("this code does not work: it may be mistyped, used already or expired")
	ErrGrantEnded  = errors.New("this link has been used up or has ended; ask your worker for a new one")
	// ErrTokenReused is ErrSignInEnded for a refresh token used twice: the
	// whole sign-in has been revoked.
	ErrTokenReused = fmt.Errorf("refresh token used twice: %w", ErrSignInEnded)
)

// LimitedError refuses an attempt over a sign-in limit.
type LimitedError struct {
	RetryAfter time.Duration
}

func (e *LimitedError) Error() string {
	return fmt.Sprintf("too many failed attempts; try again in %v", e.RetryAfter.Round(time.Second))
}

// Options configure the service.
type Options struct {
	Store  Store
	Tokens Tokens
	// RefreshTTL is how long a sign-in lasts without use.
	RefreshTTL time.Duration
	// SignInLifetime is how long a sign-in lasts however often it is
	// refreshed.
	SignInLifetime time.Duration
	// PasswordWait is how long a password check waits for a free slot
	// (0: DefaultPasswordWait).
	PasswordWait time.Duration
	// CheckPassword checks a password against a stored hash (nil:
	// auth.CheckPassword).
	CheckPassword func(hash, password string) bool
	// Links is the store young people's links are made in (nil: none are).
	Links LinkStore
	// Calendars keeps the follow-up calendars' secret addresses (nil:
	// none are made).
	Calendars CalendarStore
	// SCTVersion is the SCT version new links open.
	SCTVersion string
	// SetupToken, if set, lets the first administrator be created with it
	// while the store has no account (see CreateFirstAdmin).
	SetupToken string
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service signs callers in and manages staff accounts.
type Service struct {
	store          Store
	tokens         Tokens
	refreshTTL     time.Duration
	signInLifetime time.Duration
	checkPassword  func(hash, password string) bool
	log            *slog.Logger
	now            func() time.Time
	live           *liveAccounts
	links          LinkStore
	calendars      CalendarStore
	sctVersion     string
	setupMu        sync.Mutex
	setup          *firstRun // nil: no setup through this server
	// passwordSlots bounds the password hashes worked out at once: each
	// takes argon2id's 19 MiB (see withPasswordSlot).
	passwordSlots chan struct{}
	passwordWait  time.Duration
}

// DefaultPasswordWait is how long a sign-in, or a new password, waits for a
// free slot to work out a password hash before it is refused with ErrBusy.
const DefaultPasswordWait = 3 * time.Second

// ErrBusy refuses a request that waited too long for a password check.
var ErrBusy = errors.New("the server is busy checking passwords; try again in a moment")

// hashPassword hashes a new password in a password slot.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	var hash string
	var err error
	if busy := s.withPasswordSlot(ctx, func() { hash, err = auth.HashPassword(password) }); busy != nil {
		return "", busy
	}
	return hash, err
}

// withPasswordSlot runs fn, which works out a password hash, once one of
// the slots is free: as many as there are cores, so that sign-ins at once
// (an attacker's, from many addresses) cannot take more than that many
// times argon2id's memory, and gain no speed from more.
func (s *Service) withPasswordSlot(ctx context.Context, fn func()) error {
	select {
	case s.passwordSlots <- struct{}{}:
	default:
		t := time.NewTimer(s.passwordWait)
		defer t.Stop()
		select {
		case s.passwordSlots <- struct{}{}:
		case <-t.C:
			return ErrBusy
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { <-s.passwordSlots }()
	fn()
	return nil
}

// New makes the service.
func New(o Options) *Service {
	if o.CheckPassword == nil {
		o.CheckPassword = auth.CheckPassword
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{store: o.Store, tokens: o.Tokens, refreshTTL: o.RefreshTTL, signInLifetime: o.SignInLifetime,
		checkPassword: o.CheckPassword, log: o.Logger, now: o.Now, live: newLiveAccounts(o.Store, o.Now),
		links: o.Links, calendars: o.Calendars, sctVersion: o.SCTVersion,
		passwordSlots: make(chan struct{}, runtime.GOMAXPROCS(0)), passwordWait: cmp.Or(o.PasswordWait, DefaultPasswordWait)}
	if o.SetupToken != "" {
		s.setup = &firstRun{hash: sha256.Sum256([]byte(o.SetupToken))}
	}
	return s
}

// Stands reports whether a staff access token of account id, issued at
// token generation gen, may still be used: the account exists, is enabled
// and has not moved on to a later generation.
func (s *Service) Stands(ctx context.Context, id string, gen int) (bool, error) {
	return s.live.stands(ctx, id, gen)
}

// LinkMakerStands reports whether the staff account that made a young
// person's link to a child of site could still make it: the account exists,
// is enabled, and its role and sites still reach the site. A link is its
// maker's to give, for as long as they could give it: when their account
// is disabled, or moves to other sites or another role, the links they made
// end (another worker makes a new one, which carries on the same draft).
// Like Stands, it trusts what this instance read of the account for up to
// LiveFor.
func (s *Service) LinkMakerStands(ctx context.Context, id, site string) (bool, error) {
	a, found, err := s.live.read(ctx, id)
	if err != nil || !found || a.disabled {
		return false, err
	}
	maker := access.Principal{Subject: id, Role: access.Role(a.role), Sites: a.sites}
	return maker.Can(access.PermSessionCreate) && maker.InSite(site), nil
}

package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/store"
)

// CalendarStore keeps the secret addresses of staff's follow-up calendars.
type CalendarStore interface {
	SetCalendarToken(ctx context.Context, userID, hash string, gen int) error
	CalendarUser(ctx context.Context, hash string) (store.User, error)
	CalendarOf(ctx context.Context, userID string) (store.CalendarToken, store.User, error)
}

// CalendarMadeAt is when the account's working calendar address was made;
// false when it has none (never made, replaced, or ended by a change to the
// account).
func (s *Service) CalendarMadeAt(ctx context.Context, userID string) (time.Time, bool, error) {
	t, u, err := s.calendars.CalendarOf(ctx, userID)
	_, err = enabled(u, err)
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, false, nil
	}
	return t.CreatedAt, err == nil, err
}

// enabled is a calendar's account while it is enabled.
func enabled(u store.User, err error) (store.User, error) {
	if err == nil && u.Disabled {
		return store.User{}, fmt.Errorf("calendar of a disabled account: %w", store.ErrNotFound)
	}
	return u, err
}

// NewCalendarToken makes the secret that addresses an account's follow-up
// calendar, asked for with an access token of token generation gen; it
// replaces the old one, which stops working. The account is read afresh
// (not from what this instance remembers of it): a token that a change to
// the account has just ended, on this instance or another, makes no
// calendar (ErrSignInEnded). The calendar holds while the account stays as
// it is now.
func (s *Service) NewCalendarToken(ctx context.Context, userID string, gen int) (string, error) {
	u, err := s.store.User(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrSignInEnded
	}
	if err != nil {
		return "", err
	}
	if u.Disabled || u.TokenGen != gen {
		return "", ErrSignInEnded
	}
	token, hash, err := auth.NewOpaqueToken()
	if err != nil {
		return "", err
	}
	if err := s.calendars.SetCalendarToken(ctx, userID, hash, u.SignInGen); err != nil {
		return "", err
	}
	return token, nil
}

// CalendarUser is the enabled account a calendar secret belongs to
// (store.ErrNotFound for any other secret).
func (s *Service) CalendarUser(ctx context.Context, token string) (store.User, error) {
	return enabled(s.calendars.CalendarUser(ctx, auth.HashOpaque(token)))
}

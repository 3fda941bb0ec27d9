package accounts

import (
	"context"
	"fmt"

	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/store"
)

// CalendarStore keeps the secret addresses of staff's follow-up calendars.
type CalendarStore interface {
	SetCalendarToken(ctx context.Context, userID, hash string) error
	CalendarUser(ctx context.Context, hash string) (store.User, error)
}

// NewCalendarToken makes the secret that addresses an account's follow-up
// calendar; it replaces the old one, which stops working.
func (s *Service) NewCalendarToken(ctx context.Context, userID string) (string, error) {
	token, hash, err := auth.NewOpaqueToken()
	if err != nil {
		return "", err
	}
	if err := s.calendars.SetCalendarToken(ctx, userID, hash); err != nil {
		return "", err
	}
	return token, nil
}

// CalendarUser is the enabled account a calendar secret belongs to
// (store.ErrNotFound for any other secret).
func (s *Service) CalendarUser(ctx context.Context, token string) (store.User, error) {
	u, err := s.calendars.CalendarUser(ctx, auth.HashOpaque(token))
	if err != nil {
		return store.User{}, err
	}
	if u.Disabled {
		return store.User{}, fmt.Errorf("calendar of a disabled account: %w", store.ErrNotFound)
	}
	return u, nil
}

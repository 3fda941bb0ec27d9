package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/catalog"
	"github.com/lifelong-links/sct/internal/store"
)

// LinkStore is what making young people's links needs of the store.
type LinkStore interface {
	Response(ctx context.Context, id string) (store.Response, error)
	SlotHolder(ctx context.Context, childID, form, timepoint string, wave int) (id, completedOn string, err error)
	CreateSession(ctx context.Context, s store.Session) (store.Session, error)
	SpendSession(ctx context.Context, id string) error
	SpendSessionsMadeBy(ctx context.Context, userID string, keep []string) (int, error)
}

// ErrNotLinkable refuses a link to a response that is not a draft SCT of
// the child: a submitted SCT holds names the link must not show.
var ErrNotLinkable = errors.New("a link opens a new SCT or carries on this child's SCT draft; this response is neither")

// LinkRequest asks for a link for a young person to complete one SCT.
type LinkRequest struct {
	Child      store.Child
	ResponseID string // a draft SCT of the child to carry on ("": a new response)
	Minutes    int    // how long the code works (0: two hours)
	Timepoint  string // "": the SCT the child is due next
	Wave       int
	CreatedBy  string // the staff member asking
}

// Link is a link's session and its one-time code (kept nowhere else).
type Link struct {
	Session store.Session
	Code    string
}

// CreateLink opens a link for a young person to complete one SCT for a
// child, in the latest SCT version (or the draft's).
func (s *Service) CreateLink(ctx context.Context, r LinkRequest) (Link, error) {
	if s.links == nil {
		return Link{}, errors.New("accounts: no link store")
	}
	if r.Minutes == 0 {
		r.Minutes = 120
	}
	formID, version := catalog.SCT, s.sctVersion
	if r.ResponseID == "" {
		r.ResponseID = uuid.NewString()
	} else {
		draft, err := s.links.Response(ctx, r.ResponseID)
		switch {
		case err == nil && draft.ChildID == r.Child.ID && draft.Form == formID && draft.Status == store.StatusDraft:
			version, r.Timepoint, r.Wave = draft.Version, draft.Timepoint, draft.Wave
		case err == nil && draft.Site != r.Child.Site:
			// Another site's record is not found, whatever is asked of it.
			return Link{}, fmt.Errorf("response %s: %w", r.ResponseID, store.ErrNotFound)
		case err == nil:
			return Link{}, ErrNotLinkable
		case !errors.Is(err, store.ErrNotFound):
			return Link{}, err
		}
	}
	if r.Timepoint == "" {
		var err error
		if r.Timepoint, r.Wave, err = s.nextTimepoint(ctx, r.Child.ID); err != nil {
			return Link{}, err
		}
	}
	if r.Wave == 0 {
		r.Wave = 1
	}
	code, err := auth.NewShortCode()
	if err != nil {
		return Link{}, err
	}
	sess, err := s.links.CreateSession(ctx, store.Session{
		ID: uuid.NewString(), CodeHash: auth.HashOpaque(auth.NormalizeShortCode(code)),
		ChildID: r.Child.ID, Site: r.Child.Site, ResponseID: r.ResponseID, Form: formID, Version: version,
		Timepoint: r.Timepoint, Wave: r.Wave, CreatedBy: r.CreatedBy,
		ExpiresAt: s.now().Add(time.Duration(r.Minutes) * time.Minute).UTC().Truncate(time.Millisecond),
	})
	if err != nil {
		return Link{}, err
	}
	return Link{Session: sess, Code: code}, nil
}

// nextTimepoint is the SCT a child is due next: the baseline, or else the
// follow-up after the last one submitted.
func (s *Service) nextTimepoint(ctx context.Context, childID string) (string, int, error) {
	_, _, err := s.links.SlotHolder(ctx, childID, catalog.SCT, "baseline", 1)
	if errors.Is(err, store.ErrNotFound) {
		return "baseline", 1, nil
	}
	if err != nil {
		return "", 0, err
	}
	for wave := 1; ; wave++ {
		_, _, err := s.links.SlotHolder(ctx, childID, catalog.SCT, "follow_up", wave)
		if errors.Is(err, store.ErrNotFound) {
			return "follow_up", wave, nil
		}
		if err != nil {
			return "", 0, err
		}
	}
}

// SpendLink ends a young person's link once their SCT is in: the code, the
// token and the device grant stop working.
func (s *Service) SpendLink(ctx context.Context, sessionID string) error {
	return s.links.SpendSession(ctx, sessionID)
}

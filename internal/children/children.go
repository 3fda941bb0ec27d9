// Package children is the service for a site's children: registering one
// under the local authority's pseudonymous ID, listing them with their
// responses, keeping their participation record, and erasing one on
// request. Names never enter it.
package children

import (
	"context"
	"errors"

	"github.com/lifelong-links/sct/internal/catalog"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/participation"
	"github.com/lifelong-links/sct/internal/store"
)

// Store is what the service needs of the store.
type Store interface {
	SiteExists(ctx context.Context, code string) (bool, error)
	CreateChild(ctx context.Context, c store.Child) (store.Child, error)
	ChildrenPage(ctx context.Context, site, after string, limit int) ([]store.Child, []store.ResponseInfo, bool, error)
	SetParticipation(ctx context.Context, childID string, p store.Participation) (store.Child, error)
	EraseChild(ctx context.Context, id string) error
	SlotHolder(ctx context.Context, childID, form, timepoint string, wave int) (id, completedOn string, err error)
	Response(ctx context.Context, id string) (store.Response, error)
}

// ErrIDTaken refuses an ID registered already, in the same words whichever
// site holds it: a child of another site is not shown to exist.
var ErrIDTaken = errors.New("this child ID cannot be registered")

// Service keeps a site's children.
type Service struct {
	store Store
}

// New makes the service.
func New(st Store) *Service { return &Service{store: st} }

// Register records a new child at an existing site.
func (s *Service) Register(ctx context.Context, c store.Child) (store.Child, error) {
	ok, err := s.store.SiteExists(ctx, c.Site)
	if err != nil {
		return store.Child{}, err
	}
	if !ok {
		return store.Child{}, &form.RequestError{Faults: []form.FieldError{
			{Path: "site", Reason: "no site " + c.Site + " is set up; an administrator creates sites"}}}
	}
	child, err := s.store.CreateChild(ctx, c)
	if errors.Is(err, store.ErrConflict) {
		return store.Child{}, ErrIDTaken
	}
	return child, err
}

// WithResponses is a child and their responses (no answers).
type WithResponses struct {
	Child     store.Child
	Responses []store.ResponseInfo
}

// Page lists up to limit of a site's children after the ID after ("": the
// first), in ID order, with their responses: who has what, and what is
// missing. next is the after of the next page ("" when none follows).
func (s *Service) Page(ctx context.Context, site, after string, limit int) (list []WithResponses, next string, err error) {
	children, responses, more, err := s.store.ChildrenPage(ctx, site, after, limit)
	if err != nil {
		return nil, "", err
	}
	byChild := map[string][]store.ResponseInfo{}
	for _, r := range responses {
		byChild[r.ChildID] = append(byChild[r.ChildID], r)
	}
	list = make([]WithResponses, len(children))
	for i, ch := range children {
		list[i] = WithResponses{Child: ch, Responses: byChild[ch.ID]}
	}
	if more {
		next = children[len(children)-1].ID
	}
	return list, next, nil
}

// SetParticipation replaces a child's participation record, once its codes
// are checked.
func (s *Service) SetParticipation(ctx context.Context, childID string, p store.Participation) (store.Child, error) {
	if faults := participation.Check(p); len(faults) > 0 {
		return store.Child{}, &form.RequestError{Message: "the participation record has invalid fields", Faults: faults}
	}
	return s.store.SetParticipation(ctx, childID, p)
}

// ErrNoSCT says a child has no submitted SCT.
var ErrNoSCT = errors.New("this child has no submitted SCT yet")

// SCTs returns a child's submitted baseline SCT and their latest submitted
// follow-up (nil when there is none yet): the follow-up of the highest wave
// in the unbroken run from wave 1, as the next follow-up due is counted.
// ErrNoSCT when there is no baseline.
func (s *Service) SCTs(ctx context.Context, childID string) (baseline store.Response, followUp *store.Response, err error) {
	id, _, err := s.store.SlotHolder(ctx, childID, catalog.SCT, "baseline", 1)
	if errors.Is(err, store.ErrNotFound) {
		return store.Response{}, nil, ErrNoSCT
	}
	if err != nil {
		return store.Response{}, nil, err
	}
	if baseline, err = s.store.Response(ctx, id); err != nil {
		return store.Response{}, nil, err
	}
	latest := ""
	for wave := 1; ; wave++ {
		id, _, err := s.store.SlotHolder(ctx, childID, catalog.SCT, "follow_up", wave)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return store.Response{}, nil, err
		}
		latest = id
	}
	if latest == "" {
		return baseline, nil, nil
	}
	f, err := s.store.Response(ctx, latest)
	if err != nil {
		return store.Response{}, nil, err
	}
	return baseline, &f, nil
}

// Erase removes a child and everything about them. Running it again
// finishes an erasure cut short.
func (s *Service) Erase(ctx context.Context, id string) error { return s.store.EraseChild(ctx, id) }

// Package submission accepts form responses: it checks a response against
// the exact form version it names and against the child's other responses,
// derives what it adds to the tables (its form's deriver, internal/catalog),
// and stores it once however often a client retries.
package submission

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lifelong-links/sct/internal/catalog"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
)

// Request is a response to store, as PUT /api/v1/responses/{id} carries it.
type Request struct {
	Form        string
	Version     string
	ChildID     string
	Timepoint   string
	Wave        int
	CompletedOn string
	Mode        string
	Language    string // the language it was completed in, one the form version has; empty: English
	Status      string
	Answers     json.RawMessage
	// RevisionReason says why a submitted response is being changed.
	RevisionReason string
}

// Store is what submissions need of the store.
type Store interface {
	Child(ctx context.Context, id string) (store.Child, error)
	Response(ctx context.Context, id string) (store.Response, error)
	InsertResponse(ctx context.Context, r store.Response) error
	UpdateResponse(ctx context.Context, r, prev store.Response) error
	SlotHolder(ctx context.Context, childID, form, timepoint string, wave int) (id, completedOn string, err error)
	DropErasedResponse(ctx context.Context, r store.Response) error
	Revisions(ctx context.Context, id string) ([]store.Response, error)
}

// Revisions lists a response's submitted revisions, oldest first.
func (s *Service) Revisions(ctx context.Context, id string) ([]store.Response, error) {
	return s.store.Revisions(ctx, id)
}

// InvalidError lists every fault found in a request.
type InvalidError struct {
	Faults []form.FieldError
}

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Faults))
	for i, f := range e.Faults {
		parts[i] = f.Path + " " + f.Reason
	}
	return "invalid response: " + strings.Join(parts, "; ")
}

// ErrImmutable means a request tried to change what a response is about.
var ErrImmutable = errors.New("a response keeps its form, version and child")

// ErrUnsubmit means a request tried to turn a submitted response back into a draft.
var ErrUnsubmit = errors.New("a submitted response cannot go back to draft; submit a new revision instead")

// Service accepts responses.
type Service struct {
	forms *form.Registry
	store Store
	now   func() time.Time
}

// New returns a Service.
func New(forms *form.Registry, st Store, now func() time.Time) *Service {
	return &Service{forms: forms, store: st, now: now}
}

// Outcome says what Put did.
type Outcome int

// Outcomes of Put.
const (
	Created   Outcome = iota + 1 // a new response
	Unchanged                    // the same body again: nothing stored
	Revised                      // a changed draft or a new submitted revision
)

// Reach is what the caller of a Put may touch. To a caller, a child or
// response outside its reach does not exist: the answers are exactly those
// for an unknown child or id, so that they reveal nothing.
type Reach struct {
	// Site reports whether the caller reaches a site; nil reaches every site.
	Site func(site string) bool
	// DraftsOnly keeps the caller off submitted responses (a young person's
	// link writes its one draft until it is submitted, never after).
	DraftsOnly bool
}

func (r Reach) site(site string) bool { return r.Site == nil || r.Site(site) }

// Put creates or replaces response id for a caller with the given reach
// (Reach{}: every site). A retry of the same body stores nothing and
// returns the stored record. A response outside the reach is
// store.ErrNotFound; a child outside it is reported as unregistered.
func (s *Service) Put(ctx context.Context, id string, req Request, reach Reach) (store.Response, Outcome, error) {
	r, err := s.prepare(ctx, id, req, reach)
	if err != nil {
		return store.Response{}, 0, err
	}
	// Optimistic: read, decide, write on condition that nothing changed;
	// a lost race is retried on fresh state.
	for attempt := 0; ; attempt++ {
		out, outcome, err := s.put(ctx, r, reach)
		if !errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrSlotTaken) || attempt == 2 {
			if err == nil && outcome != Unchanged {
				err = s.unlessErased(ctx, out)
			}
			return out, outcome, err
		}
	}
}

// unlessErased undoes a write whose child was erased while it was being
// made: nothing recorded about an erased child may outlive the erasure.
func (s *Service) unlessErased(ctx context.Context, r store.Response) error {
	child, err := s.store.Child(ctx, r.ChildID)
	switch {
	case err == nil && !child.Erasing:
		return nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	}
	if err := s.store.DropErasedResponse(context.WithoutCancel(ctx), r); err != nil {
		return err
	}
	return fmt.Errorf("child %s was erased: %w", r.ChildID, store.ErrNotFound)
}

func (s *Service) put(ctx context.Context, r store.Response, reach Reach) (store.Response, Outcome, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	prev, err := s.store.Response(ctx, r.ID)
	if err == nil && (!reach.site(prev.Site) || (reach.DraftsOnly && prev.Status != store.StatusDraft)) {
		return store.Response{}, 0, fmt.Errorf("response %s: %w", r.ID, store.ErrNotFound)
	}
	if errors.Is(err, store.ErrNotFound) {
		r.CreatedAt, r.UpdatedAt = now, now
		if r.Status == store.StatusSubmitted {
			r.Revision, r.SubmittedAt = 1, &now
		}
		if err := s.store.InsertResponse(ctx, r); err != nil {
			return store.Response{}, 0, err
		}
		return r, Created, nil
	}
	if err != nil {
		return store.Response{}, 0, err
	}
	switch {
	case prev.BodyHash == r.BodyHash:
		return prev, Unchanged, nil
	case prev.Form != r.Form || prev.Version != r.Version || prev.ChildID != r.ChildID:
		return store.Response{}, 0, ErrImmutable
	case prev.Status == store.StatusSubmitted && r.Status == store.StatusDraft:
		return store.Response{}, 0, ErrUnsubmit
	}
	r.CreatedAt, r.UpdatedAt, r.Revision, r.SubmittedAt = prev.CreatedAt, now, prev.Revision, prev.SubmittedAt
	if r.Status == store.StatusSubmitted {
		r.Revision, r.SubmittedAt = prev.Revision+1, &now
	}
	if err := s.store.UpdateResponse(ctx, r, prev); err != nil {
		return store.Response{}, 0, err
	}
	return r, Revised, nil
}

// prepare checks the request and builds the record to store.
func (s *Service) prepare(ctx context.Context, id string, req Request, reach Reach) (store.Response, error) {
	var faults []form.FieldError
	fault := func(path, format string, args ...any) {
		faults = append(faults, form.FieldError{Path: path, Reason: fmt.Sprintf(format, args...)})
	}
	submitted := req.Status == store.StatusSubmitted
	// The API checks these with validate tags already; the service does
	// not rely on every caller having done so.
	if req.Status != store.StatusDraft && !submitted {
		fault("status", "must be draft or submitted")
	}
	if req.Mode != "online" && req.Mode != "paper" {
		fault("mode", "must be online or paper")
	}
	if req.Wave < 0 {
		fault("wave", "must be 1 or more")
	}
	if req.CompletedOn != "" {
		if _, err := time.Parse(time.DateOnly, req.CompletedOn); err != nil {
			fault("completed_on", "must be a date YYYY-MM-DD")
		}
	}
	def, ok := s.forms.Get(req.Form, req.Version)
	if !ok {
		if versions := s.forms.Versions(req.Form); len(versions) > 0 {
			fault("version", "form %s has no version %q; published: %s", req.Form, req.Version, versionList(versions))
		} else {
			fault("form", "no form %q; forms: %s", req.Form, strings.Join(s.forms.Forms(), ", "))
		}
	}
	r := store.Response{
		ID: id, Form: req.Form, Version: req.Version, ChildID: req.ChildID, Timepoint: req.Timepoint,
		Wave: req.Wave, CompletedOn: req.CompletedOn, Mode: req.Mode, Status: req.Status,
		RevisionReason: strings.TrimSpace(req.RevisionReason),
	}
	if r.Wave == 0 {
		r.Wave = 1
	}
	if def != nil {
		switch {
		case !def.HasTimepoints() && r.Timepoint != "":
			fault("timepoint", "form %s has no timepoints; leave it out", def.Form)
		case def.HasTimepoints() && r.Timepoint == "" && submitted:
			fault("timepoint", "is required: one of %s", strings.Join(def.Timepoints, ", "))
		case def.HasTimepoints() && r.Timepoint != "" && !slices.Contains(def.Timepoints, r.Timepoint):
			fault("timepoint", "must be one of %s", strings.Join(def.Timepoints, ", "))
		}
		if r.Timepoint != "follow_up" && req.Wave > 1 {
			fault("wave", "only follow-ups have waves")
		}
	}
	if submitted && r.CompletedOn == "" {
		fault("completed_on", "is required when a response is submitted")
	}
	if d, err := time.Parse(time.DateOnly, r.CompletedOn); err == nil && d.After(s.now().AddDate(0, 0, 1)) {
		fault("completed_on", "is in the future")
	}
	answers := []byte(req.Answers)
	if len(answers) == 0 || string(answers) == "null" {
		answers = []byte("{}")
	}
	if def != nil {
		switch l, err := def.Localized(req.Language); {
		case errors.Is(err, form.ErrNoLanguage), errors.Is(err, form.ErrBadLanguage):
			fault("language", "form %s version %s has no wording in %q; its languages: %s",
				def.Form, def.Version, req.Language, strings.Join(def.LanguageCodes(), ", "))
		case err != nil:
			return store.Response{}, err
		default:
			r.Language = l.Language.Code
		}
		normal, errs := def.Validate(answers, submitted)
		faults = append(faults, errs...)
		r.Answers = normal
	}
	child, err := s.store.Child(ctx, req.ChildID)
	if err == nil && (!reach.site(child.Site) || child.Erasing) {
		err = store.ErrNotFound // another site's child, or one being erased, is no child to this caller
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		fault("child_id", "no child %q is registered; register the child first", req.ChildID)
	case err != nil:
		return store.Response{}, err
	default:
		r.Site, r.Group = child.Site, child.Group
	}
	if len(faults) == 0 && submitted {
		if err := s.checkOrder(ctx, r, fault); err != nil {
			return store.Response{}, err
		}
	}
	if len(faults) > 0 {
		return store.Response{}, &InvalidError{Faults: faults}
	}
	text := mustJSON(r.Answers)
	r.AnswersJSON = text // the store writes these bytes rather than encoding the answers again
	if submitted {
		if err := derive(&r, text); err != nil {
			return store.Response{}, err
		}
	}
	r.BodyHash = hashOf(r, text)
	return r, nil
}

// derive works out, once, what a submitted response adds to the tables, so
// that tables never re-read answers.
func derive(r *store.Response, answers []byte) error {
	f, ok := catalog.Lookup(r.Form)
	if !ok {
		return nil
	}
	in, text, err := f.Derived(r.Version, answers)
	if err != nil {
		return err
	}
	r.Derived, r.DerivedValue = text, in
	return nil
}

// checkOrder keeps a child's timepoints in order: a follow-up needs a
// submitted baseline (another response than itself) completed no later, and
// a baseline may not be dated after the child's first follow-up.
func (s *Service) checkOrder(ctx context.Context, r store.Response, fault func(path, format string, args ...any)) error {
	switch r.Timepoint {
	case "follow_up":
		id, completed, err := s.store.SlotHolder(ctx, r.ChildID, r.Form, "baseline", 1)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && id == r.ID):
			fault("timepoint", "a follow-up needs this child's baseline %s submitted first", r.Form)
		case err != nil:
			return err
		case r.CompletedOn < completed:
			fault("completed_on", "is %s, before this child's baseline (%s)", r.CompletedOn, completed)
		}
	case "baseline":
		id, completed, err := s.store.SlotHolder(ctx, r.ChildID, r.Form, "follow_up", 1)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && id == r.ID):
		case err != nil:
			return err
		case r.CompletedOn > completed:
			fault("completed_on", "is %s, after this child's first follow-up (%s)", r.CompletedOn, completed)
		}
	}
	return nil
}

// hashOf identifies a request's content, so that a retry is recognised: the
// hash of the JSON array of the envelope's fields and the answers, given as
// their JSON.
func hashOf(r store.Response, answers []byte) string {
	envelope := []any{r.Form, r.Version, r.ChildID, r.Timepoint, r.Wave, r.CompletedOn, r.Mode, r.Status}
	if r.Language != "" && r.Language != form.Default {
		// English bodies hash as they did before languages were kept.
		envelope = append(envelope, r.Language)
	}
	head := mustJSON(envelope)
	h := sha256.New()
	h.Write(head[:len(head)-1]) // without the closing bracket
	h.Write([]byte(","))
	h.Write(answers)
	h.Write([]byte("]"))
	return hex.EncodeToString(h.Sum(nil))
}

// mustJSON marshals values decoded from JSON, which cannot fail.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal decoded JSON: %v", err))
	}
	return b
}

func versionList(defs []*form.Definition) string {
	vs := make([]string, len(defs))
	for i, d := range defs {
		vs[i] = d.Version
	}
	return strings.Join(vs, ", ")
}

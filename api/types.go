package api

import (
	"encoding/json"
	"time"

	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/submission"
)

// The API's own types: what clients send and get. They are kept apart
// from the store's documents, so that how a record is stored can change
// without changing the API. Each has a function making it from the
// store's record.

type childJSON struct {
	ID            string             `json:"id"`
	Site          string             `json:"site"`
	Group         string             `json:"group"`
	AgeBand       string             `json:"age_band,omitempty"`
	StartedOn     string             `json:"started_on,omitempty"`
	CreatedAt     time.Time          `json:"created_at"`
	Participation *participationJSON `json:"participation,omitempty"`
}

func childOut(c store.Child) childJSON {
	out := childJSON{ID: c.ID, Site: c.Site, Group: c.Group, AgeBand: c.AgeBand, StartedOn: c.StartedOn, CreatedAt: c.CreatedAt}
	if c.Participation != nil {
		p := participationOut(*c.Participation)
		out.Participation = &p
	}
	return out
}

// participationJSON is a child's participation record with the report's
// codes (Appendix 4, Table 15): the body of PUT .../participation too.
type participationJSON struct {
	Eligible               *bool       `json:"eligible"`
	Participating          *bool       `json:"participating"`
	StartedOn              string      `json:"started_on,omitempty"`
	ReasonNotParticipating *int        `json:"reason_not_participating"`
	CeasedOn               string      `json:"ceased_on,omitempty"`
	ReasonCeased           *int        `json:"reason_ceased"`
	PlanCompleted          *int        `json:"plan_completed"`
	FGCCompleted           *int        `json:"fgc_completed"`
	ReviewFGCCompleted     *int        `json:"review_fgc_completed"`
	Pauses                 []pauseJSON `json:"pauses"`
	UpdatedAt              time.Time   `json:"updated_at"`
}

type pauseJSON struct {
	From string `json:"from"`
	To   string `json:"to,omitempty"`
}

func participationOut(p store.Participation) participationJSON {
	out := participationJSON{Eligible: p.Eligible, Participating: p.Participating, StartedOn: p.StartedOn,
		ReasonNotParticipating: p.ReasonNotParticipating, CeasedOn: p.CeasedOn, ReasonCeased: p.ReasonCeased,
		PlanCompleted: p.PlanCompleted, FGCCompleted: p.FGCCompleted, ReviewFGCCompleted: p.ReviewFGCCompleted,
		UpdatedAt: p.UpdatedAt}
	for _, ps := range p.Pauses {
		out.Pauses = append(out.Pauses, pauseJSON(ps))
	}
	return out
}

// stored is the record as the store keeps it (its time is the store's).
func (p participationJSON) stored() store.Participation {
	out := store.Participation{Eligible: p.Eligible, Participating: p.Participating, StartedOn: p.StartedOn,
		ReasonNotParticipating: p.ReasonNotParticipating, CeasedOn: p.CeasedOn, ReasonCeased: p.ReasonCeased,
		PlanCompleted: p.PlanCompleted, FGCCompleted: p.FGCCompleted, ReviewFGCCompleted: p.ReviewFGCCompleted}
	for _, ps := range p.Pauses {
		out.Pauses = append(out.Pauses, store.Pause(ps))
	}
	return out
}

type responseInfoJSON struct {
	ID          string    `json:"id"`
	Form        string    `json:"form"`
	Version     string    `json:"version"`
	ChildID     string    `json:"child_id"`
	Timepoint   string    `json:"timepoint,omitempty"`
	Wave        int       `json:"wave"`
	CompletedOn string    `json:"completed_on,omitempty"`
	Mode        string    `json:"mode"`
	Status      string    `json:"status"`
	Revision    int       `json:"revision"`
	UpdatedAt   time.Time `json:"updated_at"`
	Site        string    `json:"site"`
}

func responseInfoOut(r store.ResponseInfo) responseInfoJSON {
	return responseInfoJSON{ID: r.ID, Form: r.Form, Version: r.Version, ChildID: r.ChildID, Timepoint: r.Timepoint,
		Wave: r.Wave, CompletedOn: r.CompletedOn, Mode: r.Mode, Status: r.Status, Revision: r.Revision,
		UpdatedAt: r.UpdatedAt, Site: r.Site}
}

type responseJSON struct {
	ID             string         `json:"id"`
	Form           string         `json:"form"`
	Version        string         `json:"version"`
	ChildID        string         `json:"child_id"`
	Site           string         `json:"site"`
	Group          string         `json:"group"`
	Timepoint      string         `json:"timepoint,omitempty"`
	Wave           int            `json:"wave"`
	CompletedOn    string         `json:"completed_on,omitempty"`
	Mode           string         `json:"mode"`
	Language       string         `json:"language"`
	Status         string         `json:"status"`
	Answers        map[string]any `json:"answers"`
	Revision       int            `json:"revision"`
	RevisionReason string         `json:"revision_reason,omitempty"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	SubmittedAt    *time.Time     `json:"submitted_at,omitempty"`
}

func responseOut(r store.Response) responseJSON {
	return responseJSON{ID: r.ID, Form: r.Form, Version: r.Version, ChildID: r.ChildID, Site: r.Site, Group: r.Group,
		Timepoint: r.Timepoint, Wave: r.Wave, CompletedOn: r.CompletedOn, Mode: r.Mode, Language: r.LanguageOrDefault(),
		Status: r.Status, Answers: r.Answers, Revision: r.Revision, RevisionReason: r.RevisionReason, CreatedAt: r.CreatedAt,
		UpdatedAt: r.UpdatedAt, SubmittedAt: r.SubmittedAt}
}

type sessionJSON struct {
	ID         string     `json:"id"`
	ChildID    string     `json:"child_id"`
	Site       string     `json:"site"`
	ResponseID string     `json:"response_id"`
	Form       string     `json:"form"`
	Version    string     `json:"version"`
	Timepoint  string     `json:"timepoint"`
	Wave       int        `json:"wave"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	OpenedAt   *time.Time `json:"opened_at,omitempty"`
	SpentAt    *time.Time `json:"spent_at,omitempty"`
	GrantUntil *time.Time `json:"grant_until,omitempty"`
}

func sessionOut(s store.Session) sessionJSON {
	return sessionJSON{ID: s.ID, ChildID: s.ChildID, Site: s.Site, ResponseID: s.ResponseID, Form: s.Form,
		Version: s.Version, Timepoint: s.Timepoint, Wave: s.Wave, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt,
		OpenedAt: s.OpenedAt, SpentAt: s.SpentAt, GrantUntil: s.GrantUntil}
}

type userJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	Sites     []string  `json:"sites"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func userOut(u store.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Role: u.Role, Sites: u.Sites, Disabled: u.Disabled, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type siteJSON struct {
	Code           string    `json:"code"`
	Name           string    `json:"name"`
	FollowUpMonths int       `json:"followup_months"`
	CreatedAt      time.Time `json:"created_at"`
}

func siteOut(s store.Site) siteJSON {
	return siteJSON{Code: s.Code, Name: s.Name, FollowUpMonths: s.FollowUpMonths, CreatedAt: s.CreatedAt}
}

type auditJSON struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Role      string    `json:"role,omitempty"`
	Action    string    `json:"action"`
	Target    string    `json:"target,omitempty"`
	Site      string    `json:"site,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	Remote    string    `json:"remote,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

func auditOut(e store.AuditEntry) auditJSON { return auditJSON(e) }

// each makes the API's list from the store's records.
func each[T, U any](in []T, out func(T) U) []U {
	list := make([]U, len(in))
	for i, x := range in {
		list[i] = out(x)
	}
	return list
}

func ptr[T any](v T) *T { return &v }

// responseRequest is the body of PUT /api/v1/responses/{id}.
type responseRequest struct {
	Form        string          `json:"form" validate:"required,max=64"`
	Version     string          `json:"version" validate:"required,max=32"`
	ChildID     string          `json:"child_id" validate:"required,max=64"`
	Timepoint   string          `json:"timepoint" validate:"omitempty,oneof=baseline follow_up"`
	Wave        int             `json:"wave" validate:"omitempty,min=1,max=99"`
	CompletedOn string          `json:"completed_on" validate:"omitempty,datetime=2006-01-02"`
	Mode        string          `json:"mode" validate:"required,oneof=online paper"`
	Language    string          `json:"language" validate:"omitempty,max=35"` // the language it was completed in; absent: English
	Status      string          `json:"status" validate:"required,oneof=draft submitted"`
	Answers     json.RawMessage `json:"answers"`
	// RevisionReason says why a submitted response is being changed.
	RevisionReason string `json:"revision_reason" validate:"omitempty,max=500"`
}

func (r responseRequest) submission() submission.Request { return submission.Request(r) }

package bench

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/lifelong-links/sct/internal/children"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/submission"
)

// NewServiceSink fills st through the services, with the forms.
func NewServiceSink(st *store.Store, forms *form.Registry) *ServiceSink {
	return &ServiceSink{st: st, submit: submission.New(forms, st, time.Now), children: children.New(st), actor: "bench-fill"}
}

// ServiceSink is a Sink writing through the services the API calls, with
// the audit entries the server would write, as a coordinator of every site.
type ServiceSink struct {
	st       *store.Store
	submit   *submission.Service
	children *children.Service
	actor    string // who the audit entries name
}

// As has the audit entries name actor as the one who wrote.
func (f *ServiceSink) As(actor string) *ServiceSink {
	f.actor = actor
	return f
}

func (f *ServiceSink) audit(ctx context.Context, role, action, target, site, detail string) error {
	return f.st.AppendAudit(ctx, store.AuditEntry{Actor: f.actor, Role: role, Action: action, Target: target, Site: site,
		Remote: "127.0.0.1", Detail: detail})
}

func (f *ServiceSink) Sites(ctx context.Context, codes []string) error {
	for _, code := range codes {
		_, err := f.st.CreateSite(ctx, store.Site{Code: code, Name: "Site " + code})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return nil
}

func (f *ServiceSink) Child(ctx context.Context, id, site, group, ageBand, startedOn string) error {
	c, err := f.children.Register(ctx, store.Child{ID: id, Site: site, Group: group, AgeBand: ageBand, StartedOn: startedOn})
	if err != nil {
		return err
	}
	return f.audit(ctx, "coordinator", "child.create", "child:"+c.ID, c.Site, "")
}

func (f *ServiceSink) Response(ctx context.Context, id string, body []byte) error {
	var req struct {
		Form, Version, Timepoint, Mode, Status string
		ChildID                                string `json:"child_id"`
		CompletedOn                            string `json:"completed_on"`
		Wave                                   int
		Answers                                json.RawMessage
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return err
	}
	r, _, err := f.submit.Put(ctx, id, submission.Request{Form: req.Form, Version: req.Version, ChildID: req.ChildID,
		Timepoint: req.Timepoint, Wave: req.Wave, CompletedOn: req.CompletedOn, Mode: req.Mode, Status: req.Status,
		Answers: req.Answers}, submission.Reach{})
	if err != nil {
		return err
	}
	return f.audit(ctx, "coordinator", "response.put", "response:"+r.ID, r.Site, r.Status)
}

func (f *ServiceSink) Participation(ctx context.Context, childID string, body []byte) error {
	var p struct {
		Eligible, Participating *bool
		StartedOn               string `json:"started_on"`
		ReasonNotParticipating  *int   `json:"reason_not_participating"`
		CeasedOn                string `json:"ceased_on"`
		ReasonCeased            *int   `json:"reason_ceased"`
		PlanCompleted           *int   `json:"plan_completed"`
		FGCCompleted            *int   `json:"fgc_completed"`
		ReviewFGCCompleted      *int   `json:"review_fgc_completed"`
		Pauses                  []store.Pause
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return err
	}
	c, err := f.children.SetParticipation(ctx, childID, store.Participation{Eligible: p.Eligible, Participating: p.Participating,
		StartedOn: p.StartedOn, ReasonNotParticipating: p.ReasonNotParticipating, CeasedOn: p.CeasedOn, ReasonCeased: p.ReasonCeased,
		PlanCompleted: p.PlanCompleted, FGCCompleted: p.FGCCompleted, ReviewFGCCompleted: p.ReviewFGCCompleted, Pauses: p.Pauses})
	if err != nil {
		return err
	}
	return f.audit(ctx, "coordinator", "participation.put", "child:"+c.ID, c.Site, "")
}

func (f *ServiceSink) ReadAudit(ctx context.Context, responseID, site, childID string) error {
	return f.audit(ctx, "coordinator", "response.read", "response:"+responseID, site, "child "+childID)
}

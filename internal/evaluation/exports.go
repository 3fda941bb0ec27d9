package evaluation

import (
	"context"
	"fmt"

	"github.com/lifelong-links/sct/internal/catalog"
	"github.com/lifelong-links/sct/internal/export"
	"github.com/lifelong-links/sct/internal/form"
)

// exportPart is one file of a data return: a layout and the form whose
// responses fill it ("" for participation).
type exportPart struct {
	layout *export.Layout
	form   string
}

// exportParts derives the export layouts, once, from the definitions of
// the forms the catalog exports: a wide and a long file each, then
// participation.
func exportParts(forms *form.Registry) ([]exportPart, error) {
	var parts []exportPart
	for _, f := range catalog.Forms {
		if !f.Exported {
			continue
		}
		defs := forms.Versions(f.ID)
		wide, err := export.Wide(defs)
		if err != nil {
			return nil, fmt.Errorf("export layout of %s: %w", f.ID, err)
		}
		long, err := export.Long(defs)
		if err != nil {
			return nil, fmt.Errorf("export layout of %s: %w", f.ID, err)
		}
		parts = append(parts, exportPart{wide, f.ID}, exportPart{long, f.ID})
	}
	return append(parts, exportPart{layout: export.ParticipationLayout()}), nil
}

// ExportLayouts are the layouts of the data return's files, in order.
func (s *Service) ExportLayouts() []*export.Layout {
	out := make([]*export.Layout, len(s.exports))
	for i, p := range s.exports {
		out[i] = p.layout
	}
	return out
}

// Export gives the data return's files for the query (site and dates),
// each writing its rows from a cursor when asked: pseudonymised, no names,
// no free text.
func (s *Service) Export(ctx context.Context, q Query) []export.Part {
	parts := make([]export.Part, len(s.exports))
	for i, p := range s.exports {
		parts[i] = export.Part{Layout: p.layout, Rows: func(w *export.Writer) error {
			if p.form != "" {
				return s.store.EachResponse(ctx, q.filter(p.form), w.Response)
			}
			children, err := s.store.ChildrenOfSite(ctx, q.Site)
			if err != nil {
				return err
			}
			for _, ch := range children {
				if ch.Participation == nil {
					continue
				}
				pp := ch.Participation
				if err := w.Participation(export.Participation{
					ChildID: ch.ID, Site: ch.Site, Group: ch.Group, Eligible: pp.Eligible, Participating: pp.Participating,
					StartedOn: pp.StartedOn, ReasonNotParticipating: pp.ReasonNotParticipating, CeasedOn: pp.CeasedOn,
					ReasonCeased: pp.ReasonCeased, PlanCompleted: pp.PlanCompleted, FGCCompleted: pp.FGCCompleted,
					ReviewFGCCompleted: pp.ReviewFGCCompleted, Pauses: len(pp.Pauses),
				}); err != nil {
					return err
				}
			}
			return nil
		}}
	}
	return parts
}

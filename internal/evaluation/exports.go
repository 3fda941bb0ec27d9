package evaluation

import (
	"context"
	"fmt"

	"github.com/lifelong-links/sct/internal/catalog"
	"github.com/lifelong-links/sct/internal/export"
	"github.com/lifelong-links/sct/internal/form"
)

// exportPart is one file of a data return: a layout, or a network's
// GraphML, and the form whose responses fill it ("" for participation).
type exportPart struct {
	layout  *export.Layout
	network *export.Network
	form    string
}

// exportParts derives the export layouts, once, from the definitions of
// the forms the catalog exports: a wide and a long file each, the nodes,
// edges and GraphML of a network form, then participation.
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
		parts = append(parts, exportPart{layout: wide, form: f.ID}, exportPart{layout: long, form: f.ID})
		if f.Network {
			n, err := export.NewNetwork(defs)
			if err != nil {
				return nil, fmt.Errorf("export network of %s: %w", f.ID, err)
			}
			parts = append(parts, exportPart{layout: n.Nodes, form: f.ID}, exportPart{layout: n.Edges, form: f.ID},
				exportPart{network: n, form: f.ID})
		}
	}
	return append(parts, exportPart{layout: export.ParticipationLayout()}), nil
}

// Export gives the data return's files for the query (site and dates),
// each writing its rows from a cursor when asked: pseudonymised, no names,
// no free text.
func (s *Service) Export(ctx context.Context, q Query) []export.Part {
	parts := make([]export.Part, len(s.exports))
	for i, p := range s.exports {
		if p.network != nil {
			parts[i] = export.Part{Network: p.network, Graphs: func(g *export.GraphWriter) error {
				return s.store.EachResponse(ctx, q.filter(p.form), g.Response)
			}}
			continue
		}
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

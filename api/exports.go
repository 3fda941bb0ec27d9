package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/export"
	"github.com/lifelong-links/sct/internal/form"
)

// exporter holds the export layouts, derived once from the form definitions.
type exporter struct {
	parts []exportPart
}

type exportPart struct {
	layout *export.Layout
	form   string // "" for participation
}

func newExporter(forms *form.Registry) (*exporter, error) {
	x := &exporter{}
	for _, f := range []string{"sct", "practice-summary"} {
		defs := forms.Versions(f)
		wide, err := export.Wide(defs)
		if err != nil {
			return nil, fmt.Errorf("export layout of %s: %w", f, err)
		}
		long, err := export.Long(defs)
		if err != nil {
			return nil, fmt.Errorf("export layout of %s: %w", f, err)
		}
		x.parts = append(x.parts, exportPart{wide, f}, exportPart{long, f})
	}
	x.parts = append(x.parts, exportPart{layout: export.ParticipationLayout()})
	return x, nil
}

// part builds the rows of one layout for the filters: streamed from a cursor.
func (h *handlers) part(c echo.Context, p exportPart, q summaryQuery) export.Part {
	return export.Part{Layout: p.layout, Rows: func(w *export.Writer) error {
		ctx := c.Request().Context()
		if p.form == "" {
			children, err := h.store.ChildrenOfSite(ctx, q.Site)
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
		}
		return h.store.EachResponse(ctx, q.filter(p.form), w.Response)
	}}
}

// exportFile streams one export file, or a site's whole data return as a
// zip. Files are pseudonymised: no names, no free text. Every export is
// recorded in the audit trail before it is sent.
func (h *handlers) exportFile(c echo.Context) error {
	q, err := bindSummaryQuery(c, "site", "from", "to")
	if err != nil {
		return err
	}
	if q.Suppress != 0 {
		return invalid(http.StatusBadRequest, "exports are row-level data for the evaluation team and cannot suppress counts; use suppress= on the summaries",
			form.FieldError{Path: "suppress", Reason: "is not an option of exports"})
	}
	name := c.Param("file")
	x := h.exports
	var parts []export.Part
	for _, p := range x.parts {
		parts = append(parts, h.part(c, p, q))
	}
	about := export.About{Site: q.Site, From: q.From, To: q.To, Made: h.now()}
	res := c.Response()
	send := func(contentType, filename string) {
		res.Header().Set(echo.HeaderContentType, contentType)
		res.Header().Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", filename))
		res.WriteHeader(http.StatusOK)
	}
	audit := func() error {
		return h.audit(c, "export", "file:"+name, q.Site, fmt.Sprintf("from %q to %q", q.From, q.To))
	}
	switch {
	case name == "data-return.zip":
		if err := audit(); err != nil {
			return err
		}
		send("application/zip", about.FileName())
		return h.streamErr(c, export.DataReturn(res, about, parts...))
	case name == "codebook.md":
		if err := audit(); err != nil {
			return err
		}
		layouts := make([]*export.Layout, len(x.parts))
		for i, p := range x.parts {
			layouts[i] = p.layout
		}
		send("text/markdown; charset=utf-8", name)
		return h.streamErr(c, export.Codebook(res, layouts...))
	}
	for i, p := range x.parts {
		stem, ext, _ := strings.Cut(name, ".")
		if stem != p.layout.Name {
			continue
		}
		switch ext {
		case "csv":
			if err := audit(); err != nil {
				return err
			}
			send("text/csv; charset=utf-8", name)
			w, err := export.NewWriter(res, p.layout)
			if err != nil {
				return h.streamErr(c, err)
			}
			if err := parts[i].Rows(w); err != nil {
				return h.streamErr(c, err)
			}
			return h.streamErr(c, w.Flush())
		case "sps":
			send("text/plain; charset=utf-8", name)
			return h.streamErr(c, export.SPSS(res, p.layout, stem+".csv"))
		}
	}
	return invalid(http.StatusNotFound, "no such export; see the codebook for the files")
}

// streamErr handles an error after the answer has started: the status is
// sent already, so the client learns of it by a cut-short body; the cause is
// logged.
func (h *handlers) streamErr(c echo.Context, err error) error {
	if err != nil && !errors.Is(err, c.Request().Context().Err()) {
		h.log.Error("export failed after it started", "request_id", requestID(c), "err", err)
	}
	return nil
}

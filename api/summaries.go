package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/disclosure"
	"github.com/lifelong-links/sct/internal/evaluation"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/practice"
	"github.com/lifelong-links/sct/internal/summary"
)

// summaryQuery holds the filters the summaries take.
type summaryQuery struct {
	Timepoint string `json:"timepoint,omitempty" validate:"omitempty,oneof=baseline follow_up"`
	Site      string `json:"site,omitempty" validate:"omitempty,site"`
	Group     string `json:"group,omitempty" validate:"omitempty,oneof=lifelong_links comparison"`
	Version   string `json:"version,omitempty" validate:"omitempty,max=32"`
	Wave      int    `json:"wave,omitempty" validate:"omitempty,min=1,max=99"`
	From      string `json:"from,omitempty" validate:"omitempty,datetime=2006-01-02"`
	To        string `json:"to,omitempty" validate:"omitempty,datetime=2006-01-02"`
	// Suppress hides counts below it (disclosure control); 0 shows all.
	Suppress int `json:"suppress,omitempty" validate:"omitempty,min=2,max=100"`
}

// bindSummaryQuery reads a summary's filters; allowed names the ones this
// summary takes (suppress is always allowed), and a timepoint is required
// when it is among them.
func bindSummaryQuery(c echo.Context, allowed ...string) (summaryQuery, error) {
	var q summaryQuery
	allowed = append(allowed, "suppress")
	for name := range c.QueryParams() {
		if !slices.Contains(allowed, name) {
			return q, invalid(http.StatusBadRequest, "unknown query parameter",
				form.FieldError{Path: name, Reason: "is not a filter of this summary (" + strings.Join(allowed, ", ") + ")"})
		}
	}
	err := echo.QueryParamsBinder(c).
		String("timepoint", &q.Timepoint).String("site", &q.Site).String("group", &q.Group).
		String("version", &q.Version).Int("wave", &q.Wave).String("from", &q.From).String("to", &q.To).
		Int("suppress", &q.Suppress).BindError()
	if err != nil {
		var be *echo.BindingError
		path := "query"
		if errors.As(err, &be) {
			path = be.Field
		}
		return q, invalid(http.StatusBadRequest, "a filter has the wrong type",
			form.FieldError{Path: path, Reason: "must be a whole number"})
	}
	if err := c.Validate(&q); err != nil {
		return q, err
	}
	if slices.Contains(allowed, "timepoint") && q.Timepoint == "" {
		return q, invalid(http.StatusUnprocessableEntity, "the request has invalid fields",
			form.FieldError{Path: "timepoint", Reason: "is required"})
	}
	if q.From != "" && q.To != "" && q.From > q.To {
		return q, invalid(http.StatusUnprocessableEntity, "the request has invalid fields",
			form.FieldError{Path: "from", Reason: "is after to"})
	}
	return q, nil
}

func (q summaryQuery) query() evaluation.Query {
	return evaluation.Query{Timepoint: q.Timepoint, Site: q.Site, Group: q.Group, Version: q.Version, Wave: q.Wave, From: q.From, To: q.To}
}

type sctSummaryResponse struct {
	summary.Report
	Filters summaryQuery `json:"filters"`
}

// sctFilters are the filters of the SCT summary.
var sctFilters = []string{"timepoint", "site", "group", "version", "wave", "from", "to"}

func (h *handlers) sctSummary(c echo.Context) error {
	q, err := bindSummaryQuery(c, sctFilters...)
	if err != nil {
		return err
	}
	report, err := h.eval.SCT(c.Request().Context(), q.query())
	if err != nil {
		return err
	}
	return h.table(c, q, sctSummaryResponse{Report: report, Filters: q})
}

// table writes a summary, with small counts suppressed when asked.
func (h *handlers) table(c echo.Context, q summaryQuery, report any) error {
	if q.Suppress == 0 {
		return c.JSON(http.StatusOK, report)
	}
	out, err := disclosure.Apply(report, q.Suppress)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// checkSummaries recounts the summary inputs from the responses and says
// whether the sums the server keeps agree.
func (h *handlers) checkSummaries(c echo.Context) error {
	diffs, err := h.eval.CheckSums(c.Request().Context())
	if err != nil {
		return err
	}
	if diffs == nil {
		diffs = []string{}
	}
	return c.JSON(http.StatusOK, map[string]any{"agree": len(diffs) == 0, "differences": diffs})
}

// rebuildSummaries drops the sums and builds them again from the responses.
func (h *handlers) rebuildSummaries(c echo.Context) error {
	n, err := h.eval.RebuildSums(c.Request().Context())
	if err != nil {
		return err
	}
	if err := h.audit(c, "summaries.rebuild", "", "", ""); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"responses": n})
}

type pairedResponse struct {
	summary.PairedReport
	Wave    int          `json:"wave"`
	Filters summaryQuery `json:"filters"`
}

// sctPaired compares the same children at baseline and at one follow-up
// wave (1 unless asked).
func (h *handlers) sctPaired(c echo.Context) error {
	q, err := bindSummaryQuery(c, "site", "group", "version", "wave", "from", "to")
	if err != nil {
		return err
	}
	report, wave, err := h.eval.Paired(c.Request().Context(), q.query())
	if err != nil {
		return err
	}
	q.Wave = wave
	return h.table(c, q, pairedResponse{PairedReport: report, Wave: wave, Filters: q})
}

type practiceResponse struct {
	practice.Report
	Filters summaryQuery `json:"filters"`
}

// practiceSummary builds Tables 2, 5 and 6 and the connection and process
// figures over practice summaries of both formats.
func (h *handlers) practiceSummary(c echo.Context) error {
	q, err := bindSummaryQuery(c, "site", "version", "from", "to")
	if err != nil {
		return err
	}
	report, err := h.eval.Practice(c.Request().Context(), q.query())
	if err != nil {
		return err
	}
	return h.table(c, q, practiceResponse{Report: report, Filters: q})
}

// participationTable is the report's Table 7.
func (h *handlers) participationTable(c echo.Context) error {
	q, err := bindSummaryQuery(c, "site")
	if err != nil {
		return err
	}
	t, err := h.eval.Participation(c.Request().Context(), q.Site)
	if err != nil {
		return err
	}
	return h.table(c, q, map[string]any{"table7": t, "filters": q})
}

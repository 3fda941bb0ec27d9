package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/summary"
)

// summaryQuery holds the filters every summary takes.
type summaryQuery struct {
	Timepoint string `json:"timepoint" validate:"required,oneof=baseline follow_up"`
	Site      string `json:"site,omitempty" validate:"omitempty,site"`
	Group     string `json:"group,omitempty" validate:"omitempty,oneof=lifelong_links comparison"`
	Version   string `json:"version,omitempty" validate:"omitempty,max=32"`
	Wave      int    `json:"wave,omitempty" validate:"omitempty,min=1,max=99"`
	From      string `json:"from,omitempty" validate:"omitempty,datetime=2006-01-02"`
	To        string `json:"to,omitempty" validate:"omitempty,datetime=2006-01-02"`
}

var summaryParams = map[string]bool{"timepoint": true, "site": true, "group": true, "version": true, "wave": true, "from": true, "to": true}

func bindSummaryQuery(c echo.Context) (summaryQuery, error) {
	var q summaryQuery
	for name := range c.QueryParams() {
		if !summaryParams[name] {
			return q, invalid(http.StatusBadRequest, "unknown query parameter",
				form.FieldError{Path: name, Reason: "is not a filter of this summary (timepoint, site, group, version, wave, from, to)"})
		}
	}
	err := echo.QueryParamsBinder(c).
		String("timepoint", &q.Timepoint).String("site", &q.Site).String("group", &q.Group).
		String("version", &q.Version).Int("wave", &q.Wave).String("from", &q.From).String("to", &q.To).
		BindError()
	if err != nil {
		return q, invalid(http.StatusBadRequest, "a filter has the wrong type",
			form.FieldError{Path: "wave", Reason: "must be a whole number"})
	}
	if err := c.Validate(&q); err != nil {
		return q, err
	}
	if q.From != "" && q.To != "" && q.From > q.To {
		return q, invalid(http.StatusUnprocessableEntity, "the request has invalid fields",
			form.FieldError{Path: "from", Reason: "is after to"})
	}
	return q, nil
}

func (q summaryQuery) filter(formID string) store.Filter {
	return store.Filter{Form: formID, Timepoint: q.Timepoint, Site: q.Site, Group: q.Group,
		Version: q.Version, Wave: q.Wave, From: q.From, To: q.To}
}

// sctScheme takes the rows of the SCT tables from a form version: the one
// asked for, or else the latest.
func (h *handlers) sctScheme(version string) (summary.Scheme, error) {
	var def *form.Definition
	if version != "" {
		d, ok := h.forms.Get("sct", version)
		if !ok {
			return summary.Scheme{}, invalid(http.StatusUnprocessableEntity, "the request has invalid fields",
				form.FieldError{Path: "version", Reason: "is not a published version of the SCT"})
		}
		def = d
	} else {
		versions := h.forms.Versions("sct")
		def = versions[len(versions)-1]
	}
	scheme := summary.Scheme{Relationships: def.CodeList("relationship")}
	if f := def.Field("key_people.support"); f != nil {
		for _, s := range f.Fields {
			scheme.Supports = append(scheme.Supports, s.Name)
		}
	}
	return scheme, nil
}

type sctSummaryResponse struct {
	summary.Report
	Filters summaryQuery `json:"filters"`
}

func (h *handlers) sctSummary(c echo.Context) error {
	q, err := bindSummaryQuery(c)
	if err != nil {
		return err
	}
	scheme, err := h.sctScheme(q.Version)
	if err != nil {
		return err
	}
	var t summary.Tally
	if err := h.store.EachSCTInput(c.Request().Context(), q.filter("sct"), t.Add); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sctSummaryResponse{Report: summary.SCT(q.Timepoint, scheme, t), Filters: q})
}

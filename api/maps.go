package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/catalog"
	"github.com/lifelong-links/sct/internal/children"
	"github.com/lifelong-links/sct/internal/netmap"
	"github.com/lifelong-links/sct/internal/store"
)

// getMap draws the map of the young person's people from an SCT's stored
// answers, as SVG. Names are drawn for the staff of the child's site and
// the young person's own link; anyone else sees relationships only.
func (h *handlers) getMap(c echo.Context) error {
	r := checkedResponse(c)
	if r.Form != catalog.SCT {
		return invalid(http.StatusNotFound, "only an SCT has a map of people; this response is a "+r.Form)
	}
	a, err := netmap.Decode(r.Answers)
	if err != nil {
		return err
	}
	names := principal(c).SeesNamesOfOwnSite()
	if names {
		if err := h.audit(c, "response.map.read", "response:"+r.ID, r.Site, "child "+r.ChildID); err != nil {
			return err
		}
	}
	w := netmap.English()
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "image/svg+xml; charset=utf-8")
	// Opened on its own the picture is a document of this origin: it may
	// run nothing and load nothing (its style is inline).
	res.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	res.Header().Set(echo.HeaderContentDisposition, `inline; filename="sct-map-`+r.ID+`.svg"`)
	res.WriteHeader(http.StatusOK)
	return netmap.Layout(a, names, w).SVG(res, caption(r, w), w)
}

// caption says which SCT a map is of: its timepoint and date, or that it
// is a draft.
func caption(r store.Response, w netmap.Words) string {
	when := w["baseline"]
	if r.Timepoint == "follow_up" {
		when = fmt.Sprintf(w["follow_up"], max(r.Wave, 1))
	}
	switch {
	case r.Status == store.StatusDraft:
		return when + ", " + w["draft"]
	case r.CompletedOn != "":
		return when + ", " + r.CompletedOn
	}
	return when
}

// changeJSON is then and now for one child.
type changeJSON struct {
	ChildID string `json:"child_id"`
	netmap.Change
}

// getChange compares a child's baseline SCT with their latest follow-up.
// Without a follow-up yet it answers the baseline with "follow_up": null.
func (h *handlers) getChange(c echo.Context) error {
	child := checkedChild(c)
	base, fu, err := h.children.SCTs(c.Request().Context(), child.ID)
	if errors.Is(err, children.ErrNoSCT) {
		return invalid(http.StatusNotFound, "child "+child.ID+" has no submitted SCT yet: then and now starts from their baseline")
	}
	if err != nil {
		return err
	}
	def, ok := h.forms.Get(base.Form, base.Version)
	if !ok {
		return fmt.Errorf("change: no definition of %s %s", base.Form, base.Version)
	}
	var supports []string
	if f := def.Field("key_people.support"); f != nil {
		for _, s := range f.Fields {
			supports = append(supports, s.Name)
		}
	}
	then, err := sctOf(base)
	if err != nil {
		return err
	}
	var now *netmap.SCT
	read := []string{base.ID}
	if fu != nil {
		s, err := sctOf(*fu)
		if err != nil {
			return err
		}
		now = &s
		read = append(read, fu.ID)
	}
	names := principal(c).SeesNamesOfOwnSite()
	if names {
		if err := h.audit(c, "child.change.read", "child:"+child.ID, child.Site, "responses "+strings.Join(read, " ")); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, changeJSON{ChildID: child.ID, Change: netmap.Compare(then, now, supports, names)})
}

func sctOf(r store.Response) (netmap.SCT, error) {
	a, err := netmap.Decode(r.Answers)
	if err != nil {
		return netmap.SCT{}, err
	}
	return netmap.SCT{ResponseID: r.ID, Timepoint: r.Timepoint, Wave: max(r.Wave, 1), CompletedOn: r.CompletedOn, Answers: a}, nil
}

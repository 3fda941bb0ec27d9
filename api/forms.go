package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type formVersion struct {
	Version string `json:"version"`
	Title   string `json:"title"`
	InUse   any    `json:"in_use,omitempty"`
	Hash    string `json:"hash"`
	URL     string `json:"url"`
}

type formSummary struct {
	Form     string        `json:"form"`
	Versions []formVersion `json:"versions"`
}

func (h *handlers) listForms(c echo.Context) error {
	out := []formSummary{}
	for _, id := range h.forms.Forms() {
		fs := formSummary{Form: id}
		for _, d := range h.forms.Versions(id) {
			fv := formVersion{Version: d.Version, Title: d.Title, Hash: d.Hash,
				URL: "/api/v1/forms/" + d.Form + "/versions/" + d.Version}
			if d.InUse != nil {
				fv.InUse = d.InUse
			}
			fs.Versions = append(fs.Versions, fv)
		}
		out = append(out, fs)
	}
	return c.JSON(http.StatusOK, map[string]any{"forms": out})
}

// getForm serves a definition exactly as published. Its hash is its ETag: a
// published version never changes, so clients may keep it.
func (h *handlers) getForm(c echo.Context) error {
	d, ok := h.forms.Get(c.Param("form"), c.Param("version"))
	if !ok {
		return invalid(http.StatusNotFound, "no such form version")
	}
	etag := `"` + d.Hash + `"`
	c.Response().Header().Set("ETag", etag)
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.JSONBlob(http.StatusOK, d.Canonical())
}

package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/form"
)

type formVersion struct {
	Version string `json:"version"`
	Title   string `json:"title"`
	InUse   any    `json:"in_use,omitempty"`
	Hash    string `json:"hash"`
	URL     string `json:"url"`
	// Languages are the languages the version can be read in.
	Languages []form.Language `json:"languages"`
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
				URL: "/api/v1/forms/" + d.Form + "/versions/" + d.Version, Languages: d.Languages()}
			if d.InUse != nil {
				fv.InUse = d.InUse
			}
			fs.Versions = append(fs.Versions, fv)
		}
		out = append(out, fs)
	}
	return c.JSON(http.StatusOK, map[string]any{"forms": out})
}

// getForm serves a definition as published, in its own language or, with
// ?lang=, in another it has: the same definition, codes and all, with its
// wordings translated and the language and direction beside them. Its ETag
// is a hash of exactly what is sent: a published version never changes, so
// clients may keep it.
func (h *handlers) getForm(c echo.Context) error {
	d, ok := h.forms.Get(c.Param("form"), c.Param("version"))
	if !ok {
		return invalid(http.StatusNotFound, "no such form version")
	}
	l, err := d.Localized(c.QueryParam("lang"))
	switch {
	case errors.Is(err, form.ErrBadLanguage):
		return invalid(http.StatusBadRequest, "lang is not a language tag", form.FieldError{
			Path: "lang", Reason: "must be a BCP 47 language tag, one of " + strings.Join(d.LanguageCodes(), ", ")})
	case errors.Is(err, form.ErrNoLanguage):
		return invalid(http.StatusNotFound, fmt.Sprintf("%s version %s has no wording in %q; its languages: %s",
			d.Form, d.Version, c.QueryParam("lang"), strings.Join(d.LanguageCodes(), ", ")), form.FieldError{
			Path: "lang", Reason: "must be one of " + strings.Join(d.LanguageCodes(), ", ")})
	case err != nil:
		return err
	}
	etag := `"` + l.ETag + `"`
	c.Response().Header().Set("ETag", etag)
	c.Response().Header().Set("Content-Language", l.Language.Code)
	// A version's wording in a language can be corrected (a reviewed
	// translation) without a new version: caches ask again each time, and
	// the ETag makes that cheap.
	c.Response().Header().Set("Cache-Control", "public, no-cache")
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.JSONBlob(http.StatusOK, l.JSON)
}

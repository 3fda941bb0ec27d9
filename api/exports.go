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

// exportFile streams one export file, or a site's whole data return as a
// zip. Files are pseudonymised: no names, no free text. Every export of
// data is recorded in the audit trail before it is sent; syntax files
// (.sps, .do, .R), which hold none, are not.
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
	parts := h.eval.Export(c.Request().Context(), q.query())
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
		send("text/markdown; charset=utf-8", name)
		return h.streamErr(c, export.Codebook(res, parts...))
	}
	stem, ext, _ := strings.Cut(name, ".")
	for _, p := range parts {
		if stem != p.Name() {
			continue
		}
		if p.Network != nil {
			if ext != "graphml" {
				break
			}
			if err := audit(); err != nil {
				return err
			}
			send("application/graphml+xml", name)
			g, err := export.NewGraphWriter(res, p.Network)
			if err != nil {
				return h.streamErr(c, err)
			}
			if err := p.Graphs(g); err != nil {
				return h.streamErr(c, err)
			}
			return h.streamErr(c, g.Close())
		}
		if ext == "csv" {
			if err := audit(); err != nil {
				return err
			}
			send("text/csv; charset=utf-8", name)
			w, err := export.NewWriter(res, p.Layout)
			if err != nil {
				return h.streamErr(c, err)
			}
			if err := p.Rows(w); err != nil {
				return h.streamErr(c, err)
			}
			return h.streamErr(c, w.Flush())
		}
		// Syntax files hold no data: they are not audited.
		for _, s := range export.Syntaxes() {
			if "."+ext == s.Ext {
				send("text/plain; charset=utf-8", name)
				return h.streamErr(c, s.Write(res, p.Layout, stem+".csv"))
			}
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

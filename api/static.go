package api

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

// pages serves the phone pages (nil when there are none). Every file is
// revalidated on each load (no-cache) against an ETag of its content, so a
// new release reaches phones at once while an unchanged file costs a 304;
// the service worker keeps them for offline use.
func pages(fsys fs.FS) echo.HandlerFunc {
	if fsys == nil {
		return nil
	}
	etags := map[string]string{}
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		etags["/"+p] = `"` + hex.EncodeToString(sum[:8]) + `"`
		return nil
	})
	files := http.FileServerFS(fsys)
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		if strings.HasPrefix(p, "/api/") {
			return echo.ErrNotFound
		}
		name := p
		if strings.HasSuffix(name, "/") {
			name += "index.html"
		}
		req := c.Request()
		// A page of its own is reached without ".html" (/setup is setup.html).
		if _, ok := etags[name]; !ok && path.Ext(name) == "" {
			if _, ok := etags[name+".html"]; ok {
				name += ".html"
				req = req.Clone(req.Context())
				req.URL.Path = name
			}
		}
		etag, ok := etags[name]
		if !ok {
			return echo.ErrNotFound
		}
		h := c.Response().Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		if c.Request().Header.Get("If-None-Match") == etag {
			return c.NoContent(http.StatusNotModified)
		}
		files.ServeHTTP(c.Response(), req)
		return nil
	}
}

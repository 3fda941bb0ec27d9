package api

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// registerStatic serves the phone pages. Pages are revalidated on every load
// so a new release reaches phones at once.
func registerStatic(e *echo.Echo, fsys fs.FS) {
	if fsys == nil {
		return
	}
	files := http.FileServerFS(fsys)
	e.GET("/*", func(c echo.Context) error {
		p := c.Request().URL.Path
		if strings.HasPrefix(p, "/api/") {
			return echo.ErrNotFound
		}
		c.Response().Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	})
}

package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDocument describes every route of the route table; a test holds the
// two to each other.
//
//go:embed openapi.yaml
var openAPIDocument string

// openapi serves the OpenAPI 3 document of this API.
func (h *handlers) openapi(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "application/yaml", []byte(openAPIDocument))
}

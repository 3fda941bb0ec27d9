package api

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/form"
)

// Identifiers in paths have one spelling each. Every path parameter is put
// into that spelling once, before the guard looks anything up, so that the
// guard and the handler can only ever mean the same record: a variant
// (capitals, braces, "urn:uuid:", no hyphens) is either turned into the
// canonical id or refused, never looked up as it came.

// codePattern is the shape of identifiers chosen outside this system (child
// IDs); siteCodePattern that of site codes. The validator's "code" and
// "site" tags use the same patterns.
var (
	codePattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	siteCodePattern = regexp.MustCompile(`^[A-Z][A-Z0-9]{0,7}$`)
)

// canonicalUUID spells a UUID in lower case with hyphens. It accepts the
// spellings uuid.Parse does (any case, braces, "urn:uuid:", no hyphens) and
// nothing around them; version4 asks for a version 4 UUID.
func canonicalUUID(raw string, version4 bool) (string, bool) {
	id, err := uuid.Parse(raw)
	if err != nil || (version4 && id.Version() != 4) {
		return "", false
	}
	return id.String(), true
}

var errBadResponseID = invalid(http.StatusBadRequest, "the response id in the URL is not valid",
	form.FieldError{Path: "id", Reason: "must be a version 4 UUID like 3b241101-e2bb-4255-8caf-4136c566a962"})

// canonicalParams rewrites the path parameters of route r in place, or
// refuses the request. An identifier of a shape no record can have is "not
// found" (a response id keeps its own 400: its shape is the client's to
// get right when it makes one).
func canonicalParams(c echo.Context, r route) error {
	names, values := c.ParamNames(), c.ParamValues()
	for i, name := range names {
		if i >= len(values) {
			break
		}
		v, ok := values[i], true
		switch {
		case name == "id" && strings.HasPrefix(r.path, "/api/v1/responses/"):
			if v, ok = canonicalUUID(v, true); !ok {
				return errBadResponseID
			}
		case name == "id" && strings.HasPrefix(r.path, "/api/v1/users/"):
			v, ok = canonicalUUID(v, false)
		case name == "id" && strings.HasPrefix(r.path, "/api/v1/children/"):
			ok = codePattern.MatchString(v)
		case name == "code":
			ok = siteCodePattern.MatchString(v)
		}
		if !ok {
			return errNotFound
		}
		values[i] = v
	}
	c.SetParamValues(values...)
	return nil
}

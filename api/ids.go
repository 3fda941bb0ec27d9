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

// spelling puts one path parameter into its one spelling, or refuses it.
type spelling func(v string) (string, error)

// spellingsOf decides, once for a route, how each of its path parameters
// is spelt. An identifier of a shape no record can have is "not found" (a
// response id keeps its own 400: its shape is the client's to get right
// when it makes one).
func spellingsOf(r route) map[string]spelling {
	matching := func(re *regexp.Regexp) spelling {
		return func(v string) (string, error) {
			if !re.MatchString(v) {
				return "", errNotFound
			}
			return v, nil
		}
	}
	out := map[string]spelling{}
	switch {
	case strings.HasPrefix(r.path, "/api/v1/responses/:id"):
		out["id"] = func(v string) (string, error) {
			if id, ok := canonicalUUID(v, true); ok {
				return id, nil
			}
			return "", errBadResponseID
		}
	case strings.HasPrefix(r.path, "/api/v1/users/:id"):
		out["id"] = func(v string) (string, error) {
			if id, ok := canonicalUUID(v, false); ok {
				return id, nil
			}
			return "", errNotFound
		}
	case strings.HasPrefix(r.path, "/api/v1/children/:id"):
		out["id"] = matching(codePattern)
	case strings.HasPrefix(r.path, "/api/v1/webhooks/:id"):
		out["id"] = func(v string) (string, error) {
			if id, ok := canonicalUUID(v, false); ok {
				return id, nil
			}
			return "", errNotFound
		}
	}
	if strings.Contains(r.path, ":delivery") {
		out["delivery"] = func(v string) (string, error) {
			if v = strings.ToLower(v); deliveryIDPattern.MatchString(v) {
				return v, nil
			}
			return "", errNotFound
		}
	}
	if strings.Contains(r.path, ":code") {
		out["code"] = matching(siteCodePattern)
	}
	return out
}

// canonicalParams puts the request's path parameters into their one
// spelling, or refuses the request.
func canonicalParams(c echo.Context, spell map[string]spelling) error {
	values := c.ParamValues()
	for i, name := range c.ParamNames() {
		if f := spell[name]; f != nil {
			v, err := f(values[i])
			if err != nil {
				return err
			}
			values[i] = v
		}
	}
	c.SetParamValues(values...)
	return nil
}

package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"regexp"
	"strings"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/accounts"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/submission"
	"github.com/lifelong-links/sct/internal/webhook"
)

// Problem is the error envelope every failed request gets.
type Problem struct {
	Status int               `json:"-"`
	Error  string            `json:"error"`
	Fields []form.FieldError `json:"fields,omitempty"`
}

func (p *Problem) asError() error { return problemError{p} }

type problemError struct{ p *Problem }

func (e problemError) Error() string { return fmt.Sprintf("%d %s", e.p.Status, e.p.Error) }

func invalid(status int, msg string, fields ...form.FieldError) error {
	return (&Problem{Status: status, Error: msg, Fields: fields}).asError()
}

// errorHandler turns any error a handler returns into the envelope. Known
// errors keep their meaning; anything else is a plain 500 whose cause is
// logged beside the request id and never sent to the client.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := problemFor(err)
		if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
			// The caller left before the answer: nobody to answer, nothing failed.
			log.Info("request abandoned by the caller", "request_id", requestID(c), "method", c.Request().Method, "path", c.Path())
			c.Response().WriteHeader(statusCallerLeft)
			return
		}
		if p.Status >= 500 {
			log.Error("request failed", "request_id", requestID(c), "method", c.Request().Method,
				"path", c.Path(), "status", p.Status, "err", err)
		}
		if p.Status == http.StatusServiceUnavailable {
			c.Response().Header().Set("Retry-After", "5")
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(p.Status)
			return
		}
		_ = c.JSON(p.Status, p)
	}
}

// statusCallerLeft is recorded (in metrics and logs) for a request whose
// caller left before it was answered, as nginx does.
const statusCallerLeft = 499

func problemFor(err error) *Problem {
	var pe problemError
	var inv *submission.InvalidError
	var req *form.RequestError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &pe):
		return pe.p
	case errors.As(err, &inv):
		return &Problem{Status: http.StatusUnprocessableEntity, Error: "the response does not fit its form", Fields: inv.Faults}
	case errors.As(err, &req):
		msg := req.Message
		if msg == "" {
			msg = "the request has invalid fields"
		}
		return &Problem{Status: http.StatusUnprocessableEntity, Error: msg, Fields: req.Faults}
	case errors.Is(err, store.ErrSlotTaken):
		return &Problem{Status: http.StatusConflict, Error: "another submitted response already exists for this child, form, timepoint and wave; revise that response instead"}
	case errors.Is(err, submission.ErrImmutable):
		return &Problem{Status: http.StatusConflict, Error: submission.ErrImmutable.Error()}
	case errors.Is(err, submission.ErrUnsubmit):
		return &Problem{Status: http.StatusConflict, Error: submission.ErrUnsubmit.Error()}
	case errors.Is(err, webhook.ErrErased):
		return &Problem{Status: http.StatusConflict, Error: webhook.ErrErased.Error()}
	case errors.Is(err, store.ErrConflict):
		return &Problem{Status: http.StatusConflict, Error: "conflict: the record exists already or changed meanwhile"}
	case errors.Is(err, store.ErrNotFound):
		return &Problem{Status: http.StatusNotFound, Error: "not found"}
	case errors.Is(err, accounts.ErrBusy):
		return &Problem{Status: http.StatusServiceUnavailable, Error: accounts.ErrBusy.Error()}
	case errors.Is(err, store.ErrUnavailable):
		return &Problem{Status: http.StatusServiceUnavailable, Error: "the store is unavailable; try again shortly"}
	case errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge:
		return &Problem{Status: he.Code, Error: "the body is too large (at most 1 MiB)"}
	case errors.As(err, &he):
		return &Problem{Status: he.Code, Error: strings.ToLower(http.StatusText(he.Code))}
	}
	return &Problem{Status: http.StatusInternalServerError, Error: "internal error"}
}

// decodeJSON reads a JSON body into v, refusing unknown fields, trailing
// data and bodies over the limit, then runs the struct's validate tags.
func decodeJSON(c echo.Context, v any) error {
	body := c.Request().Body
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeProblem(overLimit(body, err))
	}
	switch _, err := dec.Token(); {
	case errors.Is(err, io.EOF):
	case tooLarge(err):
		// The object ended within the limit and the rest went past it.
		return decodeProblem(err)
	default:
		if err := overLimit(body, nil); err != nil {
			return decodeProblem(err)
		}
		return invalid(http.StatusBadRequest, "the body has data after the JSON object")
	}
	return c.Validate(v)
}

// overLimit is the body limit's error if the rest of the body goes past
// the limit, else err: a body over the limit is refused as such (413)
// whatever is wrong within it. Without a Content-Length the limit is found
// only by reading on, at most to the limit.
func overLimit(body io.Reader, err error) error {
	if tooLarge(err) {
		return err
	}
	if _, rest := io.Copy(io.Discard, body); tooLarge(rest) {
		return rest
	}
	return err
}

// tooLarge reports whether err is the body limit's.
func tooLarge(err error) bool {
	var tooBig *http.MaxBytesError
	var he *echo.HTTPError
	return errors.As(err, &tooBig) || (errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge)
}

func decodeProblem(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case tooLarge(err):
		return invalid(http.StatusRequestEntityTooLarge, "the body is too large (at most 1 MiB)")
	case errors.As(err, &syntax):
		return invalid(http.StatusBadRequest, fmt.Sprintf("the body is not valid JSON (at byte %d)", syntax.Offset))
	case errors.As(err, &typ):
		path := typ.Field
		if path == "" {
			path = "(body)"
		}
		return invalid(http.StatusBadRequest, "a field has the wrong type",
			form.FieldError{Path: path, Reason: "must be " + jsonKind(typ.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if name == "" {
			name = `""` // a field with an empty name
		}
		return invalid(http.StatusBadRequest, "the body has a field this endpoint does not take",
			form.FieldError{Path: name, Reason: "is not a known field"})
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return invalid(http.StatusBadRequest, "the body is empty or cut short")
	}
	return invalid(http.StatusBadRequest, "the body could not be read as JSON")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "text"
	case "int", "int64", "int32", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "struct", "map":
		return "an object"
	case "slice":
		return "a list"
	}
	return "another type"
}

// structValidator is validator/v10 as Echo's Validator, reporting faults by
// their JSON names.
type structValidator struct{ v *validator.Validate }

func newValidator() *structValidator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	// Identifiers chosen outside this system (child IDs, site codes) are
	// kept to characters that are safe in URLs, file names and exports.
	_ = v.RegisterValidation("code", matching(codePattern))
	_ = v.RegisterValidation("site", matching(siteCodePattern))
	return &structValidator{v: v}
}

func (sv *structValidator) Validate(i any) error {
	err := sv.v.Struct(i)
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return err
	}
	fields := make([]form.FieldError, len(verrs))
	for i, fe := range verrs {
		path := fe.Namespace()
		if _, rest, ok := strings.Cut(path, "."); ok {
			path = rest // drop the struct's own name
		}
		fields[i] = form.FieldError{Path: path, Reason: reasonFor(fe)}
	}
	return invalid(http.StatusUnprocessableEntity, "the request has invalid fields", fields...)
}

func reasonFor(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "oneof":
		return "must be one of " + strings.ReplaceAll(fe.Param(), " ", ", ")
	case "datetime":
		return "must be a date YYYY-MM-DD"
	case "max":
		if fe.Kind().String() == "string" {
			return "must be at most " + fe.Param() + " characters"
		}
		return "must be at most " + fe.Param()
	case "min":
		return "must be at least " + fe.Param()
	case "code":
		return "must be letters, digits, dots, dashes or underscores, starting with a letter or digit"
	case "uuid4":
		return "must be a version 4 UUID"
	case "site":
		return "must be a site code: capital letters and digits, starting with a letter"
	case "ltefield":
		return "must not be after " + fe.Param()
	}
	return "is not valid (" + fe.Tag() + ")"
}

func matching(re *regexp.Regexp) validator.Func {
	return func(fl validator.FieldLevel) bool { return re.MatchString(fl.Field().String()) }
}

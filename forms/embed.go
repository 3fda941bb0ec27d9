// Package forms holds the published form definitions as data: one JSON file per
// form version, at <form>/<version>.json. A published file never changes; a new
// version is a new file.
package forms

import (
	"embed"
	"io/fs"
)

//go:embed sct/*.json practice-summary/*.json
var files embed.FS

// FS returns the embedded definitions.
func FS() fs.FS { return files }

// Package static holds the phone pages, embedded in the server binary so that
// it runs with no separate front-end build.
package static

import (
	"embed"
	"io/fs"
)

//go:embed index.html setup.html app.css sw.js js i18n
var files embed.FS

// FS returns the pages.
func FS() fs.FS { return files }

package static

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// The service worker keeps every page file on the device at install, so
// that whatever a page imports later (the map module at the end of an SCT,
// say) is there with no signal.
func TestServiceWorker_KeepsEveryPageFile(t *testing.T) {
	sw, err := fs.ReadFile(FS(), "sw.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)const PAGES = \[(.*?)\];`).FindSubmatch(sw)
	if m == nil {
		t.Fatal("sw.js has no PAGES list")
	}
	kept := map[string]bool{}
	for _, q := range regexp.MustCompile(`'([^']+)'`).FindAllSubmatch(m[1], -1) {
		kept[string(q[1])] = true
	}
	err = fs.WalkDir(FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == "sw.js" || strings.HasSuffix(path, "_test.go") {
			return err
		}
		url := "/" + path
		if path == "index.html" {
			url = "/"
		}
		if (strings.HasSuffix(path, ".js") || strings.HasSuffix(path, ".css") || path == "index.html") && !kept[url] {
			t.Errorf("%s is not in sw.js's PAGES: it would be missing with no signal", url)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for url := range kept {
		path := strings.TrimPrefix(url, "/")
		if url == "/" {
			path = "index.html"
		}
		if _, err := fs.Stat(FS(), path); err != nil {
			t.Errorf("sw.js keeps %s, which does not exist", url)
		}
	}
}

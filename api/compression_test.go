package api

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// A large answer is compressed for a client that accepts it; a small one,
// such as a child's record, goes as it is; the pages' files are compressed
// from 1 KiB.
func TestCompression_LargeAnswersOnly(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name     string
		caller   string
		path     string
		wantGzip bool
	}{
		{name: "form definition", path: "/api/v1/forms/sct/versions/1", wantGzip: true},
		{name: "a child", caller: "coordinator A", path: "/api/v1/children/CA1"},
		{name: "a script of the pages between 1 and 4 KiB", path: "/sw.js", wantGzip: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, f.srv.URL+tt.path, nil)
			req.Header.Set("Accept-Encoding", "gzip") // set by hand: the client leaves the body as sent
			if tt.caller != "" {
				req.Header.Set("Authorization", "Bearer "+f.tokens[tt.caller])
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body := io.Reader(res.Body)
			gzipped := res.Header.Get("Content-Encoding") == "gzip"
			if gzipped {
				if body, err = gzip.NewReader(res.Body); err != nil {
					t.Fatal(err)
				}
			}
			b, err := io.ReadAll(body)
			if res.StatusCode != http.StatusOK || err != nil {
				t.Fatalf("status %d (%v)", res.StatusCode, err)
			}
			var v map[string]any
			if strings.HasPrefix(tt.path, "/api/") && json.Unmarshal(b, &v) != nil {
				t.Fatalf("the body is not JSON: %.80s", b)
			}
			if strings.HasSuffix(tt.path, ".js") && (len(b) < 1024 || len(b) >= 4096) {
				t.Fatalf("%s is %d bytes: pick a file between 1 and 4 KiB", tt.path, len(b))
			}
			if gzipped != tt.wantGzip {
				t.Errorf("compressed: %v, want %v", gzipped, tt.wantGzip)
			}
		})
	}
}

package api

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// A large answer is compressed for a client that accepts it; a small one,
// such as a child's record, goes as it is.
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
			var v map[string]any
			if res.StatusCode != http.StatusOK || json.NewDecoder(body).Decode(&v) != nil {
				t.Fatalf("status %d, or the body is not JSON", res.StatusCode)
			}
			if gzipped != tt.wantGzip {
				t.Errorf("compressed: %v, want %v", gzipped, tt.wantGzip)
			}
		})
	}
}

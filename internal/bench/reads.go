package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Read is one request a user makes that reads: who makes it and where.
type Read struct {
	Name string // what it is, for the table
	As   string // "coordinator" (of site FA), "evaluator" or "admin"
	Path string
	// Next, if set, reads the cursor of the next page from an answer and
	// makes the path of that page; the pages are read in turn.
	Next func(body []byte, path string) (string, bool)
}

// ReadResult is one read's timings.
type ReadResult struct {
	Name     string        `json:"name"`
	Requests int           `json:"requests"`
	P50      time.Duration `json:"p50"`
	P95      time.Duration `json:"p95"`
	Max      time.Duration `json:"max"`
	Bytes    int           `json:"bytes"` // of the last answer
}

func (r ReadResult) String() string {
	return fmt.Sprintf("%-48s p50 %8s  p95 %8s  max %8s  %7d bytes", r.Name, r.P50.Round(10*time.Microsecond),
		r.P95.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond), r.Bytes)
}

// Reads times each read, one request at a time (after an untimed round of
// every read), requests times each; a paged read follows its pages, each
// page a request.
func Reads(ctx context.Context, base string, tokens map[string]string, reads []Read, requests int) ([]ReadResult, error) {
	client := &http.Client{Timeout: 60 * time.Second}
	defer client.CloseIdleConnections()
	get := func(as, path string) ([]byte, time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return nil, 0, err
		}
		req.Header.Set("Authorization", "Bearer "+tokens[as])
		t0 := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return nil, 0, err
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		took := time.Since(t0)
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s as %s: %d %s", path, as, res.StatusCode, b)
		}
		return b, took, err
	}
	// Every read once, untimed, first: the server builds what it holds in
	// memory in the background after it starts, and a read that needs it
	// waits for it. The start is timed on its own; these times are of a
	// server that has started.
	for _, rd := range reads {
		if _, _, err := get(rd.As, rd.Path); err != nil {
			return nil, err
		}
	}
	var out []ReadResult
	for _, rd := range reads {
		var times []time.Duration
		var last []byte
		path := rd.Path
		for len(times) < requests {
			b, took, err := get(rd.As, path)
			if err != nil {
				return nil, err
			}
			times, last = append(times, took), b
			if rd.Next != nil {
				if next, ok := rd.Next(b, path); ok {
					path = next
					continue
				}
			}
			path = rd.Path
		}
		slices.Sort(times)
		out = append(out, ReadResult{Name: rd.Name, Requests: len(times), P50: times[len(times)/2],
			P95: times[(len(times)*95+99)/100-1], Max: times[len(times)-1], Bytes: len(last)})
	}
	return out, nil
}

// Table lays results of several store sizes side by side: one line per
// read, one column per size, each the p95 and its ratio to the first
// size's.
func Table(sizes []int, results [][]ReadResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| read |")
	for _, n := range sizes {
		fmt.Fprintf(&b, " %d SCTs |", n)
	}
	b.WriteString("\n| --- |")
	for range sizes {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for i := range results[0] {
		fmt.Fprintf(&b, "| %s |", results[0][i].Name)
		for j := range sizes {
			r := results[j][i]
			ratio := float64(r.P95) / float64(results[0][i].P95)
			fmt.Fprintf(&b, " p50 %s, p95 %s (%.2f×) |", ms(r.P50), ms(r.P95), ratio)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// UserReads are the reads users make that must cost the same whatever the
// data: a site's lists (site FA, a twelfth of a fill), the evaluators'
// tables with each filter of the paired comparison, and the audit trail.
func UserReads() []Read {
	return []Read{
		{Name: "children of a site", As: "coordinator", Path: "/api/v1/children?site=FA"},
		{Name: "follow-ups of a site", As: "coordinator", Path: "/api/v1/followups?site=FA"},
		{Name: "returns", As: "evaluator", Path: "/api/v1/summaries/returns"},
		{Name: "practice tables", As: "evaluator", Path: "/api/v1/summaries/practice"},
		{Name: "participation (Table 7)", As: "evaluator", Path: "/api/v1/summaries/participation"},
		{Name: "Tables 3 and 4", As: "evaluator", Path: "/api/v1/summaries/sct?timepoint=baseline"},
		{Name: "paired", As: "evaluator", Path: "/api/v1/summaries/sct/paired"},
		{Name: "paired, a site", As: "evaluator", Path: "/api/v1/summaries/sct/paired?site=FA"},
		{Name: "paired, a group", As: "evaluator", Path: "/api/v1/summaries/sct/paired?group=comparison"},
		{Name: "paired, a version", As: "evaluator", Path: "/api/v1/summaries/sct/paired?version=1"},
		{Name: "paired, wave 2", As: "evaluator", Path: "/api/v1/summaries/sct/paired?wave=2"},
		{Name: "paired, dates", As: "evaluator", Path: "/api/v1/summaries/sct/paired?from=2018-01-01&to=2019-12-31"},
		{Name: "audit, pages of 50", As: "admin", Path: "/api/v1/audit?limit=50", Next: nextPage("before")},
	}
}

// nextPage follows an answer's next as the named parameter of the next
// page, for up to 20 pages, then starts again from the first.
func nextPage(param string) func(body []byte, path string) (string, bool) {
	pages := 0
	return func(body []byte, path string) (string, bool) {
		var page struct{ Next string }
		if pages++; json.Unmarshal(body, &page) != nil || page.Next == "" || pages >= 20 {
			pages = 0
			return "", false
		}
		base, _, _ := strings.Cut(path, "&"+param+"=")
		return base + "&" + param + "=" + url.QueryEscape(page.Next), true
	}
}

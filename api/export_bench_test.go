package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/lifelong-links/sct/internal/bench"
	"github.com/lifelong-links/sct/internal/catalog"
	"github.com/lifelong-links/sct/internal/store"
)

// BenchmarkExportSCT streams sct_wide.csv and sct_long.csv over the HTTP
// API with 10,000 and 100,000 realistic SCTs (answers included) in the
// embedded store, and reports the peak resident memory of the process during
// each export (the kernel's high-water mark, reset just before) beside what
// was resident before it: the export must add the same whatever the number
// of rows.
//
//	go test -run '^$' -bench ExportSCT -benchtime 1x ./api
func BenchmarkExportSCT(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			ctx := context.Background()
			st := benchStore(b)
			sct, _ := catalog.Lookup(catalog.SCT)
			r := rand.New(rand.NewPCG(9, uint64(n)))
			for start := 0; start < n; start += 5000 {
				var rs []store.Response
				for i := start; i < min(n, start+5000); i++ {
					var body struct {
						Answers map[string]any `json:"answers"`
					}
					raw := bench.Body(r, "x", "baseline", 1, "2019-06-14")
					_ = json.Unmarshal(raw, &body)
					var in json.RawMessage
					if a, err := json.Marshal(body.Answers); err == nil {
						_, in, _ = sct.Derived("1", a)
					}
					rs = append(rs, store.Response{ID: fmt.Sprintf("r%07d", i), Form: "sct", Version: "1", ChildID: fmt.Sprintf("C%07d", i),
						Site: "A", Group: "comparison", Timepoint: "baseline", Wave: 1, CompletedOn: "2019-06-14", Mode: "paper",
						Status: store.StatusSubmitted, Revision: 1, BodyHash: "h", Derived: in, Answers: body.Answers})
				}
				if _, err := st.ImportResponses(ctx, rs); err != nil {
					b.Fatal(err)
				}
			}
			srv, tok, _ := benchAPI(b, st)
			for _, layout := range []string{"wide", "long"} {
				b.Run(layout, func(b *testing.B) {
					runtime.GC()
					resetPeakRSS()
					before := residentMiB("VmRSS:")
					b.ResetTimer()
					var rows int
					for i := 0; i < b.N; i++ {
						req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/exports/sct_"+layout+".csv", nil)
						req.Header.Set("Authorization", "Bearer "+tok)
						res, err := http.DefaultClient.Do(req)
						if err != nil || res.StatusCode != http.StatusOK {
							b.Fatalf("export: %v %v", res, err)
						}
						rows = 0
						sc := bufio.NewScanner(res.Body)
						sc.Buffer(make([]byte, 1<<20), 1<<20)
						for sc.Scan() {
							rows++
						}
						res.Body.Close()
					}
					b.StopTimer()
					// Wide: a row per SCT. Long: a row per person named.
					if (layout == "wide" && rows != n+1) || rows < n+1 {
						b.Fatalf("%s: %d lines for %d SCTs", layout, rows, n)
					}
					b.ReportMetric(float64(rows-1), "rows")
					b.ReportMetric(before, "RSS-before-MiB")
					b.ReportMetric(residentMiB("VmHWM:"), "peak-RSS-MiB")
				})
			}
		})
	}
}

// resetPeakRSS resets the kernel's record of this process's peak resident
// memory (Linux: writing 5 to clear_refs).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// residentMiB reads a memory figure of this process from /proc: VmRSS
// (resident now) or VmHWM (peak since the last reset).
func residentMiB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field) {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return float64(kb) / 1024
		}
	}
	return -1
}

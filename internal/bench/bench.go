// Package bench puts a server under a realistic, bounded load of SCT
// submissions from many concurrent clients and measures the rate and the
// latency; beside it, the rate of plain inserts of the same bodies into the
// same store, so that the server's overhead is read as a ratio measured in
// the same run. It sends traffic to the address it is given only, which the
// sct bench command keeps on loopback.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config says what load to send.
type Config struct {
	Base     string        // server address, e.g. http://127.0.0.1:8080
	Token    string        // a coordinator's bearer token for Site
	Site     string        // the site the children are registered in
	Clients  int           // concurrent clients
	Duration time.Duration // how long to send
	Seed     uint64
}

// Result is what a run measured.
type Result struct {
	Operations int            `json:"operations"`
	Errors     int            `json:"errors"`
	Elapsed    time.Duration  `json:"elapsed"`
	Rate       float64        `json:"rate_per_second"`
	P50        time.Duration  `json:"p50"`
	P95        time.Duration  `json:"p95"`
	P99        time.Duration  `json:"p99"`
	Statuses   map[string]int `json:"statuses,omitempty"`
}

func (r Result) String() string {
	s := fmt.Sprintf("%d in %.1fs: %.0f/s, p50 %s, p95 %s, p99 %s, %d errors",
		r.Operations, r.Elapsed.Seconds(), r.Rate, r.P50.Round(100*time.Microsecond), r.P95.Round(100*time.Microsecond),
		r.P99.Round(100*time.Microsecond), r.Errors)
	if r.Errors > 0 {
		var outcomes []string
		for status, n := range r.Statuses {
			outcomes = append(outcomes, fmt.Sprintf("%s ×%d", status, n))
		}
		slices.Sort(outcomes)
		s += " (" + strings.Join(outcomes, "; ") + ")"
	}
	return s
}

// recorder collects latencies from many goroutines.
type recorder struct {
	mu       sync.Mutex
	lat      []time.Duration
	errors   int
	statuses map[string]int
}

func (r *recorder) add(d time.Duration, status string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.statuses == nil {
		r.statuses = map[string]int{}
	}
	r.statuses[status]++
	if !ok {
		r.errors++
		return
	}
	r.lat = append(r.lat, d)
}

func (r *recorder) result(elapsed time.Duration) Result {
	slices.Sort(r.lat)
	q := func(p float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		return r.lat[min(len(r.lat)-1, int(math.Ceil(p*float64(len(r.lat))))-1)]
	}
	return Result{Operations: len(r.lat), Errors: r.errors, Elapsed: elapsed, Rate: float64(len(r.lat)) / elapsed.Seconds(),
		P50: q(0.50), P95: q(0.95), P99: q(0.99), Statuses: r.statuses}
}

// run starts the clients, each with its own random source, and collects
// what they record until the time is up.
func run(ctx context.Context, cfg Config, seed uint64, client func(ctx context.Context, r *rand.Rand, c int, rec *recorder)) Result {
	var rec recorder
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client(ctx, rand.New(rand.NewPCG(seed, uint64(c))), c, &rec)
		}()
	}
	wg.Wait()
	return rec.result(time.Since(start))
}

// Submit runs the clients for the duration. Each client registers a child,
// then submits that child's baseline and follow-ups (waves 1 to 98) until
// the time is up, then takes a new child.
func Submit(ctx context.Context, cfg Config) (Result, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Clients, MaxConnsPerHost: cfg.Clients}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	return run(ctx, cfg, cfg.Seed, func(ctx context.Context, r *rand.Rand, c int, rec *recorder) {
		for n := 0; ctx.Err() == nil; n++ {
			child := fmt.Sprintf("L%d-%d-%d", cfg.Seed, c, n)
			body := fmt.Sprintf(`{"id":%q,"site":%q,"group":%q}`, child, cfg.Site, []string{"lifelong_links", "comparison"}[r.IntN(2)])
			if status, err := send(ctx, client, cfg, http.MethodPost, "/api/v1/children", []byte(body)); err != nil || status != http.StatusCreated {
				if ctx.Err() == nil {
					rec.add(0, fmt.Sprint("child ", status), false)
				}
				continue
			}
			day := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(300))
			for wave := 0; wave <= 98 && ctx.Err() == nil; wave++ {
				tp, w := "baseline", 1
				if wave > 0 {
					tp, w = "follow_up", wave
				}
				b := Body(r, child, tp, w, day.AddDate(0, 0, 7*wave).Format(time.DateOnly))
				t0 := time.Now()
				status, err := send(ctx, client, cfg, http.MethodPut, "/api/v1/responses/"+UUID4(r), b)
				if over(ctx) {
					return // cut off by the end of the run: not counted
				}
				rec.add(time.Since(t0), fmt.Sprint(status), err == nil && status == http.StatusCreated)
			}
		}
	}), nil
}

func send(ctx context.Context, client *http.Client, cfg Config, method, path string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, cfg.Base+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+cfg.Token)
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

// Raw inserts the same kind of bodies from as many goroutines for the
// duration: the store's own rate, without the server. doc turns a body into
// the document to insert (untimed); insert writes it (timed).
func Raw(ctx context.Context, cfg Config, doc func(id string, body []byte) any, insert func(context.Context, any) error) Result {
	return run(ctx, cfg, cfg.Seed+1, func(ctx context.Context, r *rand.Rand, c int, rec *recorder) {
		for n := 0; ctx.Err() == nil; n++ {
			d := doc(UUID4(r), Body(r, fmt.Sprintf("R%d-%d", c, n), "baseline", 1, "2019-06-14"))
			t0 := time.Now()
			err := insert(ctx, d)
			if over(ctx) {
				return // cut off by the end of the run: not counted
			}
			status := "inserted"
			if err != nil {
				status = err.Error()
			}
			rec.add(time.Since(t0), status, err == nil)
		}
	})
}

// over reports whether the run's time is up. A request cut off by the end
// of the run can fail on its connection's deadline a moment before the
// context itself says it is done.
func over(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ctx.Err() != nil || (ok && !time.Now().Before(deadline))
}

// UUID4 is a random (version 4) UUID drawn from r: the response ids a
// client makes, reproducible from a seed.
func UUID4(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

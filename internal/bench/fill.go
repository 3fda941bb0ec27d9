package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Sink is where Fill writes: the same services the API calls, in process.
type Sink interface {
	// Sites makes sure the sites exist.
	Sites(ctx context.Context, codes []string) error
	// Child registers a child; Response stores a response (a body as PUT
	// /api/v1/responses/{id} takes it); Participation keeps a child's
	// participation record (a body as PUT .../participation takes it).
	// Each writes the audit entry the server would.
	Child(ctx context.Context, id, site, group, startedOn string) error
	Response(ctx context.Context, id string, body []byte) error
	Participation(ctx context.Context, childID string, body []byte) error
	// ReadAudit writes the audit entry of a staff member reading a
	// response with names.
	ReadAudit(ctx context.Context, responseID, site, childID string) error
}

// FillSites are the sites a fill spreads its children over, as the
// evaluation's twelve local authorities.
var FillSites = []string{"FA", "FB", "FC", "FD", "FE", "FF", "FG", "FH", "FJ", "FK", "FL", "FM"}

// Filled counts what Fill wrote.
type Filled struct {
	Children, SCTs, FollowUps, PracticeSummaries, Participation, AuditReads int
	Elapsed                                                                 time.Duration
}

func (f Filled) String() string {
	return fmt.Sprintf("%d SCTs (%d of them follow-ups) for %d children, %d practice summaries, %d participation records, %d audit entries of reads, in %.1fs",
		f.SCTs, f.FollowUps, f.Children, f.PracticeSummaries, f.Participation, f.AuditReads, f.Elapsed.Seconds())
}

// Fill writes a realistic evaluation of sctCount SCTs from workers
// goroutines, then auditReads
// audit entries of reads. In the proportions of the evaluation report and
// of a service that makes follow-ups easy: three children in four in
// Lifelong Links, one in four in the comparison group; each a baseline
// between April 2017 and March 2020, a third a first follow-up five to
// seven months later and one in ten a second; three Lifelong Links cases
// in four a practice summary (the old format before April 2019, the new
// after) and every one a participation record. Child IDs start with
// prefix, so fills into one store do not collide.
func Fill(ctx context.Context, sink Sink, sctCount, auditReads, workers int, seed uint64, prefix string) (Filled, error) {
	start := time.Now()
	if err := sink.Sites(ctx, FillSites); err != nil {
		return Filled{}, err
	}
	var (
		scts, children, followUps, practice, participation atomic.Int64
		next                                               atomic.Int64
		mu                                                 sync.Mutex
		firstErr                                           error
		wg                                                 sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return firstErr != nil }
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			for ctx.Err() == nil && !failed() && scts.Load() < int64(sctCount) {
				n := next.Add(1)
				wrote, err := fillChild(ctx, sink, r, fmt.Sprintf("%s%07d", prefix, n), &scts, int64(sctCount), &followUps, &practice, &participation)
				if err != nil {
					fail(err)
					return
				}
				if wrote {
					children.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return Filled{}, firstErr
	}
	if err := ctx.Err(); err != nil {
		return Filled{}, err
	}
	var reads atomic.Int64
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed+1, uint64(w)))
			for ctx.Err() == nil && !failed() && reads.Add(1) <= int64(auditReads) {
				site := FillSites[r.IntN(len(FillSites))]
				child := fmt.Sprintf("%s%07d", prefix, 1+r.Int64N(max(1, children.Load())))
				if err := sink.ReadAudit(ctx, uuid4(r), site, child); err != nil {
					fail(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return Filled{}, firstErr
	}
	return Filled{Children: int(children.Load()), SCTs: int(scts.Load()), FollowUps: int(followUps.Load()),
		PracticeSummaries: int(practice.Load()), Participation: int(participation.Load()),
		AuditReads: min(auditReads, int(reads.Load())), Elapsed: time.Since(start)}, ctx.Err()
}

// fillChild registers one child and writes their SCTs, practice summary
// and participation record, in the order a service would see them. Their
// SCTs are counted against the total before any is written, so that the
// fill writes exactly the total; it reports false, writing nothing, when
// the total is reached.
func fillChild(ctx context.Context, sink Sink, r *rand.Rand, id string, scts *atomic.Int64, total int64, followUps, practice, participation *atomic.Int64) (bool, error) {
	site := FillSites[r.IntN(len(FillSites))]
	group := "lifelong_links"
	if r.IntN(4) == 0 {
		group = "comparison"
	}
	baseline := time.Date(2017, 4, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(3*365))
	days := []time.Time{baseline}
	if r.IntN(3) == 0 {
		first := baseline.AddDate(0, 0, 150+r.IntN(60))
		days = append(days, first)
		if r.IntN(10) < 3 { // of the third: one child in ten overall
			days = append(days, first.AddDate(0, 0, 150+r.IntN(60)))
		}
	}
	k := int64(len(days))
	if after := scts.Add(k); after > total {
		left := total - (after - k)
		scts.Add(-k)
		if left <= 0 {
			return false, nil
		}
		scts.Add(left)
		days = days[:left]
	}
	if err := sink.Child(ctx, id, site, group, baseline.Format(time.DateOnly)); err != nil {
		return false, fmt.Errorf("child %s: %w", id, err)
	}
	for wave, day := range days {
		tp, w := "baseline", 1
		if wave > 0 {
			tp, w = "follow_up", wave
			followUps.Add(1)
		}
		if err := sink.Response(ctx, uuid4(r), Body(r, id, tp, w, day.Format(time.DateOnly))); err != nil {
			return false, fmt.Errorf("SCT of %s: %w", id, err)
		}
	}
	if group != "lifelong_links" {
		return true, nil
	}
	if r.IntN(4) > 0 {
		ended := baseline.AddDate(0, 0, 30+r.IntN(300))
		if err := sink.Response(ctx, uuid4(r), practiceBody(r, id, baseline, ended)); err != nil {
			return false, fmt.Errorf("practice summary of %s: %w", id, err)
		}
		practice.Add(1)
	}
	if err := sink.Participation(ctx, id, participationBody(r, baseline)); err != nil {
		return false, fmt.Errorf("participation of %s: %w", id, err)
	}
	participation.Add(1)
	return true, nil
}

var (
	fillTools      = []string{"sct", "genogram", "online_search", "mobility_map", "deep_file_search", "ecomap", "ask_family"}
	fillOutcomes   = []string{"direct_contact", "increased_network", "indirect_contact", "increased_knowledge", "sense_of_identity", "long_term_commitment", "overnight_stays", "repaired_relationships"}
	fillObjectives = []string{"siblings", "mother", "father", "wider_family", "grandparents", "friends", "pets", "professionals", "former_foster_carers"}
)

func someOf(r *rand.Rand, codes []string, p float64) []string {
	out := []string{}
	for _, c := range codes {
		if r.Float64() < p {
			out = append(out, c)
		}
	}
	return out
}

// practiceBody is a submitted practice summary in the format in use on the
// day it ends (version 1 until March 2019, version 2 after).
func practiceBody(r *rand.Rand, child string, started, ended time.Time) []byte {
	version := "2"
	if ended.Before(time.Date(2019, 4, 1, 0, 0, 0, 0, time.UTC)) {
		version = "1"
	}
	identified := 1 + r.IntN(25)
	answers := map[string]any{
		"started_on": started.Format(time.DateOnly), "ended_on": ended.Format(time.DateOnly),
		"tools_used": someOf(r, fillTools, 0.5), "connections_identified": identified,
		"connections_retained": identified - r.IntN(2), "outcomes": someOf(r, fillOutcomes, 0.4),
	}
	if r.IntN(3) > 0 {
		answers["route"], answers["fgc_attendees"] = "fgc", 5+r.IntN(20)
	} else {
		answers["route"] = "plan_without_fgc"
	}
	if version == "2" {
		var objectives []map[string]any
		for range 1 + r.IntN(4) {
			objectives = append(objectives, map[string]any{"category": fillObjectives[r.IntN(len(fillObjectives))], "met": r.IntN(5) > 0})
		}
		answers["objectives"] = objectives
	}
	b, _ := json.Marshal(map[string]any{"form": "practice-summary", "version": version, "child_id": child,
		"completed_on": ended.Format(time.DateOnly), "mode": "online", "status": "submitted", "answers": answers})
	return b
}

// participationBody is a participation record: most participating, some
// ceased (most of them completed), a few paused.
func participationBody(r *rand.Rand, started time.Time) []byte {
	yes := true
	p := map[string]any{"eligible": yes, "participating": yes, "started_on": started.Format(time.DateOnly), "reason_not_participating": 0,
		"plan_completed": -1, "fgc_completed": -1, "review_fgc_completed": -1, "pauses": []any{}}
	if r.IntN(3) == 0 {
		p["ceased_on"] = started.AddDate(0, 0, 60+r.IntN(300)).Format(time.DateOnly)
		p["reason_ceased"] = []int{1, 1, 1, 2, 3, 4}[r.IntN(6)]
		p["plan_completed"], p["fgc_completed"] = r.IntN(2), r.IntN(2)
	}
	if r.IntN(10) == 0 {
		p["pauses"] = []any{map[string]any{"from": started.AddDate(0, 0, 20).Format(time.DateOnly)}}
	}
	b, _ := json.Marshal(p)
	return b
}

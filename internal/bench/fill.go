package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Sink is where Fill writes: the same services the API calls, in process.
type Sink interface {
	// Sites makes sure the sites exist.
	Sites(ctx context.Context, codes []string) error
	// Child registers a child (ageBand may be empty); Response stores a
	// response (a body as PUT /api/v1/responses/{id} takes it);
	// Participation keeps a child's participation record (a body as PUT
	// .../participation takes it). Each writes the audit entry the server
	// would.
	Child(ctx context.Context, id, site, group, ageBand, startedOn string) error
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
				if err := sink.ReadAudit(ctx, UUID4(r), site, child); err != nil {
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
	if err := sink.Child(ctx, id, site, group, "", baseline.Format(time.DateOnly)); err != nil {
		return false, fmt.Errorf("child %s: %w", id, err)
	}
	for wave, day := range days {
		tp, w := "baseline", 1
		if wave > 0 {
			tp, w = "follow_up", wave
			followUps.Add(1)
		}
		if err := sink.Response(ctx, UUID4(r), Body(r, id, tp, w, day.Format(time.DateOnly))); err != nil {
			return false, fmt.Errorf("SCT of %s: %w", id, err)
		}
	}
	if group != "lifelong_links" {
		return true, nil
	}
	if r.IntN(4) > 0 {
		ended := baseline.AddDate(0, 0, 30+r.IntN(300))
		version := "2"
		if ended.Before(time.Date(2019, 4, 1, 0, 0, 0, 0, time.UTC)) {
			version = "1"
		}
		body := PracticeBody(r, PracticeCase{Child: id, Version: version, Started: baseline, Ended: ended, FGC: r.IntN(3) > 0})
		if err := sink.Response(ctx, UUID4(r), body); err != nil {
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

// PracticeCase is what a practice summary is about: the child, the format
// (version "1", the old, until March 2019; "2", the new, from April 2019),
// when the work started and ended, and whether it ended in a family group
// conference (else a plan without one).
type PracticeCase struct {
	Child, Version string
	Started, Ended time.Time
	FGC            bool
}

// weighted is a code with how often the report saw it.
type weighted struct {
	code  string
	share float64
}

// The report's shares: tools used (Table 2), outcomes (Table 6) and the
// categories of objectives (Table 5, by frequency).
var (
	practiceTools = []weighted{{"sct", .48}, {"genogram", .92}, {"online_search", .68}, {"mobility_map", .57},
		{"deep_file_search", .64}, {"ecomap", .32}, {"ask_family", .88}}
	practiceOutcomes = []weighted{{"direct_contact", .91}, {"increased_network", .76}, {"indirect_contact", .76},
		{"increased_knowledge", .67}, {"sense_of_identity", .78}, {"long_term_commitment", .76}, {"overnight_stays", .24},
		{"repaired_relationships", .53}, {"other", .24}}
	practiceObjectives = []weighted{{"siblings", 7}, {"mother", 7}, {"father", 4}, {"wider_family", 13}, {"grandparents", 8},
		{"friends", 5}, {"pets", 4}, {"professionals", 5}, {"former_foster_carers", 7}, {"former_residential_placement", 1},
		{"leaving_care_support", 4}, {"family_history", 17}, {"family_photos", 3}, {"family_correspondence", 1}, {"other", 6}}
)

// someOf is each code with its share's chance.
func someOf(r *rand.Rand, codes []weighted) []string {
	out := []string{}
	for _, c := range codes {
		if r.Float64() < c.share {
			out = append(out, c.code)
		}
	}
	return out
}

// oneOf is one code, drawn in proportion to the weights.
func oneOf(r *rand.Rand, codes []weighted) string {
	total := 0.0
	for _, c := range codes {
		total += c.share
	}
	x := r.Float64() * total
	for _, c := range codes {
		if x < c.share {
			return c.code
		}
		x -= c.share
	}
	return codes[len(codes)-1].code
}

// PracticeBody is a submitted practice summary shaped like the report's:
// tools and outcomes in Tables 2 and 6's shares, 1 to 25 people found (a
// mean of about 5, as 626 in 119 cases), 96% of them kept, about 14 at a
// conference; in the new format, objectives in Table 5's categories, about
// four in five met and all met for two children in three.
func PracticeBody(r *rand.Rand, c PracticeCase) []byte {
	identified := max(1, min(25, int(math.Round(math.Exp(1.45+0.6*r.NormFloat64())))))
	retained := 0
	for range identified {
		if r.Float64() < 0.96 {
			retained++
		}
	}
	answers := map[string]any{
		"started_on": c.Started.Format(time.DateOnly), "ended_on": c.Ended.Format(time.DateOnly),
		"tools_used": someOf(r, practiceTools), "connections_identified": identified,
		"connections_retained": retained, "outcomes": someOf(r, practiceOutcomes),
	}
	if c.FGC {
		answers["route"], answers["fgc_attendees"] = "fgc", 5+r.IntN(19)
	} else {
		answers["route"] = "plan_without_fgc"
	}
	if c.Version == "2" {
		n := 1 + r.IntN(5)
		allMet := r.Float64() < 0.68
		objectives := make([]map[string]any, 0, n)
		for range n {
			objectives = append(objectives, map[string]any{"category": oneOf(r, practiceObjectives), "met": allMet || r.Float64() < 0.4})
		}
		answers["objectives"] = objectives
	}
	b, _ := json.Marshal(map[string]any{"form": "practice-summary", "version": c.Version, "child_id": c.Child,
		"completed_on": c.Ended.Format(time.DateOnly), "mode": "online", "status": "submitted", "answers": answers})
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

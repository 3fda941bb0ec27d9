// Package demo makes a synthetic evaluation to look around in, shaped like
// the English evaluation of November 2020: its twelve sites and their
// referrals (Table 1), the 160 baseline SCTs by site (Table 14) with 13
// follow-ups and 8 from the comparison group, the 119 practice summaries
// (78 in the old format, 41 in the new) from the sites that sent them
// (Table 2), and a participation record for every referred child in Table
// 7's proportions. The counts are fixed; what each record says is drawn
// from a seed. Everything is written through bench.Sink, that is through
// the services the API uses, with their checks and audit entries.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/lifelong-links/sct/internal/bench"
)

// The fixed counts of the evaluation.
const (
	Referred       = 585 // Lifelong Links children, every one with a participation record
	Baselines      = 160 // baseline SCTs of Lifelong Links children
	FollowUps      = 13  // follow-up SCTs, of children with a baseline
	Comparison     = 8   // comparison-group children, each with a baseline SCT
	PracticeOld    = 78  // practice summaries in the old format (version 1)
	PracticeNew    = 41  // and in the new (version 2)
	OnlineBaseline = 14  // baselines completed online; the rest on paper and typed in
)

// site is one local authority: its code, what the report counted there,
// and whether it joined in the second wave (from late 2018).
type site struct {
	code                   string
	referrals, baselines   int
	practiceOld, practiceN int
	wave2                  bool
}

// sites are the trial's twelve English sites (A to M, no I): referrals as
// Table 1, baseline SCTs as Table 14, practice summaries as the cases of
// Table 2 (8 sites), old before April 2019 and new after.
func sites() []site {
	return []site{
		{"A", 16, 4, 3, 1, false}, {"B", 70, 16, 3, 1, false}, {"C", 63, 4, 12, 7, false},
		{"D", 151, 63, 25, 12, false}, {"E", 152, 31, 23, 11, false}, {"F", 34, 8, 8, 5, false},
		{"G", 22, 11, 4, 2, false}, {"H", 11, 5, 0, 2, true}, {"J", 8, 4, 0, 0, true},
		{"K", 28, 8, 0, 0, true}, {"L", 11, 6, 0, 0, true}, {"M", 19, 0, 0, 0, true},
	}
}

// Sites are the site codes a demo makes.
func Sites() []string {
	var out []string
	for _, s := range sites() {
		out = append(out, s.code)
	}
	return out
}

// Dates of the trial.
var (
	trialStart   = date(2017, 4, 1)  // the first referrals (wave 1)
	wave2Start   = date(2018, 11, 1) // the second wave's sites begin
	sctFrom      = date(2018, 6, 1)  // the SCT is in use from here
	formatChange = date(2019, 4, 1)  // the new practice summary
	trialEnd     = date(2020, 3, 31)
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Counts are what a demo wrote.
type Counts struct {
	Sites, Referred, Comparison          int
	Baselines, FollowUps, ComparisonSCTs int
	PracticeOld, PracticeNew             int
	Participation                        int
}

// response is one response to write: its id and body.
type response struct {
	id   string
	body []byte
}

// child is everything written about one child, in order.
type child struct {
	id, site, group, ageBand string
	started                  time.Time
	baseline                 time.Time // zero: none
	followUp                 time.Time // zero: none
	online                   bool
	practice                 *bench.PracticeCase
	fgc                      bool // a completed case's route
	responses                []response
	participation            []byte // nil: no record (the comparison group)
}

// between is a day drawn evenly from from to to, both included.
func between(r *rand.Rand, from, to time.Time) time.Time {
	days := int(to.Sub(from).Hours() / 24)
	if days <= 0 {
		return from
	}
	return from.AddDate(0, 0, r.IntN(days+1))
}

// months is a case's length: about 7 months, 0 to 19 (the report's time to
// completion), in days.
func months(r *rand.Rand) int {
	m := max(0, min(19, 7+4*r.NormFloat64()))
	return int(m * 30.4)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ageBand is drawn as the report describes the children: 5 to 18, most
// 10 to 15.
func ageBand(r *rand.Rand) string {
	x := r.Float64()
	switch {
	case x < 0.15:
		return "5-9"
	case x < 0.55:
		return "10-12"
	case x < 0.93:
		return "13-15"
	}
	return "16-18"
}

// plan draws every child of the demo from the seed, bodies and all, so that
// the same seed writes the same records however the writes interleave.
func plan(seed uint64) []*child {
	r := rand.New(rand.NewPCG(seed, 0x5c7))
	var children, baselined []*child
	for _, s := range sites() {
		from := trialStart
		if s.wave2 {
			from = wave2Start
		}
		// Roles go to children at random: the baselines first, then the
		// practice summaries, old and new; the rest are referred only.
		order := r.Perm(s.referrals)
		for i := range s.referrals {
			c := &child{id: fmt.Sprintf("%s-%04d", s.code, order[i]+1), site: s.code, group: "lifelong_links", ageBand: ageBand(r)}
			switch {
			case i < s.baselines:
				c.started = between(r, maxTime(from, sctFrom), trialEnd.AddDate(0, 0, -30))
				c.baseline = c.started.AddDate(0, 0, r.IntN(29))
				baselined = append(baselined, c)
			case i < s.baselines+s.practiceOld:
				c.started = between(r, from, formatChange.AddDate(0, 0, -31))
				ended := minTime(c.started.AddDate(0, 0, months(r)), formatChange.AddDate(0, 0, -1))
				c.practice = &bench.PracticeCase{Child: c.id, Version: "1", Started: c.started, Ended: ended}
			case i < s.baselines+s.practiceOld+s.practiceN:
				ended := between(r, formatChange, trialEnd)
				c.started = maxTime(from, ended.AddDate(0, 0, -months(r)))
				c.practice = &bench.PracticeCase{Child: c.id, Version: "2", Started: c.started, Ended: ended}
			default:
				c.started = between(r, from, trialEnd)
			}
			children = append(children, c)
		}
	}
	// The follow-ups: children whose baseline leaves six months before the
	// trial ends; and the baselines completed online.
	var early []*child
	for _, c := range baselined {
		if c.baseline.Before(date(2019, 9, 1)) {
			early = append(early, c)
		}
	}
	for _, i := range r.Perm(len(early))[:FollowUps] {
		c := early[i]
		c.followUp = minTime(c.baseline.AddDate(0, 0, 150+r.IntN(61)), trialEnd)
	}
	for _, i := range r.Perm(len(baselined))[:OnlineBaseline] {
		baselined[i].online = true
	}
	// The comparison group's SCTs, in the sites that sent most baselines.
	weights := []string{"B", "D", "D", "D", "E", "E", "G", "K"}
	for i := range Comparison {
		s := weights[r.IntN(len(weights))]
		started := between(r, sctFrom, trialEnd.AddDate(0, 0, -30))
		children = append(children, &child{id: fmt.Sprintf("%s-C%03d", s, i+1), site: s, group: "comparison", ageBand: ageBand(r),
			started: started, baseline: started.AddDate(0, 0, r.IntN(29)), online: r.IntN(2) == 0})
	}
	for _, c := range children {
		c.write(r)
	}
	return children
}

// write draws c's bodies.
func (c *child) write(r *rand.Rand) {
	if !c.baseline.IsZero() {
		mode := "paper"
		if c.online {
			mode = "online"
		}
		c.responses = append(c.responses, response{bench.UUID4(r), bench.BodyOn(r, c.id, "baseline", 1, c.baseline.Format(time.DateOnly), mode)})
	}
	if !c.followUp.IsZero() {
		c.responses = append(c.responses, response{bench.UUID4(r), bench.BodyOn(r, c.id, "follow_up", 1, c.followUp.Format(time.DateOnly), "paper")})
	}
	if c.practice != nil {
		// Three cases in four that ended ended in a plan or an FGC as
		// Table 7 has them (29% and 24%): 45% of them at an FGC.
		c.practice.FGC = r.Float64() < 0.45
		c.responses = append(c.responses, response{bench.UUID4(r), bench.PracticeBody(r, *c.practice)})
	}
	if c.group == "lifelong_links" {
		c.participation = c.participationBody(r)
	}
}

// participationBody is the child's participation record, in Table 7's
// proportions over all the referred: 4% declined, about 14% withdrew, 5%
// paused, 29% completed a plan without an FGC and 24% an FGC, the rest
// still taking part in March 2020. A child with a practice summary
// completed as it says.
func (c *child) participationBody(r *rand.Rand) []byte {
	yes, no := true, false
	p := map[string]any{"eligible": yes, "participating": yes, "started_on": c.started.Format(time.DateOnly),
		"reason_not_participating": 0, "plan_completed": -1, "fgc_completed": -1, "review_fgc_completed": -1, "pauses": []any{}}
	// The last thing recorded: a participation does not end before it.
	last := maxTime(maxTime(c.started, c.baseline), c.followUp)
	ceased := minTime(maxTime(c.started.AddDate(0, 0, months(r)), last), trialEnd)
	outcome := ""
	switch x := r.Float64(); {
	case c.practice != nil && c.practice.FGC:
		outcome, ceased = "fgc", c.practice.Ended
	case c.practice != nil:
		outcome, ceased = "plan", c.practice.Ended
	case x < 0.05 && c.baseline.IsZero():
		outcome = "declined"
	case x < 0.22:
		outcome = "withdrew"
	case x < 0.28:
		outcome = "paused"
	case x < 0.50:
		outcome = "plan"
	case x < 0.68:
		outcome = "fgc"
	}
	switch outcome {
	case "declined":
		p["participating"], p["reason_not_participating"] = no, []int{1, 1, 1, 2, 3, 4, 5}[r.IntN(7)]
		delete(p, "started_on")
	case "withdrew":
		p["ceased_on"], p["reason_ceased"] = ceased.Format(time.DateOnly), []int{2, 2, 2, 3}[r.IntN(4)]
		p["plan_completed"], p["fgc_completed"] = 0, 0
	case "paused":
		from := minTime(c.started.AddDate(0, 0, 20+r.IntN(60)), trialEnd)
		pause := map[string]any{"from": from.Format(time.DateOnly)}
		if to := from.AddDate(0, 0, 30+r.IntN(90)); to.Before(trialEnd) {
			pause["to"] = to.Format(time.DateOnly)
		}
		p["pauses"] = []any{pause}
	case "plan":
		p["ceased_on"], p["reason_ceased"] = ceased.Format(time.DateOnly), 1
		p["plan_completed"], p["fgc_completed"] = 1, 0
	case "fgc":
		p["ceased_on"], p["reason_ceased"] = ceased.Format(time.DateOnly), 1
		p["plan_completed"], p["fgc_completed"], p["review_fgc_completed"] = 1, 1, []int{0, 0, 1}[r.IntN(3)]
	}
	b, _ := json.Marshal(p)
	return b
}

// Fill writes the demo evaluation into sink from workers goroutines, each
// child's records in the order a service sees them, and counts what it
// wrote.
func Fill(ctx context.Context, sink bench.Sink, seed uint64, workers int) (Counts, error) {
	if err := sink.Sites(ctx, Sites()); err != nil {
		return Counts{}, err
	}
	children := plan(seed)
	var (
		mu       sync.Mutex
		firstErr error
		next     int
		wg       sync.WaitGroup
	)
	take := func() *child {
		mu.Lock()
		defer mu.Unlock()
		if firstErr != nil || next == len(children) {
			return nil
		}
		next++
		return children[next-1]
	}
	for range max(1, workers) {
		wg.Go(func() {
			for c := take(); c != nil; c = take() {
				if err := c.store(ctx, sink); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return Counts{}, firstErr
	}
	n := Counts{Sites: len(sites())}
	for _, c := range children {
		if c.group == "comparison" {
			n.Comparison++
			n.ComparisonSCTs++
			continue
		}
		n.Referred++
		if !c.baseline.IsZero() {
			n.Baselines++
		}
		if !c.followUp.IsZero() {
			n.FollowUps++
		}
		if c.practice != nil && c.practice.Version == "1" {
			n.PracticeOld++
		}
		if c.practice != nil && c.practice.Version == "2" {
			n.PracticeNew++
		}
		if c.participation != nil {
			n.Participation++
		}
	}
	return n, ctx.Err()
}

func (c *child) store(ctx context.Context, sink bench.Sink) error {
	if err := sink.Child(ctx, c.id, c.site, c.group, c.ageBand, c.started.Format(time.DateOnly)); err != nil {
		return fmt.Errorf("child %s: %w", c.id, err)
	}
	for _, resp := range c.responses {
		if err := sink.Response(ctx, resp.id, resp.body); err != nil {
			return fmt.Errorf("a response of %s: %w", c.id, err)
		}
	}
	if c.participation != nil {
		if err := sink.Participation(ctx, c.id, c.participation); err != nil {
			return fmt.Errorf("participation of %s: %w", c.id, err)
		}
	}
	return nil
}

package demo

import (
	"bytes"
	"testing"
	"time"
)

// Whatever the seed, the plan has the report's counts, site by site, and
// dates a service would accept; the same seed draws the same records.
func TestPlan_HasTheReportsCountsForEverySeed(t *testing.T) {
	for _, seed := range []uint64{1, 2020, 987654321} {
		children := plan(seed)
		referred, baselines, followUps, comparison, online := map[string]int{}, map[string]int{}, 0, 0, 0
		practice := map[string]int{}
		ids := map[string]bool{}
		for _, c := range children {
			if ids[c.id] {
				t.Fatalf("seed %d: child %s twice", seed, c.id)
			}
			ids[c.id] = true
			if c.started.Before(trialStart) || c.started.After(trialEnd) {
				t.Errorf("seed %d: %s started %s, outside the trial", seed, c.id, c.started.Format(time.DateOnly))
			}
			if c.group == "comparison" {
				comparison++
				if c.baseline.IsZero() || c.participation != nil {
					t.Errorf("seed %d: comparison child %s: want a baseline and no participation record", seed, c.id)
				}
				continue
			}
			referred[c.site]++
			if c.participation == nil {
				t.Errorf("seed %d: %s has no participation record", seed, c.id)
			}
			if !c.baseline.IsZero() {
				baselines[c.site]++
				if c.baseline.Before(sctFrom) || c.baseline.After(trialEnd) || c.baseline.Before(c.started) {
					t.Errorf("seed %d: %s's baseline on %s", seed, c.id, c.baseline.Format(time.DateOnly))
				}
				if c.online {
					online++
				}
			}
			if !c.followUp.IsZero() {
				followUps++
				if !c.followUp.After(c.baseline) || c.followUp.After(trialEnd) {
					t.Errorf("seed %d: %s's follow-up on %s after a baseline on %s", seed, c.id, c.followUp.Format(time.DateOnly), c.baseline.Format(time.DateOnly))
				}
			}
			if p := c.practice; p != nil {
				practice[p.Version]++
				if p.Ended.Before(p.Started) || (p.Version == "1") != p.Ended.Before(formatChange) || p.Ended.After(trialEnd) {
					t.Errorf("seed %d: %s's practice summary v%s from %s to %s", seed, c.id, p.Version, p.Started.Format(time.DateOnly), p.Ended.Format(time.DateOnly))
				}
			}
		}
		total := 0
		for _, s := range sites() {
			total += referred[s.code]
			if referred[s.code] != s.referrals || baselines[s.code] != s.baselines {
				t.Errorf("seed %d: site %s has %d referred and %d baselines; want %d and %d (Tables 1 and 14)",
					seed, s.code, referred[s.code], baselines[s.code], s.referrals, s.baselines)
			}
		}
		if total != Referred || followUps != FollowUps || comparison != Comparison || online != OnlineBaseline ||
			practice["1"] != PracticeOld || practice["2"] != PracticeNew {
			t.Errorf("seed %d: %d referred, %d follow-ups, %d comparison, %d online, practice %v", seed, total, followUps, comparison, online, practice)
		}
	}

	a, b, other := plan(7), plan(7), plan(8)
	same := func(x, y []*child) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i].id != y[i].id || !bytes.Equal(x[i].participation, y[i].participation) || len(x[i].responses) != len(y[i].responses) {
				return false
			}
			for j := range x[i].responses {
				if x[i].responses[j].id != y[i].responses[j].id || !bytes.Equal(x[i].responses[j].body, y[i].responses[j].body) {
					return false
				}
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("one seed drew two different plans")
	}
	if same(a, other) {
		t.Error("two seeds drew the same plan")
	}
}

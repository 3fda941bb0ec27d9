package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// relationship is a relationship code with its weight among made-up nominees.
type relationship struct {
	code   string
	weight int
}

// relationships are Table 3's, each weighted by how many of the report's 157
// respondents named one.
func relationships() []relationship {
	return []relationship{
		{"biological_mother", 93}, {"biological_father", 66}, {"sibling", 86}, {"grandparent", 70}, {"other_relative", 64},
		{"step_parent", 9}, {"foster_carer_current", 86}, {"foster_family_member", 21}, {"former_foster_carer", 7},
		{"friend", 72}, {"school_staff", 50}, {"social_care_professional", 30}, {"former_professional", 11},
		{"lifelong_links_worker", 4}, {"other", 10},
	}
}

// supports are the SCT's eight kinds of support.
func supports() []string {
	return []string{"emotional", "practical", "advice", "advocacy", "socialising", "lifelong", "trust", "positive_feedback"}
}

func pick(r *rand.Rand, weights []float64) int {
	x := r.Float64()
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// Body is a submitted SCT shaped like the report's: a mean of 9 important
// people (SD 4.8, 0 to 20), up to 3 most important and 2 more supporters,
// mostly positive ratings with some skipped, mostly "enough" people.
func Body(r *rand.Rand, child, timepoint string, wave int, day string) []byte {
	rels, sups := relationships(), supports()
	n := int(r.NormFloat64()*4.8 + 9.5)
	n = max(0, min(20, n))
	total := 0
	for _, rel := range rels {
		total += rel.weight
	}
	var nominees []map[string]any
	for i := range n {
		x := r.IntN(total)
		code := rels[0].code
		for _, rel := range rels {
			if x < rel.weight {
				code = rel.code
				break
			}
			x -= rel.weight
		}
		p := map[string]any{"name": fmt.Sprintf("Person %d", i+1), "relationship": code}
		if code == "other" {
			p["other_text"] = "neighbour"
		}
		nominees = append(nominees, p)
	}
	rating := func(weights []float64) (int, bool) {
		if r.IntN(10) == 0 {
			return 0, false
		}
		return 1 + pick(r, weights), true
	}
	var key []map[string]any
	for i := range min(3, n) {
		key = append(key, map[string]any{"nominee": i, "reason": "important"})
	}
	for i := range r.IntN(3) {
		if n > 3+i {
			key = append(key, map[string]any{"nominee": 3 + i, "reason": "support"})
		} else {
			key = append(key, map[string]any{"name": "Mr K", "relationship": "school_staff", "reason": "support"})
		}
	}
	for _, k := range key {
		support := map[string]any{}
		for _, s := range sups {
			if v, ok := rating([]float64{0.08, 0.11, 0.30, 0.51}); ok {
				support[s] = v
			}
		}
		k["support"] = support
		if v, ok := rating([]float64{0.60, 0.25, 0.10, 0.05}); ok {
			k["let_down"] = v
		}
	}
	adequacy := map[string]any{}
	for _, s := range sups {
		if r.IntN(30) > 0 {
			adequacy[s] = 1 + pick(r, []float64{0.05, 0.08, 0.87})
		}
	}
	answers := map[string]any{"nominees": nominees, "key_people": key, "adequacy": adequacy}
	if nominees == nil {
		answers["nominees"] = []any{}
	}
	if key == nil {
		answers["key_people"] = []any{}
	}
	b, _ := json.Marshal(map[string]any{
		"form": "sct", "version": "1", "child_id": child, "timepoint": timepoint, "wave": wave,
		"completed_on": day, "mode": "online", "status": "submitted", "answers": answers,
	})
	return b
}

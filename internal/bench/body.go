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

// availability is, for each kind of support, the share of the report's
// key-person ratings that said probably or definitely.
var availability = map[string]float64{"emotional": .81, "practical": .63, "advice": .83, "advocacy": .64,
	"socialising": .88, "lifelong": .86, "trust": .93, "positive_feedback": .88}

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
// ratings of each kind of support in the report's shares (some skipped), a
// few let down, mostly "enough" people.
func Body(r *rand.Rand, child, timepoint string, wave int, day string) []byte {
	return BodyOn(r, child, timepoint, wave, day, "online")
}

// BodyOn is Body completed in a mode: online, or on paper and typed in.
func BodyOn(r *rand.Rand, child, timepoint string, wave int, day, mode string) []byte {
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
			p := availability[s]
			if v, ok := rating([]float64{(1 - p) * 0.45, (1 - p) * 0.55, p * 0.37, p * 0.63}); ok {
				support[s] = v
			}
		}
		k["support"] = support
		if v, ok := rating([]float64{0.60, 0.34, 0.04, 0.02}); ok {
			k["let_down"] = v
		}
	}
	adequacy := map[string]any{}
	for _, s := range sups {
		if r.IntN(8) > 0 { // about 140 of the report's 160 answered each
			adequacy[s] = 1 + pick(r, []float64{0.045, 0.075, 0.88})
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
		"completed_on": day, "mode": mode, "status": "submitted", "answers": answers,
	})
	return b
}

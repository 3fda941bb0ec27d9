package summary

import "slices"

// Tally is the sum of many Inputs. Every field is an integer counter, so tallies add and
// merge exactly and in any order; maps are allocated only when a key is first counted.
type Tally struct {
	Respondents       int               `json:"respondents"`                 // inputs added
	NamedAnyone       int               `json:"named_anyone"`                // respondents who named at least one person
	NomineeSum        int               `json:"nominee_sum"`                 // Σ nominees over NamedAnyone
	NomineeSumSquares int               `json:"nominee_sum_squares"`         // Σ nominees² over NamedAnyone
	Relationships     map[string]int    `json:"relationships,omitempty"`     // respondents naming at least one nominee of each type
	NamedKeyPerson    int               `json:"named_key_person"`            // respondents who named at least one key person
	KeyRelationships  map[string]int    `json:"key_relationships,omitempty"` // respondents naming at least one key person of each type
	Support           map[string][4]int `json:"support,omitempty"`           // key-person ratings 1..4 per support type
	LetDown           [4]int            `json:"let_down"`                    // let_down ratings 1..4
	Adequacy          map[string][3]int `json:"adequacy,omitempty"`          // adequacy answers 1..3 per support type
}

// Add counts one response. Relationships count once per respondent even if an Input
// lists one twice, and only for respondents inside the matching base, so a percentage
// can never pass 100; out-of-range answers and negative counts are ignored.
func (t *Tally) Add(in Input) {
	t.Respondents++
	if in.Nominees > 0 {
		t.NamedAnyone++
		t.NomineeSum += in.Nominees
		t.NomineeSumSquares += in.Nominees * in.Nominees
		t.Relationships = countOnce(t.Relationships, in.Relationships)
	}
	if in.KeyPeople > 0 {
		t.NamedKeyPerson++
		t.KeyRelationships = countOnce(t.KeyRelationships, in.KeyRelationships)
	}
	for s, r := range in.Support {
		if t.Support == nil {
			t.Support = make(map[string][4]int)
		}
		c := t.Support[s]
		for i := range c {
			c[i] += max(r[i], 0)
		}
		t.Support[s] = c
	}
	for i, n := range in.LetDown {
		t.LetDown[i] += max(n, 0)
	}
	for s, a := range in.Adequacy {
		if a < 1 || a > 3 {
			continue
		}
		if t.Adequacy == nil {
			t.Adequacy = make(map[string][3]int)
		}
		c := t.Adequacy[s]
		c[a-1]++
		t.Adequacy[s] = c
	}
}

// Merge adds another tally into t. It never shares o's maps, and merging a tally into
// itself doubles it.
func (t *Tally) Merge(o Tally) {
	t.Respondents += o.Respondents
	t.NamedAnyone += o.NamedAnyone
	t.NomineeSum += o.NomineeSum
	t.NomineeSumSquares += o.NomineeSumSquares
	t.Relationships = mergeCounts(t.Relationships, o.Relationships, addInt)
	t.NamedKeyPerson += o.NamedKeyPerson
	t.KeyRelationships = mergeCounts(t.KeyRelationships, o.KeyRelationships, addInt)
	t.Support = mergeCounts(t.Support, o.Support, addRatings)
	for i := range t.LetDown {
		t.LetDown[i] += o.LetDown[i]
	}
	t.Adequacy = mergeCounts(t.Adequacy, o.Adequacy, addAnswers)
}

func countOnce(counts map[string]int, codes []string) map[string]int {
	for i, c := range codes {
		if slices.Contains(codes[:i], c) {
			continue
		}
		if counts == nil {
			counts = make(map[string]int)
		}
		counts[c]++
	}
	return counts
}

// mergeCounts adds src into dst key by key. Only keys already in src are written, which is
// safe even when dst and src are the same map.
func mergeCounts[V any](dst, src map[string]V, add func(a, b V) V) map[string]V {
	for k, v := range src {
		if dst == nil {
			dst = make(map[string]V, len(src))
		}
		dst[k] = add(dst[k], v)
	}
	return dst
}

func addInt(a, b int) int { return a + b }

func addRatings(a, b [4]int) [4]int {
	for i := range a {
		a[i] += b[i]
	}
	return a
}

func addAnswers(a, b [3]int) [3]int {
	for i := range a {
		a[i] += b[i]
	}
	return a
}

package summary

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/lifelong-links/sct/internal/form"
)

// Input is what one submitted SCT response contributes to the summaries. It carries no
// names or free text, so storing it beside a response exposes nothing identifying.
type Input struct {
	Nominees         int               `json:"nominees"`                    // number of important people named
	Relationships    []string          `json:"relationships,omitempty"`     // distinct relationship codes among nominees, sorted
	KeyPeople        int               `json:"key_people"`                  // number of key people
	KeyRelationships []string          `json:"key_relationships,omitempty"` // distinct relationship codes among key people, sorted
	Support          map[string][4]int `json:"support,omitempty"`           // per support type: counts of key-person ratings 1..4 (index 0 = rating 1)
	LetDown          [4]int            `json:"let_down"`                    // counts of let_down ratings 1..4
	Adequacy         map[string]int    `json:"adequacy,omitempty"`          // per support type: the answer 1..3; absent when skipped
}

// sctAnswers is the part of SCT version 1 answers that summaries read. Names and
// other_text are not decoded, so they cannot leak into summaries. Numbers decode as
// float64 so that 3.0 is read as 3 instead of failing the whole response.
type sctAnswers struct {
	Nominees []struct {
		Relationship string `json:"relationship"`
	} `json:"nominees"`
	KeyPeople []struct {
		Nominee      *float64            `json:"nominee"`
		Relationship string              `json:"relationship"`
		Support      map[string]*float64 `json:"support"`
		LetDown      *float64            `json:"let_down"`
	} `json:"key_people"`
	Adequacy map[string]*float64 `json:"adequacy"`
}

// InputFromSCT derives the Input from the answers of an SCT version 1 response (JSON bytes in the contract's shape).
// The answers are already validated against the form; still, it must never panic, and it returns an error
// for JSON it cannot decode. Skipped items (absent ratings, absent adequacy items, absent let_down) contribute nothing.
//
// A key person who points at a nominee takes that nominee's relationship; an index out of
// range gives no relationship, but the key person and their ratings still count.
func InputFromSCT(answers []byte) (Input, error) {
	var a sctAnswers
	if err := json.Unmarshal(answers, &a); err != nil {
		return Input{}, fmt.Errorf("decode SCT answers: %w", err)
	}

	in := Input{Nominees: len(a.Nominees), KeyPeople: len(a.KeyPeople)}

	rels := make([]string, 0, len(a.Nominees))
	for _, n := range a.Nominees {
		rels = append(rels, n.Relationship)
	}
	in.Relationships = distinct(rels)

	keyRels := make([]string, 0, len(a.KeyPeople))
	for _, k := range a.KeyPeople {
		rel := k.Relationship
		if k.Nominee != nil {
			rel = ""
			if i, ok := whole(k.Nominee, 0, len(a.Nominees)-1); ok {
				rel = a.Nominees[i].Relationship
			}
		}
		keyRels = append(keyRels, rel)

		for s, v := range k.Support {
			r, ok := whole(v, 1, 4)
			if !ok {
				continue
			}
			if in.Support == nil {
				in.Support = make(map[string][4]int)
			}
			c := in.Support[s]
			c[r-1]++
			in.Support[s] = c
		}
		if r, ok := whole(k.LetDown, 1, 4); ok {
			in.LetDown[r-1]++
		}
	}
	in.KeyRelationships = distinct(keyRels)

	for s, v := range a.Adequacy {
		if r, ok := whole(v, 1, 3); ok {
			if in.Adequacy == nil {
				in.Adequacy = make(map[string]int)
			}
			in.Adequacy[s] = r
		}
	}
	return in, nil
}

// whole reports the integer value of v when it is present, a whole number
// (as form.Whole reads one) and within [lo, hi]. Anything else is treated as
// skipped.
func whole(v *float64, lo, hi int) (int, bool) {
	if v == nil {
		return 0, false
	}
	n, ok := form.Whole(*v)
	if !ok || n < int64(lo) || n > int64(hi) {
		return 0, false
	}
	return int(n), true
}

// distinct returns the non-empty codes once each, sorted, or nil when there are none.
func distinct(codes []string) []string {
	codes = slices.DeleteFunc(codes, func(s string) bool { return s == "" })
	if len(codes) == 0 {
		return nil
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

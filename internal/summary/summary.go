// Package summary computes the Social Connections Tool summaries evaluators read: the
// nominee and key-person relationship tables (report Table 3), availability of support,
// strain, and adequacy of support (report Table 4).
//
// Each submitted response is reduced once, at submit time, to an Input. Inputs add into a
// Tally, and Tallies merge, so a summary never re-reads full answers and pre-added
// counters can be kept per bucket. The package does no I/O.
package summary

import (
	"math"

	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/stats"
)

// Scheme lists, in display order, the relationship codes and support types a report has rows for
// (taken from the form definition; rows with zero counts are still reported).
type Scheme struct {
	Relationships []string // e.g. "biological_mother", ..., "lifelong_links_worker", "other"
	Supports      []string // "emotional","practical","advice","advocacy","socialising","lifelong","trust","positive_feedback"
}

// Report is the SCT summary for one timepoint. Percentages are exact (count*100/base);
// a percentage, mean or SD that has no base is nil, so it encodes as JSON null.
type Report struct {
	Timepoint    string            `json:"timepoint"`
	Respondents  int               `json:"respondents"`
	Nominees     NomineeSummary    `json:"nominees"`
	KeyPeople    KeyPeopleSummary  `json:"key_people"`
	Availability []AvailabilityRow `json:"availability"`
	Strain       StrainSummary     `json:"strain"`
	Adequacy     []AdequacyRow     `json:"adequacy"`
}

// NomineeSummary describes the important people named (report Table 3). Base is the
// number of respondents who named at least one person; Mean and SD are over them.
type NomineeSummary struct {
	Base           int               `json:"base"`
	Mean           *float64          `json:"mean"`
	SD             *float64          `json:"sd"` // sample SD (n−1), as SPSS reports it
	ByRelationship []RelationshipRow `json:"by_relationship"`
}

// KeyPeopleSummary describes the key people named. Base is the number of respondents who
// named at least one key person.
type KeyPeopleSummary struct {
	Base           int               `json:"base"`
	ByRelationship []RelationshipRow `json:"by_relationship"`
}

// RelationshipRow counts the respondents who named at least one person of a relationship type.
type RelationshipRow struct {
	Relationship string   `json:"relationship"`
	Count        int      `json:"count"`
	Percent      *float64 `json:"percent"`
}

// AvailabilityRow summarises all answered key-person ratings of one support type.
// Percent is the probably-or-definitely share.
type AvailabilityRow struct {
	Support                    string   `json:"support"`
	Base                       int      `json:"base"`
	ProbablyOrDefinitely       int      `json:"probably_or_definitely"`
	Percent                    *float64 `json:"percent"`
	NotAtAllOrNotReally        int      `json:"not_at_all_or_not_really"`
	NotAtAllOrNotReallyPercent *float64 `json:"not_at_all_or_not_really_percent"`
}

// StrainSummary summarises all answered "likely to let you down" ratings.
type StrainSummary struct {
	Base                        int      `json:"base"`
	NotAtAllOrNotReally         int      `json:"not_at_all_or_not_really"`
	ProbablyOrDefinitely        int      `json:"probably_or_definitely"`
	NotAtAllOrNotReallyPercent  *float64 `json:"not_at_all_or_not_really_percent"`
	ProbablyOrDefinitelyPercent *float64 `json:"probably_or_definitely_percent"`
}

// AdequacyRow is one row of report Table 4. Total is the number of respondents who
// answered the item; NoOneOrTooFew is shown because the report discusses the two together.
type AdequacyRow struct {
	Support       string `json:"support"`
	Total         int    `json:"total"`
	NoOne         Share  `json:"no_one"`
	TooFew        Share  `json:"too_few"`
	Enough        Share  `json:"enough"`
	NoOneOrTooFew Share  `json:"no_one_or_too_few"`
}

// Share is a count and its exact percentage of the enclosing base.
type Share = stats.Share

// SCT builds the report for one timepoint from a tally. Every relationship and support in
// the scheme gets a row, in scheme order; counts for codes outside the scheme are left out.
func SCT(timepoint string, scheme Scheme, t Tally) Report {
	r := Report{
		Timepoint:   timepoint,
		Respondents: t.Respondents,
		Nominees: NomineeSummary{
			Base:           t.NamedAnyone,
			Mean:           stats.Mean(t.NomineeSum, t.NamedAnyone),
			SD:             sampleSD(t.NamedAnyone, t.NomineeSum, t.NomineeSumSquares),
			ByRelationship: relationshipRows(scheme.Relationships, t.Relationships, t.NamedAnyone),
		},
		KeyPeople: KeyPeopleSummary{
			Base:           t.NamedKeyPerson,
			ByRelationship: relationshipRows(scheme.Relationships, t.KeyRelationships, t.NamedKeyPerson),
		},
		Availability: make([]AvailabilityRow, 0, len(scheme.Supports)),
		Adequacy:     make([]AdequacyRow, 0, len(scheme.Supports)),
	}

	for _, s := range scheme.Supports {
		c := t.Support[s]
		low, high := c[0]+c[1], c[2]+c[3]
		base := low + high
		r.Availability = append(r.Availability, AvailabilityRow{
			Support:                    s,
			Base:                       base,
			ProbablyOrDefinitely:       high,
			Percent:                    percent(high, base),
			NotAtAllOrNotReally:        low,
			NotAtAllOrNotReallyPercent: percent(low, base),
		})
	}

	low, high := t.LetDown[0]+t.LetDown[1], t.LetDown[2]+t.LetDown[3]
	r.Strain = StrainSummary{
		Base:                        low + high,
		NotAtAllOrNotReally:         low,
		ProbablyOrDefinitely:        high,
		NotAtAllOrNotReallyPercent:  percent(low, low+high),
		ProbablyOrDefinitelyPercent: percent(high, low+high),
	}

	for _, s := range scheme.Supports {
		c := t.Adequacy[s]
		total := c[0] + c[1] + c[2]
		r.Adequacy = append(r.Adequacy, AdequacyRow{
			Support:       s,
			Total:         total,
			NoOne:         share(c[0], total),
			TooFew:        share(c[1], total),
			Enough:        share(c[2], total),
			NoOneOrTooFew: share(c[0]+c[1], total),
		})
	}
	return r
}

func relationshipRows(order []string, counts map[string]int, base int) []RelationshipRow {
	rows := make([]RelationshipRow, 0, len(order))
	for _, rel := range order {
		rows = append(rows, RelationshipRow{Relationship: rel, Count: counts[rel], Percent: percent(counts[rel], base)})
	}
	return rows
}

var (
	share   = stats.NewShare
	percent = stats.Percent
)

// sampleSD works from integer count, sum and sum of squares so that merged tallies give
// the same answer as one pass. The numerator n·Σx² − (Σx)² is computed exactly in
// integers, so the usual cancellation of the textbook formula cannot occur.
func sampleSD(n, sum, sumSquares int) *float64 {
	if n < 2 {
		return nil
	}
	num := int64(n)*int64(sumSquares) - int64(sum)*int64(sum)
	if num < 0 { // only a corrupt tally can get here; a spread is never negative
		num = 0
	}
	sd := math.Sqrt(float64(num) / (float64(n) * float64(n-1)))
	return &sd
}

// SchemeOf takes the rows of the SCT tables from a form version: its
// relationship codes and the support types rated for each key person.
func SchemeOf(def *form.Definition) Scheme {
	scheme := Scheme{Relationships: def.CodeList("relationship")}
	if f := def.Field("key_people.support"); f != nil {
		for _, s := range f.Fields {
			scheme.Supports = append(scheme.Supports, s.Name)
		}
	}
	return scheme
}

// SchemeOfAll is the union of the versions' schemes: what the summary sums
// keep, so that a table of any version finds its rows.
func SchemeOfAll(defs []*form.Definition) Scheme {
	var out Scheme
	seen := map[string]bool{}
	for _, d := range defs {
		s := SchemeOf(d)
		for _, r := range s.Relationships {
			if !seen["r:"+r] {
				seen["r:"+r] = true
				out.Relationships = append(out.Relationships, r)
			}
		}
		for _, s := range s.Supports {
			if !seen["s:"+s] {
				seen["s:"+s] = true
				out.Supports = append(out.Supports, s)
			}
		}
	}
	return out
}

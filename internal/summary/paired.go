package summary

import "github.com/lifelong-links/sct/internal/stats"

// Group codes a child can carry (contract: children `group`).
const (
	groupLifelongLinks = "lifelong_links"
	groupComparison    = "comparison"
)

// Pair is one child's baseline and chosen follow-up. ChildID is the caller's reference;
// Paired reports only aggregates, so it never appears in the report.
type Pair struct {
	ChildID  string
	Group    string // "lifelong_links" or "comparison"; any other code counts in neither group
	Baseline Input
	FollowUp Input
}

// PairedReport compares the same children at baseline and follow-up, with the tests the
// evaluation reports: Wilcoxon signed-rank for paired scores, Stuart-Maxwell for paired
// adequacy categories, and Mann-Whitney for the difference between the groups.
// Adequacy and Availability have one row per support type, in scheme order, even when
// no pair can contribute to it; a test or percentage without data is null.
type PairedReport struct {
	Pairs        int                     `json:"pairs"`
	NetworkSize  PairedNetworkSize       `json:"network_size"`
	Adequacy     []PairedAdequacyRow     `json:"adequacy"`
	Availability []PairedAvailabilityRow `json:"availability"`
	Strain       PairedShare             `json:"strain"` // share of let_down ratings "probably" or "definitely"
	Groups       PairedGroups            `json:"groups"`
}

// PairedNetworkSize describes the number of important people named, over every pair (a
// child who named nobody has size 0), and tests the change.
type PairedNetworkSize struct {
	Baseline stats.Description `json:"baseline"`
	FollowUp stats.Description `json:"follow_up"`
	Change   stats.Description `json:"change"` // follow-up minus baseline, per child
	Wilcoxon stats.SignedRank  `json:"wilcoxon"`
}

// PairedAdequacyRow cross-tabulates one adequacy item over the pairs that answered it at
// both timepoints (Base). Table rows are the baseline answer and columns the follow-up
// answer, each in the order no one, too few, enough. The Wilcoxon test is on the answers
// scored 1 (no one) to 3 (enough).
type PairedAdequacyRow struct {
	Support             string           `json:"support"`
	Base                int              `json:"base"`
	Table               [3][3]int        `json:"table"`
	Baseline            AdequacyCounts   `json:"baseline"`
	FollowUp            AdequacyCounts   `json:"follow_up"`
	MarginalHomogeneity stats.Marginal   `json:"marginal_homogeneity"`
	Wilcoxon            stats.SignedRank `json:"wilcoxon"`
}

// AdequacyCounts counts the answers to one adequacy item at one timepoint.
type AdequacyCounts struct {
	NoOne  int `json:"no_one"`
	TooFew int `json:"too_few"`
	Enough int `json:"enough"`
}

// PairedAvailabilityRow is the PairedShare of key-person ratings of one support type
// answered "probably" or "definitely".
type PairedAvailabilityRow struct {
	Support string `json:"support"`
	PairedShare
}

// PairedShare compares the share of a child's key-person ratings answered 3 or 4. Base
// counts the pairs with at least one answered rating at both timepoints; the percentages
// pool those pairs' ratings, as the single-timepoint summary does, and are exact. The
// Wilcoxon test is on each child's own share (0 to 1), so a child with many key people
// weighs no more than one with few.
type PairedShare struct {
	Base            int              `json:"base"`
	BaselinePercent *float64         `json:"baseline_percent"`
	FollowUpPercent *float64         `json:"follow_up_percent"`
	Wilcoxon        stats.SignedRank `json:"wilcoxon"`
}

// PairedGroups counts the pairs in each group and compares their change in network size
// (Mann-Whitney, Lifelong Links as the first sample). NetworkSizeChange is null unless
// both groups have pairs.
type PairedGroups struct {
	LifelongLinks     int            `json:"lifelong_links"`
	Comparison        int            `json:"comparison"`
	NetworkSizeChange *stats.RankSum `json:"network_size_change"`
}

// Paired builds the paired comparison. Each pair counts once in network size and wherever
// it answered at both timepoints; an item skipped at either timepoint leaves that pair out
// of that item only. Codes outside the scheme are ignored.
func Paired(scheme Scheme, pairs []Pair) PairedReport {
	r := PairedReport{
		Pairs:        len(pairs),
		Adequacy:     make([]PairedAdequacyRow, 0, len(scheme.Supports)),
		Availability: make([]PairedAvailabilityRow, 0, len(scheme.Supports)),
	}

	before, after, change := make([]float64, len(pairs)), make([]float64, len(pairs)), make([]float64, len(pairs))
	var llChange, cmpChange []float64
	for i, p := range pairs {
		before[i] = float64(max(p.Baseline.Nominees, 0))
		after[i] = float64(max(p.FollowUp.Nominees, 0))
		change[i] = after[i] - before[i]
		switch p.Group {
		case groupLifelongLinks:
			llChange = append(llChange, change[i])
		case groupComparison:
			cmpChange = append(cmpChange, change[i])
		}
	}
	r.NetworkSize = PairedNetworkSize{
		Baseline: stats.Describe(before),
		FollowUp: stats.Describe(after),
		Change:   stats.Describe(change),
		Wilcoxon: signedRank(before, after),
	}

	for _, s := range scheme.Supports {
		r.Adequacy = append(r.Adequacy, pairedAdequacy(s, pairs))
	}
	for _, s := range scheme.Supports {
		r.Availability = append(r.Availability, PairedAvailabilityRow{
			Support:     s,
			PairedShare: pairedShare(pairs, func(in Input) [4]int { return in.Support[s] }),
		})
	}
	r.Strain = pairedShare(pairs, func(in Input) [4]int { return in.LetDown })

	r.Groups = PairedGroups{LifelongLinks: len(llChange), Comparison: len(cmpChange)}
	if len(llChange) > 0 && len(cmpChange) > 0 {
		rs := stats.MannWhitneyU(llChange, cmpChange)
		r.Groups.NetworkSizeChange = &rs
	}
	return r
}

func pairedAdequacy(support string, pairs []Pair) PairedAdequacyRow {
	row := PairedAdequacyRow{Support: support}
	var before, after []float64
	for _, p := range pairs {
		b, a := p.Baseline.Adequacy[support], p.FollowUp.Adequacy[support]
		if b < 1 || b > 3 || a < 1 || a > 3 {
			continue // skipped (or out of range) at either timepoint
		}
		row.Base++
		row.Table[b-1][a-1]++
		before = append(before, float64(b))
		after = append(after, float64(a))
	}

	t := row.Table
	rowSum := func(i int) int { return t[i][0] + t[i][1] + t[i][2] }
	colSum := func(j int) int { return t[0][j] + t[1][j] + t[2][j] }
	row.Baseline = AdequacyCounts{NoOne: rowSum(0), TooFew: rowSum(1), Enough: rowSum(2)}
	row.FollowUp = AdequacyCounts{NoOne: colSum(0), TooFew: colSum(1), Enough: colSum(2)}
	row.MarginalHomogeneity = stats.StuartMaxwell([][]int{t[0][:], t[1][:], t[2][:]})
	row.Wilcoxon = signedRank(before, after)
	return row
}

// pairedShare compares the share of ratings 3 or 4 among the counts ratings picks out of
// each Input. Negative counts are ignored, as Tally ignores them.
func pairedShare(pairs []Pair, ratings func(Input) [4]int) PairedShare {
	var s PairedShare
	var before, after []float64
	var highB, totalB, highA, totalA int
	for _, p := range pairs {
		hb, nb := highShare(ratings(p.Baseline))
		ha, na := highShare(ratings(p.FollowUp))
		if nb == 0 || na == 0 {
			continue
		}
		s.Base++
		highB, totalB = highB+hb, totalB+nb
		highA, totalA = highA+ha, totalA+na
		before = append(before, float64(hb)/float64(nb))
		after = append(after, float64(ha)/float64(na))
	}
	s.BaselinePercent = percent(highB, totalB)
	s.FollowUpPercent = percent(highA, totalA)
	s.Wilcoxon = signedRank(before, after)
	return s
}

// highShare returns how many ratings are 3 or 4, and how many there are.
func highShare(c [4]int) (high, total int) {
	for i, n := range c {
		n = max(n, 0)
		total += n
		if i >= 2 {
			high += n
		}
	}
	return high, total
}

// signedRank runs the Wilcoxon test on slices this file built in pairs, so their lengths
// always match and the error cannot occur.
func signedRank(before, after []float64) stats.SignedRank {
	sr, err := stats.WilcoxonSignedRank(before, after)
	if err != nil {
		panic("summary: unpaired values: " + err.Error())
	}
	return sr
}

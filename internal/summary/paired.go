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
	c := NewPairCounter(scheme)
	var t PairTally
	for _, p := range pairs {
		c.Add(&t, c.Cells(p.Group, p.Baseline, p.FollowUp), 1)
	}
	return c.Report(scheme, t)
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

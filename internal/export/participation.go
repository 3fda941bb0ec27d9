package export

import "strconv"

// Participation is one child's participation record as evaluators receive it.
// Nil pointers are unknown (or not applicable) and export as -1.
type Participation struct {
	ChildID string
	Site    string
	Group   string // lifelong_links or comparison
	// StatisticalYear is the April-to-March year the record belongs to, as
	// "2019-20"; when empty, the year of StartedOn.
	StatisticalYear string
	Eligible        *bool
	Participating   *bool
	StartedOn       string // YYYY-MM-DD
	// ReasonNotParticipating: 0 participated, 1 refusal by child, 2 agency
	// consent, 3 foster carer, 4 birth parent, 5 being considered.
	ReasonNotParticipating *int
	CeasedOn               string // YYYY-MM-DD
	// ReasonCeased: 1 completed, 2 child withdrew, 3 social worker withdrew,
	// 4 other.
	ReasonCeased *int
	// PlanCompleted, FGCCompleted and ReviewFGCCompleted: 1 yes, 0 no, -1
	// not applicable.
	PlanCompleted      *int
	FGCCompleted       *int
	ReviewFGCCompleted *int
	Pauses             int // child-led pauses
}

// Participation value labels, as the evaluation coded them.
var (
	yesNoUnknown = []ValueLabel{{"-1", "Unknown"}, {"0", "No"}, {"1", "Yes"}}
	notReasons   = []ValueLabel{{"-1", "Unknown"}, {"0", "Participated"}, {"1", "Refusal by child"},
		{"2", "Agency consent"}, {"3", "Foster carer"}, {"4", "Birth parent"}, {"5", "Being considered"}}
	ceasedReasons = []ValueLabel{{"-1", "Unknown"}, {"1", "Completed"}, {"2", "Child withdrew"},
		{"3", "Social worker withdrew"}, {"4", "Other"}}
	yesNoNA = []ValueLabel{{"-1", "Not applicable"}, {"0", "No"}, {"1", "Yes"}}
)

// ParticipationLayout returns the layout of participation.csv: one row per
// child, written with Writer.Participation. The variable names are those of
// the evaluation's Table 15 (ll_eligible, ll_participate, ...).
func ParticipationLayout() *Layout {
	num := func(name, label string, labels []ValueLabel) Column {
		return Column{Name: name, key: "@" + name, source: "meta", Kind: Numeric, Width: 8, Label: label,
			ValueLabels: labels, Missing: MissingNumeric}
	}
	l := &Layout{
		Name:  "participation",
		Title: "Participation: one row per child",
		kind:  participationLayout,
		Columns: []Column{
			{Name: "child_id", key: "@child_id", source: "meta", Kind: String, Width: 64, Label: "Child ID (pseudonymous, the local authority's)"},
			{Name: "site", key: "@site", source: "meta", Kind: String, Width: 16, Label: "Site"},
			num("group", "Group", groupCodes),
			{Name: "statistical_year", key: "@statistical_year", source: "meta", Kind: String, Width: 7,
				Label: "Statistical year (April to March) of the record"},
			num("ll_eligible", "Eligible for Lifelong Links", yesNoUnknown),
			num("ll_participate", "Participating in Lifelong Links", yesNoUnknown),
			{Name: "ll_start", key: "@ll_start", source: "meta", Kind: Date, Width: 10, Label: "Date enrolled in Lifelong Links"},
			num("ll_np", "Reason for not participating", notReasons),
			{Name: "ll_cease", key: "@ll_cease", source: "meta", Kind: Date, Width: 10, Label: "Date participation ceased"},
			num("ll_exit", "Reason participation ceased", ceasedReasons),
			num("ll_plan", "Completion of Lifelong Links plan", yesNoNA),
			num("ll_fgc", "Completion of Lifelong Links family group conference", yesNoNA),
			num("ll_revfgc", "Completion of Lifelong Links review family group conference", yesNoNA),
			num("ll_pauses", "Number of child-led pauses", nil),
		},
	}
	l.finish()
	return l
}

// participationRow fills row (of ParticipationLayout's columns) from p.
func participationRow(row []string, p *Participation) {
	year := p.StatisticalYear
	if year == "" {
		year = StatisticalYear(p.StartedOn)
	}
	row[0] = p.ChildID
	row[1] = p.Site
	row[2] = number(groupNumbers, p.Group)
	row[3] = year
	row[4] = yesNo(p.Eligible)
	row[5] = yesNo(p.Participating)
	row[6] = dateOrEmpty(p.StartedOn)
	row[7] = intOrMissing(p.ReasonNotParticipating)
	row[8] = dateOrEmpty(p.CeasedOn)
	row[9] = intOrMissing(p.ReasonCeased)
	row[10] = intOrMissing(p.PlanCompleted)
	row[11] = intOrMissing(p.FGCCompleted)
	row[12] = intOrMissing(p.ReviewFGCCompleted)
	row[13] = strconv.Itoa(p.Pauses)
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return MissingNumeric
	case *b:
		return "1"
	}
	return "0"
}

func intOrMissing(n *int) string {
	if n == nil {
		return MissingNumeric
	}
	return strconv.Itoa(*n)
}

func dateOrEmpty(s string) string {
	if isDate(s) {
		return s
	}
	return ""
}

package netmap

// Group is a kind of relationship the map colours and shapes alike.
type Group string

// The groups, in the order the legend lists them.
const (
	Family       Group = "family"
	FosterFamily Group = "foster_family"
	Friends      Group = "friends"
	School       Group = "school"
	Workers      Group = "workers"
	Other        Group = "other"
)

// Groups returns the groups in legend order.
func Groups() []Group { return []Group{Family, FosterFamily, Friends, School, Workers, Other} }

// Relationship is what the map shows of one relationship code: its group
// and the key of its short label in Words.
type Relationship struct {
	Group Group
	Short string
}

// Relationships is the one table of the SCT's relationship codes: the
// group each belongs to and its short label. The static page's map module
// holds the same table (a browser test compares them), and a test fails
// when a code of a form's list is missing here.
func Relationships() map[string]Relationship {
	return map[string]Relationship{
		"biological_mother":        {Family, "rel_biological_mother"},
		"biological_father":        {Family, "rel_biological_father"},
		"sibling":                  {Family, "rel_sibling"},
		"grandparent":              {Family, "rel_grandparent"},
		"other_relative":           {Family, "rel_other_relative"},
		"step_parent":              {Family, "rel_step_parent"},
		"foster_carer_current":     {FosterFamily, "rel_foster_carer_current"},
		"foster_family_member":     {FosterFamily, "rel_foster_family_member"},
		"former_foster_carer":      {FosterFamily, "rel_former_foster_carer"},
		"friend":                   {Friends, "rel_friend"},
		"school_staff":             {School, "rel_school_staff"},
		"social_care_professional": {Workers, "rel_social_care_professional"},
		"former_professional":      {Workers, "rel_former_professional"},
		"lifelong_links_worker":    {Workers, "rel_lifelong_links_worker"},
		"other":                    {Other, "rel_other"},
	}
}

// Style is how a group is drawn: a fill colour (the Okabe–Ito palette,
// told apart with the common colour-vision deficiencies) and a shape, so
// that print in grey and colour-blind eyes still tell groups apart.
type Style struct {
	Colour string
	Shape  string // circle, square, triangle, diamond, hexagon, star
}

// Styles returns the drawing style of every group.
func Styles() map[Group]Style {
	return map[Group]Style{
		Family:       {"#D55E00", "circle"},
		FosterFamily: {"#0072B2", "square"},
		Friends:      {"#009E73", "triangle"},
		School:       {"#E69F00", "diamond"},
		Workers:      {"#CC79A7", "hexagon"},
		Other:        {"#6B6B6B", "star"},
	}
}

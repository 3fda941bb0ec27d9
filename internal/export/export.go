// Package export writes the pseudonymised files evaluators take into SPSS, R
// or Stata: one CSV per layout (wide: one row per response; long: one row per
// item of a form's lists; participation: one row per child; the SCT's
// network nodes and edges), beside each CSV the syntax that reads and labels
// it in SPSS (.sps), Stata (.do) and R (.R), all three written from the
// layout; the SCT's personal networks as GraphML; a Markdown codebook; and a
// zip "data return" holding them all.
//
// Every column is derived from the form definitions, so a new form version
// exports without code changes. Answers the definition marks sensitive
// (names, free text) never become columns. Rows are streamed: a Writer holds
// one row at a time, whatever the number of responses.
//
// Conventions, the same in every file:
//   - Codes of a code list are numbered 1..n in definition order (over several
//     versions, codes a later version adds are numbered after the earlier
//     ones, so a number never changes meaning); ratings are their scale
//     values; booleans are 1 yes, 0 no; a multi-select ("codes") answer is one
//     0/1 column per code, named <field>_<code>.
//   - A missing (absent, skipped, or not asked in that form version) numeric
//     answer is -1, declared as the missing value in the SPSS syntax; a
//     missing string or date is empty.
//   - Dates are written YYYY-MM-DD and read by SPSS as SDATE10.
//   - A ref (a pointer to an item of a top-level list) is the 1-based number
//     of that item: nominee 0 exports as 1, the item column of that nominee's
//     row in the long file.
//   - statistical_year is the English financial year (April to March) holding
//     the completion date: 2019-06-14 is "2019-20", 2019-03-31 is "2018-19".
//
// Column names are SPSS-safe (lower-case letters, digits and underscores,
// starting with a letter, at most 64 characters, unique): fields of objects
// join with "_" (adequacy_emotional), list items are numbered slots from 1
// (key_people_1_support_trust), multi-select codes are <field>_<code>
// (tools_used_genogram). A wide layout also counts, for each list, its items
// (n_nominees) and, for each required code field of its items, the items
// holding each code (nominees_relationship_grandparent).
//
// Layouts are named <form>_wide and <form>_long (hyphens become
// underscores: sct_wide, practice_summary_long). The SCT's long file holds
// nominees and key people together, told apart by its list column, so a key
// person's nominee number joins to the item column of a nominee row of the
// same response. A data return holds <name>.csv, <name>.sps, <name>.do and
// <name>.R per layout, <name>.graphml per network, then codebook.md and
// README.txt.
package export

import (
	"strconv"
	"strings"
)

// Kind says how a column's values are written and read.
type Kind int

// Column kinds.
const (
	Numeric Kind = iota + 1 // a whole number; -1 when missing
	String                  // text; empty when missing
	Date                    // YYYY-MM-DD; empty when missing
)

func (k Kind) String() string {
	switch k {
	case Numeric:
		return "numeric"
	case String:
		return "string"
	case Date:
		return "date"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// MissingNumeric is what a numeric column holds when the answer is missing.
const MissingNumeric = "-1"

// MaxNameLength is the longest column name SPSS accepts.
const MaxNameLength = 64

// ValueLabel names one value of a coded column.
type ValueLabel struct {
	Value string
	Label string
}

// Column is one variable of an export.
type Column struct {
	Name  string // SPSS-safe, unique within its layout
	Label string // the variable label, from the definition's label or prompt
	Kind  Kind
	// Width is the most characters a value takes: the SPSS format width.
	Width int
	// ValueLabels label the codes of a coded column, in code order.
	ValueLabels []ValueLabel
	// Missing is written when the answer is missing: "-1" for numeric
	// columns, empty for strings and dates.
	Missing string

	// source is what the column comes from: a form field type (code, codes,
	// rating, ...), or "meta", "count", "list", "item".
	source string
	// key identifies the answer across form versions, whatever the name.
	key string
	// codes maps a code to its exported number (code and count columns).
	codes map[string]string
}

// Coded reports whether the column's values are codes with labels.
func (c *Column) Coded() bool { return len(c.ValueLabels) > 0 }

type layoutKind int

const (
	wideLayout layoutKind = iota + 1
	longLayout
	participationLayout
	nodesLayout
	edgesLayout
)

// Layout is the ordered columns of one export file and how each row is made.
type Layout struct {
	// Name is the file stem: "sct_wide" gives sct_wide.csv and sct_wide.sps.
	Name string
	// Title says in a line what one row is, for the codebook and README.
	Title string
	// Form is the form id whose responses the layout exports; empty for
	// participation.
	Form    string
	Columns []Column

	kind layoutKind
	// missing is a row of missing values, copied into a row before it is
	// filled.
	missing []string
	meta    []metaColumn
	// plans says, per form version, where each answer goes.
	plans map[string]*plan
	// versions are the form versions covered, oldest first.
	versions []string
	// listCol and itemCol are the long layout's list and item columns.
	listCol, itemCol int
	// metaFrom is the column of the first meta column.
	metaFrom int
	// net is the network a nodes or edges layout belongs to.
	net *Network
}

func (l *Layout) finish() {
	l.missing = make([]string, len(l.Columns))
	for i, c := range l.Columns {
		l.missing[i] = c.Missing
	}
}

// StatisticalYear returns the English financial year (1 April to 31 March)
// holding an ISO date, as "2019-20"; empty when date is not YYYY-MM-DD.
func StatisticalYear(date string) string {
	if !isDate(date) {
		return ""
	}
	y, _ := strconv.Atoi(date[:4])
	m, _ := strconv.Atoi(date[5:7])
	if m < 4 {
		y--
	}
	next := (y + 1) % 100
	return strconv.Itoa(y) + "-" + string(rune('0'+next/10)) + string(rune('0'+next%10))
}

// isDate reports whether s looks like YYYY-MM-DD with a month 01 to 12.
func isDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i, c := range []byte(s) {
		if i == 4 || i == 7 {
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
	}
	m := (s[5]-'0')*10 + s[6] - '0'
	d := (s[8]-'0')*10 + s[9] - '0'
	return m >= 1 && m <= 12 && d >= 1 && d <= 31
}

// oneLine makes a label safe for one line of a syntax file or a table cell.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

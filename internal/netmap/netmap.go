// Package netmap draws a young person's map of their people from the
// answers of an SCT: the young person in the centre, their most important
// people in the inner circle, the others they would go to for help in the
// middle circle and everyone else they named outside, each person marked
// by the colour and shape of their relationship's group. It also compares
// a child's baseline and latest follow-up ("then and now"). It is pure:
// answers in, a layout, an SVG picture or a comparison out.
//
// The static page's map module (static/js/map.js) lays a map out the same
// way, so that a young person sees their map on their phone with no signal;
// a browser test checks both place every person alike.
package netmap

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/lifelong-links/sct/internal/form"
)

// The rings, from the centre out.
const (
	Inner  = 1 // the up-to-3 most important people (key people, reason "important")
	Middle = 2 // the up-to-2 others they would go to for help (key people, reason "support")
	Outer  = 3 // everyone else named as important
)

// Geometry of the picture, in the SVG's user units. A phone shows the
// 600-unit width at about 350 CSS pixels, so a name (22 units) reads at
// about 13 pixels and a relationship (18 units) at about 10.5.
const (
	Width     = 600.0
	centreX   = 300.0
	top       = 40.0  // above the outer ring: the caption
	radiusX   = 250.0 // the outer ring: an upright ellipse, as a phone is
	markR     = 14.0  // a person's marker
	meR       = 32.0  // the young person in the centre
	nameSize  = 22.0
	labelSize = 18.0
	// nameChars and labelChars are how much of a name and of a free-text
	// relationship fit under a person; longer ones end in "…" (the list
	// beside the picture has them whole).
	nameChars  = 10
	labelChars = 13
	edge       = 6.0 // kept clear at the sides
)

// Person is one person on the map.
type Person struct {
	// Name is the name as given, trimmed; empty when names are not shown.
	Name string `json:"name,omitempty"`
	// Shown is the name as drawn: cut to fit.
	Shown        string `json:"shown,omitempty"`
	Relationship string `json:"relationship"`
	// Label is the relationship: its short label, or the young person's
	// own words for "other" when names are shown.
	Label string `json:"label"`
	// ShownLabel is the label as drawn: cut to fit.
	ShownLabel string `json:"shown_label"`
	Group      Group  `json:"group"`
	Ring       int    `json:"ring"`
	// Nominee is the person's place in the list of important people, or -1
	// for a supporter not on it.
	Nominee int `json:"nominee"`
	// Slot is the person's place around the centre, clockwise from the top.
	Slot int     `json:"slot"`
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
	// LabelX centres the person's label: X, moved in from the edge.
	LabelX float64 `json:"label_x"`
}

// Map is a laid-out map.
type Map struct {
	// The centre and the outer ring's height: the more people, the taller
	// the map, so that its width stays readable on a phone.
	CentreY float64  `json:"centre_y"`
	RadiusY float64  `json:"radius_y"`
	Height  float64  `json:"height"`
	People  []Person `json:"people"`
	// Names says whether names are shown.
	Names bool `json:"names"`
}

// Answers is the part of an SCT's answers the map reads.
type Answers struct {
	Nominees []struct {
		Name         string `json:"name"`
		Relationship string `json:"relationship"`
		OtherText    string `json:"other_text"`
	} `json:"nominees"`
	KeyPeople []struct {
		Nominee      *float64            `json:"nominee"`
		Reason       string              `json:"reason"`
		Name         string              `json:"name"`
		Relationship string              `json:"relationship"`
		OtherText    string              `json:"other_text"`
		Support      map[string]*float64 `json:"support"`
	} `json:"key_people"`
	Adequacy map[string]*float64 `json:"adequacy"`
}

// Decode reads stored answers (a draft's may be partial) into Answers.
func Decode(answers map[string]any) (Answers, error) {
	var a Answers
	b, err := json.Marshal(answers)
	if err != nil {
		return a, fmt.Errorf("encode answers: %w", err)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("decode SCT answers: %w", err)
	}
	return a, nil
}

// nomineeOf is the nominee a key person points at, or -1.
func nomineeOf(v *float64, n int) int {
	if v == nil {
		return -1
	}
	i, ok := form.Whole(*v)
	if !ok || i < 0 || i >= int64(n) {
		return -1
	}
	return int(i)
}

// People lists who the answers name, each once, with their ring, in the
// order the map places them: the inner ring's in list order, then the
// middle ring's (people from the list, then supporters not on it), then
// everyone else in list order. names false leaves names and free text out.
func People(a Answers, names bool, w Words) []Person {
	rels := Relationships()
	ring := make([]int, len(a.Nominees))
	for i := range ring {
		ring[i] = Outer
	}
	var added []Person
	for _, k := range a.KeyPeople {
		i := nomineeOf(k.Nominee, len(a.Nominees))
		switch {
		case i >= 0 && k.Reason == "important":
			ring[i] = Inner
		case i >= 0:
			ring[i] = min(ring[i], Middle)
		case k.Nominee == nil:
			added = append(added, person(k.Name, k.Relationship, k.OtherText, Middle, -1, names, rels, w))
		}
	}
	var out []Person
	for _, r := range []int{Inner, Middle, Outer} {
		for i, n := range a.Nominees {
			if ring[i] == r {
				out = append(out, person(n.Name, n.Relationship, n.OtherText, r, i, names, rels, w))
			}
		}
		if r == Middle {
			out = append(out, added...)
		}
	}
	return out
}

func person(name, rel, other string, ring, nominee int, names bool, rels map[string]Relationship, w Words) Person {
	p := Person{Relationship: rel, Ring: ring, Nominee: nominee, Group: Other, Label: w.get("not_said")}
	if r, ok := rels[rel]; ok {
		p.Group, p.Label = r.Group, w.get(r.Short)
	}
	if names {
		p.Name = strings.TrimSpace(name)
		p.Shown = cut(p.Name, nameChars)
		if o := strings.TrimSpace(other); rel == "other" && o != "" {
			p.Label = o
		}
	}
	p.ShownLabel = cut(p.Label, labelChars)
	return p
}

// cut shortens s to n characters, the last of them "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimRight(string([]rune(s)[:n-1]), " ") + "…"
}

// Layout places everyone the answers name. Each person has a slot of their
// own around the centre, so no two share a direction: the inner ring's
// people spread evenly, the middle ring's between them, and everyone else
// in the slots left, in order. Each is then put at the first of a few
// distances within their ring, and a few turns either side of their slot,
// where their marker and label overlap nobody placed before them (with many
// people, neighbours' labels so fall one above the other rather than side
// by side); the map grows taller with the number of people, so that there
// is such a place.
func Layout(a Answers, names bool, w Words) Map {
	people := People(a, names, w)
	n := len(people)
	m := Map{Names: names, RadiusY: max(320, float64(n)*rowsPerPerson)}
	m.CentreY = top + m.RadiusY + markR
	m.Height = m.CentreY + m.RadiusY + markR + 60 + legendHeight
	taken := make([]bool, n)
	take := func(want int) int {
		for taken[want%n] {
			want++
		}
		taken[want%n] = true
		return want % n
	}
	counts := map[int]int{}
	for _, p := range people {
		counts[p.Ring]++
	}
	seen := map[int]int{}
	for i := range people {
		p := &people[i]
		j := seen[p.Ring]
		seen[p.Ring]++
		switch p.Ring {
		case Inner:
			p.Slot = take(j * n / counts[Inner])
		case Middle:
			p.Slot = take((2*j + 1) * n / (2 * counts[Middle]))
		}
	}
	for i := range people {
		if people[i].Ring == Outer {
			people[i].Slot = take(0)
		}
	}
	placed := []Box{m.centre()}
	for i := range people {
		p := &people[i]
		placed = append(placed, m.settle(p, n, placed)...)
	}
	m.People = people
	return m
}

// distances are where in its ring a person may go, in the order tried, as
// fractions of the outer ring's size.
func distances(ring int) []float64 {
	switch ring {
	case Inner:
		return []float64{0.4, 0.34, 0.46}
	case Middle:
		return []float64{0.62, 0.56, 0.68, 0.74}
	}
	return []float64{1, 0.86, 0.93, 0.79}
}

// settle puts p at the first place that overlaps nothing placed, or at its
// slot if there is none, and returns the boxes it now takes up.
func (m Map) settle(p *Person, n int, placed []Box) []Box {
	step := math.Pi / float64(n) / 3
	for _, turn := range []float64{0, 1, -1, 2, -2, 3, -3} {
		for _, d := range distances(p.Ring) {
			m.place(p, n, d, turn*step)
			mk, lb := p.Boxes()
			if m.inside(lb) && !overlapsAny(mk, placed) && !overlapsAny(lb, placed) {
				return []Box{mk, lb}
			}
		}
	}
	m.place(p, n, distances(p.Ring)[0], 0)
	mk, lb := p.Boxes()
	return []Box{mk, lb}
}

// place puts a person at their slot, turned by turn, on an ellipse scale
// times the outer ring's, and their label under them within the picture.
func (m Map) place(p *Person, n int, scale, turn float64) {
	angle := slotAngle(p.Slot, n) + turn
	p.X = round(centreX + radiusX*scale*math.Cos(angle))
	p.Y = round(m.CentreY + m.RadiusY*scale*math.Sin(angle))
	half := labelWidth(*p) / 2
	p.LabelX = round(math.Min(math.Max(p.X, half+edge), Width-half-edge))
}

// Box is a rectangle a person's marker or label takes up.
type Box struct{ X0, Y0, X1, Y1 float64 }

// Overlaps reports whether two boxes share any area.
func (b Box) Overlaps(o Box) bool { return b.X0 < o.X1 && o.X0 < b.X1 && b.Y0 < o.Y1 && o.Y0 < b.Y1 }

func overlapsAny(b Box, others []Box) bool {
	for _, o := range others {
		if b.Overlaps(o) {
			return true
		}
	}
	return false
}

// Boxes are what a person takes up: their marker, and their label under it
// (one line, or two with a name).
func (p Person) Boxes() (marker, label Box) {
	marker = Box{p.X - markR, p.Y - markR, p.X + markR, p.Y + markR}
	lines := 1.0
	if p.Shown != "" {
		lines = 2
	}
	half := labelWidth(p) / 2
	label = Box{p.LabelX - half, p.Y + markR + 4, p.LabelX + half, p.Y + markR + 4 + lines*(nameSize+2)}
	return marker, label
}

// centre is what the young person in the centre takes up.
func (m Map) centre() Box {
	return Box{centreX - meR, m.CentreY - meR, centreX + meR, m.CentreY + meR}
}

// inside reports whether a label stays within the map, above its legend.
func (m Map) inside(b Box) bool {
	return b.X0 >= 0 && b.X1 <= Width && b.Y0 >= 30 && b.Y1 <= m.Height-legendHeight-16
}

// spread is how much wider apart slots are at the top and bottom than at
// the sides: labels are wide and short, so people side by side need more
// room than people one above the other.
const spread = 1.5

// slotAngle is the angle of slot k of n, clockwise from the top. Slots are
// evenly spaced in u; the angle follows tan(angle) = tan(u)/spread, so
// slots near the top and bottom stand further apart than at the sides.
func slotAngle(k, n int) float64 {
	u := 2 * math.Pi * float64(k) / float64(n)
	// From the top, as the clock goes: top is u = 0.
	return math.Atan2(-math.Cos(u), spread*math.Sin(u))
}

// rowsPerPerson is how much taller the outer ring grows for each person.
const rowsPerPerson = 28

// labelWidth estimates how wide a person's label is drawn.
func labelWidth(p Person) float64 {
	return math.Max(textWidth(p.Shown, nameSize)*1.12, textWidth(p.ShownLabel, labelSize)) // names are bold
}

// textWidth estimates how wide text is drawn at a font size, from the
// widths of a wide sans-serif font's letters (DejaVu Sans: wider than a
// phone's own font, so the estimate errs on the safe side); the page's map
// module estimates alike.
func textWidth(s string, size float64) float64 {
	em := 0.0
	for _, r := range s {
		switch {
		case strings.ContainsRune("iIl.,:;'|!j ", r):
			em += 0.32
		case strings.ContainsRune("frt()-[]", r):
			em += 0.45
		case strings.ContainsRune("MWmw@", r):
			em += 0.98
		case r >= 'A' && r <= 'Z':
			em += 0.74
		case r >= 0x2E80: // CJK and other full-width scripts
			em += 1
		case r > 0x7F:
			em += 0.7
		default:
			em += 0.62
		}
	}
	return em * size
}

func round(v float64) float64 { return math.Round(v*10) / 10 }

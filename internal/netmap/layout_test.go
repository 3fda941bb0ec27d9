package netmap

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/form"
)

// longNames are long names of the kind young people give, with wide
// letters: the map cuts each to fit.
var longNames = []string{"Wendy-Mae Worthington", "Mohammed Ali", "Grandad William", "Auntie Maria", "Mr McAllister", "Moira-Wyn"}

// answers builds SCT answers: inner important people from the list, middle
// supporters from the list, newMiddle supporters not on it, and outer
// others; every name and relationship as long as the map draws.
func answers(inner, middle, newMiddle, outer int) Answers {
	var a Answers
	add := func(i int) {
		a.Nominees = append(a.Nominees, struct {
			Name         string `json:"name"`
			Relationship string `json:"relationship"`
			OtherText    string `json:"other_text"`
		}{Name: longNames[i%len(longNames)], Relationship: "other", OtherText: "my best mate's older sister"})
	}
	idx := func(i int) *float64 { v := float64(i); return &v }
	for range inner + middle + outer {
		add(len(a.Nominees))
	}
	type key = struct {
		Nominee      *float64            `json:"nominee"`
		Reason       string              `json:"reason"`
		Name         string              `json:"name"`
		Relationship string              `json:"relationship"`
		OtherText    string              `json:"other_text"`
		Support      map[string]*float64 `json:"support"`
	}
	for i := range inner {
		a.KeyPeople = append(a.KeyPeople, key{Nominee: idx(i * 2), Reason: "important"})
	}
	for i := range middle {
		a.KeyPeople = append(a.KeyPeople, key{Nominee: idx(i*2 + 1), Reason: "support"})
	}
	for range newMiddle {
		a.KeyPeople = append(a.KeyPeople, key{Name: "Mrs Whittaker-Moss", Relationship: "former_foster_carer", Reason: "support"})
	}
	return a
}

// Up to 22 people (20 on the list, 2 more supporters) with the longest
// labels the map draws: no label overlaps another person's label or
// marker, or the young person in the centre, and all stay inside the
// picture above its legend, for every mix of rings.
func TestLayout_NoOverlapUpToTwentyTwoPeople(t *testing.T) {
	for _, names := range []bool{true, false} {
		for inner := 0; inner <= 3; inner++ {
			for middle := 0; middle <= 2; middle++ {
				for newMiddle := 0; newMiddle <= 2-middle; newMiddle++ {
					for outer := 0; inner+middle+outer <= 20; outer++ {
						m := Layout(answers(inner, middle, newMiddle, outer), names, English())
						name := fmt.Sprintf("names=%v inner=%d middle=%d+%d outer=%d", names, inner, middle, newMiddle, outer)
						if got := len(m.People); got != inner+middle+newMiddle+outer {
							t.Fatalf("%s: %d people on the map", name, got)
						}
						checkNoOverlap(t, name, m)
					}
				}
			}
		}
	}
}

func checkNoOverlap(t *testing.T, name string, m Map) {
	t.Helper()
	me := m.centre()
	slots := map[int]bool{}
	for i, p := range m.People {
		if slots[p.Slot] {
			t.Errorf("%s: slot %d given twice", name, p.Slot)
		}
		slots[p.Slot] = true
		mk, lb := p.Boxes()
		if !m.inside(lb) || mk.Y0 < 30 {
			t.Errorf("%s: %q's label %+v leaves the picture", name, p.Shown, lb)
		}
		if lb.Overlaps(me) || mk.Overlaps(me) {
			t.Errorf("%s: %q (ring %d, slot %d) covers the centre", name, p.Shown, p.Ring, p.Slot)
		}
		for j, q := range m.People {
			if i == j {
				continue
			}
			qm, ql := q.Boxes()
			if lb.Overlaps(ql) || lb.Overlaps(qm) || mk.Overlaps(qm) {
				t.Errorf("%s: slot %d (ring %d at %.0f,%.0f) overlaps slot %d (ring %d at %.0f,%.0f)",
					name, p.Slot, p.Ring, p.X, p.Y, q.Slot, q.Ring, q.X, q.Y)
			}
		}
	}
}

func TestPeople_RingsFollowTheKeyPeople(t *testing.T) {
	a, err := Decode(map[string]any{
		"nominees": []any{
			map[string]any{"name": " Nan ", "relationship": "grandparent"},
			map[string]any{"name": "Mum", "relationship": "biological_mother"},
			map[string]any{"name": "Jo", "relationship": "friend"},
			map[string]any{"name": "Sam", "relationship": "other", "other_text": "neighbour"},
		},
		"key_people": []any{
			map[string]any{"nominee": 1.0, "reason": "important"},
			map[string]any{"nominee": 3.0, "reason": "support"},
			map[string]any{"name": "Mr K", "relationship": "school_staff", "reason": "support"},
			map[string]any{"nominee": 9.0, "reason": "important"}, // out of range: ignored
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := func(names bool) string {
		var s []string
		for _, p := range People(a, names, English()) {
			s = append(s, fmt.Sprintf("%d %s/%s/%s/%d", p.Ring, p.Name, p.Label, p.Group, p.Nominee))
		}
		return strings.Join(s, "; ")
	}
	if g, want := got(true), "1 Mum/Birth mother/family/1; 2 Sam/neighbour/other/3; 2 Mr K/School staff/school/-1; 3 Nan/Grandparent/family/0; 3 Jo/Friend/friends/2"; g != want {
		t.Errorf("with names:\n got %s\nwant %s", g, want)
	}
	if g, want := got(false), "1 /Birth mother/family/1; 2 /Other/other/3; 2 /School staff/school/-1; 3 /Grandparent/family/0; 3 /Friend/friends/2"; g != want {
		t.Errorf("without names:\n got %s\nwant %s", g, want)
	}
}

func TestLayout_SpreadsTheInnerRingAndStaggersACrowdedOuterRing(t *testing.T) {
	m := Layout(answers(3, 2, 0, 15), true, English())
	var inner []int
	radii := map[float64]int{}
	for _, p := range m.People {
		if p.Ring == Inner {
			inner = append(inner, p.Slot)
		}
		if p.Ring == Outer {
			r := math.Round(math.Hypot((p.X-centreX)/radiusX, (p.Y-m.CentreY)/m.RadiusY)*100) / 100
			radii[r]++
		}
	}
	if fmt.Sprint(inner) != "[0 6 13]" {
		t.Errorf("inner ring in slots %v of 20, want [0 6 13]", inner)
	}
	if len(radii) < 2 {
		t.Errorf("a crowded outer ring all at one distance: %v", radii)
	}
	if p := m.People[0]; p.Slot != 0 || p.X != centreX || p.Y >= m.CentreY {
		t.Errorf("the first inner person is at %+v, want straight above the centre", p)
	}
}

func TestCut_KeepsCharactersWhole(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"short", "Nan", "Nan"},
		{"exact", "Abcdefghij", "Abcdefghij"},
		{"long", "Abcdefghijk", "Abcdefghi…"},
		{"no space before the dots", "Mohammed Ali", "Mohammed…"},
		{"multibyte", "Zoë-Ŵŷnnë-Ållå", "Zoë-Ŵŷnnë…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cut(tc.in, nameChars); got != tc.want {
				t.Errorf("cut(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// Every relationship code of every SCT version has a group and a short
// label, and every group a style and a legend wording.
func TestRelationships_EveryCodeOfEverySCTVersionIsMapped(t *testing.T) {
	reg, err := form.Load(forms.FS())
	if err != nil {
		t.Fatal(err)
	}
	rels, words, styles := Relationships(), English(), Styles()
	versions := reg.Versions("sct")
	if len(versions) == 0 {
		t.Fatal("no SCT versions loaded")
	}
	for _, d := range versions {
		codes := d.CodeList(d.Field("nominees.relationship").Codes)
		if len(codes) == 0 {
			t.Fatalf("SCT %s has no relationship codes", d.Version)
		}
		for _, c := range codes {
			r, ok := rels[c]
			if !ok {
				t.Errorf("SCT %s: relationship %q has no group on the map", d.Version, c)
				continue
			}
			if _, ok := words[r.Short]; !ok {
				t.Errorf("relationship %q: no wording %q", c, r.Short)
			}
			if n := len([]rune(words[r.Short])); n > labelChars {
				t.Errorf("relationship %q: short label %q has %d characters, more than the %d drawn", c, words[r.Short], n, labelChars)
			}
		}
	}
	for _, g := range Groups() {
		if _, ok := styles[g]; !ok {
			t.Errorf("group %s has no style", g)
		}
		if _, ok := words["group_"+string(g)]; !ok {
			t.Errorf("group %s has no legend wording", g)
		}
	}
}

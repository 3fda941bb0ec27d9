package summary

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// sctScheme is the SCT version 1 row order; a function so no test can change it for another.
func sctScheme() Scheme {
	return Scheme{
		Relationships: []string{
			"biological_mother", "biological_father", "sibling", "grandparent", "other_relative",
			"step_parent", "foster_carer_current", "foster_family_member", "former_foster_carer",
			"friend", "school_staff", "social_care_professional", "former_professional",
			"lifelong_links_worker", "other",
		},
		Supports: []string{
			"emotional", "practical", "advice", "advocacy", "socialising", "lifelong", "trust",
			"positive_feedback",
		},
	}
}

// fixtures lists testdata files in the order the hand computations below use.
var fixtures = []string{
	"nobody.json", "skips.json", "new_support_person.json", "siblings.json",
	"out_of_range_nominee.json", "support_only.json",
}

func loadInput(t *testing.T, file string) Input {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	in, err := InputFromSCT(b)
	if err != nil {
		t.Fatalf("InputFromSCT(%s): %v", file, err)
	}
	return in
}

func loadInputs(t *testing.T, files ...string) []Input {
	t.Helper()
	ins := make([]Input, 0, len(files))
	for _, f := range files {
		ins = append(ins, loadInput(t, f))
	}
	return ins
}

func tallyOf(ins ...Input) Tally {
	var t Tally
	for _, in := range ins {
		t.Add(in)
	}
	return t
}

func pct(v float64) *float64 { return &v }

// diffValues compares got and want field by field, float64 values within a tiny tolerance,
// and says where they differ.
func diffValues(path string, got, want reflect.Value) []string {
	switch got.Kind() {
	case reflect.Pointer:
		if got.IsNil() || want.IsNil() {
			if got.IsNil() != want.IsNil() {
				return []string{fmt.Sprintf("%s: got %s, want %s", path, showPtr(got), showPtr(want))}
			}
			return nil
		}
		return diffValues(path, got.Elem(), want.Elem())
	case reflect.Float64:
		if math.Abs(got.Float()-want.Float()) > 1e-9 {
			return []string{fmt.Sprintf("%s: got %.12g, want %.12g", path, got.Float(), want.Float())}
		}
		return nil
	case reflect.Struct:
		var d []string
		for i := range got.NumField() {
			d = append(d, diffValues(path+"."+got.Type().Field(i).Name, got.Field(i), want.Field(i))...)
		}
		return d
	case reflect.Slice:
		if got.Len() != want.Len() {
			return []string{fmt.Sprintf("%s: got %d rows, want %d", path, got.Len(), want.Len())}
		}
		var d []string
		for i := range got.Len() {
			d = append(d, diffValues(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i))...)
		}
		return d
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			return []string{fmt.Sprintf("%s: got %v, want %v", path, got.Interface(), want.Interface())}
		}
		return nil
	}
}

func showPtr(v reflect.Value) string {
	if v.IsNil() {
		return "null"
	}
	return fmt.Sprint(v.Elem().Interface())
}

func assertReport(t *testing.T, got, want Report) {
	t.Helper()
	for _, d := range diffValues("Report", reflect.ValueOf(got), reflect.ValueOf(want)) {
		t.Error(d)
	}
}

func TestInputFromSCT_DerivesFixtures(t *testing.T) {
	all3 := map[string]int{
		"emotional": 3, "practical": 3, "advice": 3, "advocacy": 3, "socialising": 3,
		"lifelong": 3, "trust": 3, "positive_feedback": 3,
	}
	tests := []struct {
		name string
		file string
		want Input
	}{
		{
			name: "respondent naming nobody still answers adequacy",
			file: "nobody.json",
			want: Input{Adequacy: map[string]int{"emotional": 1, "practical": 1, "advice": 2}},
		},
		{
			name: "skipped ratings, let_down and adequacy items contribute nothing",
			file: "skips.json",
			// Two friends give one "friend"; the first key person skipped let_down.
			want: Input{
				Nominees:         4,
				Relationships:    []string{"biological_father", "biological_mother", "friend"},
				KeyPeople:        2,
				KeyRelationships: []string{"biological_mother", "friend"},
				Support: map[string][4]int{
					"emotional": {0, 0, 1, 1}, // 4 and 3
					"practical": {0, 1, 0, 0}, // 2
					"trust":     {0, 0, 0, 1}, // 4
				},
				LetDown:  [4]int{1, 0, 0, 0},
				Adequacy: map[string]int{"emotional": 3, "trust": 2},
			},
		},
		{
			name: "new support person brings their own relationship",
			file: "new_support_person.json",
			want: Input{
				Nominees:         2,
				Relationships:    []string{"foster_carer_current", "grandparent"},
				KeyPeople:        2,
				KeyRelationships: []string{"foster_carer_current", "school_staff"},
				Support: map[string][4]int{
					"emotional":         {0, 0, 1, 1},
					"practical":         {0, 0, 0, 1},
					"advice":            {0, 0, 0, 1},
					"advocacy":          {1, 0, 0, 1},
					"socialising":       {0, 0, 0, 1},
					"lifelong":          {0, 0, 0, 1},
					"trust":             {0, 0, 1, 1},
					"positive_feedback": {0, 0, 0, 1},
				},
				LetDown:  [4]int{1, 1, 0, 0},
				Adequacy: all3,
			},
		},
		{
			name: "three siblings give sibling once among nominees and among key people",
			file: "siblings.json",
			want: Input{
				Nominees:         6,
				Relationships:    []string{"biological_mother", "foster_family_member", "other", "sibling"},
				KeyPeople:        3,
				KeyRelationships: []string{"biological_mother", "sibling"},
				Support: map[string][4]int{
					"emotional":   {1, 1, 0, 1}, // 2, 1, 4
					"practical":   {1, 0, 1, 0}, // 1, 3
					"socialising": {0, 0, 1, 1}, // 4, 3
					"trust":       {0, 0, 1, 0}, // 3
					"lifelong":    {0, 0, 0, 1}, // 4
				},
				LetDown: [4]int{0, 1, 1, 1}, // 3, 4, 2
				Adequacy: map[string]int{
					"emotional": 2, "practical": 1, "advice": 3, "advocacy": 2, "socialising": 3,
					"lifelong": 3, "trust": 3, "positive_feedback": 2,
				},
			},
		},
		{
			name: "out-of-range nominee index gives no relationship but its ratings count",
			file: "out_of_range_nominee.json",
			want: Input{
				Nominees:         1,
				Relationships:    []string{"grandparent"},
				KeyPeople:        2,
				KeyRelationships: []string{"grandparent"},
				Support: map[string][4]int{
					"emotional": {0, 1, 1, 0}, // 3, and 2 from the index-7 key person
					"advice":    {0, 1, 0, 0},
				},
				LetDown:  [4]int{1, 0, 0, 1},
				Adequacy: map[string]int{"emotional": 2},
			},
		},
		{
			name: "key person without any nominees, adequacy absent",
			file: "support_only.json",
			want: Input{
				KeyPeople:        1,
				KeyRelationships: []string{"social_care_professional"},
				Support:          map[string][4]int{"emotional": {0, 0, 0, 1}, "advice": {0, 0, 0, 1}},
				LetDown:          [4]int{1, 0, 0, 0},
			},
		},
	}
	if len(tests) != len(fixtures) {
		t.Fatalf("%d cases for %d fixtures", len(tests), len(fixtures))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := loadInput(t, tt.file)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("InputFromSCT(%s)\n got %+v\nwant %+v", tt.file, got, tt.want)
			}
		})
	}
}

func TestInputFromSCT_EdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		answers string
		want    Input
	}{
		{
			name:    "nominee index takes the nominee's relationship over the key person's own",
			answers: `{"nominees":[{"relationship":"friend"}],"key_people":[{"nominee":0,"relationship":"sibling"}]}`,
			want:    Input{Nominees: 1, Relationships: []string{"friend"}, KeyPeople: 1, KeyRelationships: []string{"friend"}},
		},
		{
			name:    "negative nominee index gives no relationship",
			answers: `{"nominees":[{"relationship":"friend"}],"key_people":[{"nominee":-1,"support":{"trust":4}}]}`,
			want: Input{Nominees: 1, Relationships: []string{"friend"}, KeyPeople: 1,
				Support: map[string][4]int{"trust": {0, 0, 0, 1}}},
		},
		{
			name:    "out-of-range index does not fall back to the key person's own relationship",
			answers: `{"nominees":[{"relationship":"friend"}],"key_people":[{"nominee":3,"relationship":"sibling"}]}`,
			want:    Input{Nominees: 1, Relationships: []string{"friend"}, KeyPeople: 1},
		},
		{
			name:    "index one past the last nominee gives no relationship",
			answers: `{"nominees":[{"relationship":"friend"}],"key_people":[{"nominee":1}]}`,
			want:    Input{Nominees: 1, Relationships: []string{"friend"}, KeyPeople: 1},
		},
		{
			name:    "nominee index into an empty list gives no relationship",
			answers: `{"key_people":[{"nominee":0,"let_down":2}]}`,
			want:    Input{KeyPeople: 1, LetDown: [4]int{0, 1, 0, 0}},
		},
		{
			name:    "fractional or huge nominee index gives no relationship",
			answers: `{"nominees":[{"relationship":"friend"},{"relationship":"sibling"}],"key_people":[{"nominee":0.5},{"nominee":1e300}]}`,
			want:    Input{Nominees: 2, Relationships: []string{"friend", "sibling"}, KeyPeople: 2},
		},
		{
			name:    "integral numbers written with a decimal point are read as integers",
			answers: `{"nominees":[{"relationship":"friend"},{"relationship":"sibling"}],"key_people":[{"nominee":1.0,"support":{"trust":3.0},"let_down":1.0}],"adequacy":{"trust":2.0}}`,
			want: Input{Nominees: 2, Relationships: []string{"friend", "sibling"}, KeyPeople: 1,
				KeyRelationships: []string{"sibling"}, Support: map[string][4]int{"trust": {0, 0, 1, 0}},
				LetDown: [4]int{1, 0, 0, 0}, Adequacy: map[string]int{"trust": 2}},
		},
		{
			name:    "relationships are distinct and sorted",
			answers: `{"nominees":[{"relationship":"sibling"},{"relationship":"friend"},{"relationship":"sibling"},{"relationship":"biological_mother"},{"relationship":"friend"}],"key_people":[{"nominee":0},{"nominee":2},{"name":"Jo","relationship":"friend"}]}`,
			want: Input{Nominees: 5, Relationships: []string{"biological_mother", "friend", "sibling"},
				KeyPeople: 3, KeyRelationships: []string{"friend", "sibling"}},
		},
		{
			name:    "nominee and key person without a relationship count but add no code",
			answers: `{"nominees":[{"name":"X"}],"key_people":[{"name":"Y"}]}`,
			want:    Input{Nominees: 1, KeyPeople: 1},
		},
		{
			name:    "other is a relationship code like any other",
			answers: `{"nominees":[{"relationship":"other","other_text":"neighbour"}],"key_people":[{"nominee":0}]}`,
			want:    Input{Nominees: 1, Relationships: []string{"other"}, KeyPeople: 1, KeyRelationships: []string{"other"}},
		},
		{
			name:    "null ratings, let_down and adequacy are skipped",
			answers: `{"key_people":[{"support":{"trust":null,"advice":1},"let_down":null}],"adequacy":{"emotional":null}}`,
			want:    Input{KeyPeople: 1, Support: map[string][4]int{"advice": {1, 0, 0, 0}}},
		},
		{
			name:    "values off the scale are skipped",
			answers: `{"key_people":[{"support":{"trust":5,"advice":0,"emotional":2.5},"let_down":9}],"adequacy":{"emotional":4,"trust":0,"advice":-1}}`,
			want:    Input{KeyPeople: 1},
		},
		{
			name:    "empty object gives an empty input",
			answers: `{}`,
			want:    Input{},
		},
		{
			name:    "JSON null gives an empty input",
			answers: `null`,
			want:    Input{},
		},
		{
			name:    "unknown fields are ignored",
			answers: `{"nominees":[{"relationship":"friend","age":12}],"comment":"x"}`,
			want:    Input{Nominees: 1, Relationships: []string{"friend"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InputFromSCT([]byte(tt.answers))
			if err != nil {
				t.Fatalf("InputFromSCT: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestInputFromSCT_RejectsUndecodableJSON(t *testing.T) {
	tests := []struct {
		name    string
		answers []byte
	}{
		{name: "nil bytes", answers: nil},
		{name: "empty bytes", answers: []byte{}},
		{name: "truncated object", answers: []byte(`{"nominees":[`)},
		{name: "not JSON", answers: []byte(`nominees: 3`)},
		{name: "array instead of object", answers: []byte(`[]`)},
		{name: "nominees as an object", answers: []byte(`{"nominees":{}}`)},
		{name: "rating as a string", answers: []byte(`{"key_people":[{"support":{"trust":"3"}}]}`)},
		{name: "nominee index as a string", answers: []byte(`{"key_people":[{"nominee":"0"}]}`)},
		{name: "adequacy as a list", answers: []byte(`{"adequacy":[3,3]}`)},
		{name: "trailing garbage", answers: []byte(`{} {}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InputFromSCT(tt.answers)
			if err == nil {
				t.Fatalf("InputFromSCT(%q) = %+v, want an error", tt.answers, got)
			}
			if !reflect.DeepEqual(got, Input{}) {
				t.Errorf("on error got %+v, want the zero Input", got)
			}
		})
	}
}

// allFixturesReport is worked out by hand from the six fixtures.
//
// respondents: 6.
//
// nominees: 4 respondents named anyone (nobody and support_only did not): sizes 4, 2, 6, 1.
// Σx = 13, mean = 13/4 = 3.25. Deviations 0.75, −1.25, 2.75, −2.25; squares
// 0.5625 + 1.5625 + 7.5625 + 5.0625 = 14.75; sd = sqrt(14.75/3) = sqrt(59/12) ≈ 2.2174.
// (Integer check: Σx² = 16+4+36+1 = 57; (4·57 − 13²)/(4·3) = 59/12.)
// By relationship, base 4: biological_mother skips+siblings 2 → 50%; biological_father 1;
// sibling 1 (three siblings, one respondent); grandparent new_support_person+out_of_range 2
// → 50%; foster_carer_current 1; foster_family_member 1; friend 1 (two friends); other 1;
// each 1 → 25%. school_staff and social_care_professional are key people only → 0.
//
// key people: base 5 (all but nobody). biological_mother skips+siblings 2 → 40%; sibling,
// grandparent (the index-7 key person adds nothing), foster_carer_current, friend,
// school_staff (new support person), social_care_professional 1 each → 20%.
//
// availability, ratings 1..4 summed over fixtures:
//
//	emotional   skips 0011 + new 0011 + sib 1101 + oor 0110 + only 0001 = [1 2 3 4]: base 10, p/d 7 (70%), n/n 3 (30%)
//	practical   skips 0100 + new 0001 + sib 1010                         = [1 1 1 1]: base 4, p/d 2 (50%), n/n 2 (50%)
//	advice      new 0001 + oor 0100 + only 0001                          = [0 1 0 2]: base 3, p/d 2 (66.67%), n/n 1 (33.33%)
//	advocacy    new 1001                                                 = [1 0 0 1]: base 2, p/d 1 (50%), n/n 1 (50%)
//	socialising new 0001 + sib 0011                                      = [0 0 1 2]: base 3, p/d 3 (100%), n/n 0
//	lifelong    new 0001 + sib 0001                                      = [0 0 0 2]: base 2, p/d 2 (100%), n/n 0
//	trust       skips 0001 + new 0011 + sib 0010                         = [0 0 2 2]: base 4, p/d 4 (100%), n/n 0
//	positive_feedback new 0001                                           = [0 0 0 1]: base 1, p/d 1 (100%), n/n 0
//
// strain: let_down skips [1 0 0 0] (one skipped) + new [1 1 0 0] + sib [0 1 1 1] +
// oor [1 0 0 1] + only [1 0 0 0] = [4 2 1 2]: base 9, n/n 6 (66.67%), p/d 3 (33.33%).
//
// adequacy, answers by respondent (nobody, skips, new, sib, oor; support_only skipped all):
//
//	emotional   1,3,3,2,2 → total 5: no one 1 (20%), too few 2 (40%), enough 2 (40%), no one+too few 3 (60%)
//	practical   1,–,3,1,– → total 3: 2 (66.67%), 0 (0%), 1 (33.33%), 2 (66.67%)
//	advice      2,–,3,3,– → total 3: 0, 1 (33.33%), 2 (66.67%), 1 (33.33%)
//	advocacy    –,–,3,2,– → total 2: 0, 1 (50%), 1 (50%), 1 (50%)
//	socialising –,–,3,3,– → total 2: 0, 0, 2 (100%), 0
//	lifelong    –,–,3,3,– → total 2: 0, 0, 2 (100%), 0
//	trust       –,2,3,3,– → total 3: 0, 1 (33.33%), 2 (66.67%), 1 (33.33%)
//	positive_feedback –,–,3,2,– → total 2: 0, 1 (50%), 1 (50%), 1 (50%)
func allFixturesReport() Report {
	zero, quarter, half, fifth, twoFifths := pct(0), pct(25), pct(50), pct(20), pct(40)
	third, twoThirds, all := pct(100.0/3), pct(200.0/3), pct(100)
	return Report{
		Timepoint:   "baseline",
		Respondents: 6,
		Nominees: NomineeSummary{
			Base: 4, Mean: pct(3.25), SD: pct(math.Sqrt(59.0 / 12)),
			ByRelationship: []RelationshipRow{
				{"biological_mother", 2, half},
				{"biological_father", 1, quarter},
				{"sibling", 1, quarter},
				{"grandparent", 2, half},
				{"other_relative", 0, zero},
				{"step_parent", 0, zero},
				{"foster_carer_current", 1, quarter},
				{"foster_family_member", 1, quarter},
				{"former_foster_carer", 0, zero},
				{"friend", 1, quarter},
				{"school_staff", 0, zero},
				{"social_care_professional", 0, zero},
				{"former_professional", 0, zero},
				{"lifelong_links_worker", 0, zero},
				{"other", 1, quarter},
			},
		},
		KeyPeople: KeyPeopleSummary{
			Base: 5,
			ByRelationship: []RelationshipRow{
				{"biological_mother", 2, twoFifths},
				{"biological_father", 0, zero},
				{"sibling", 1, fifth},
				{"grandparent", 1, fifth},
				{"other_relative", 0, zero},
				{"step_parent", 0, zero},
				{"foster_carer_current", 1, fifth},
				{"foster_family_member", 0, zero},
				{"former_foster_carer", 0, zero},
				{"friend", 1, fifth},
				{"school_staff", 1, fifth},
				{"social_care_professional", 1, fifth},
				{"former_professional", 0, zero},
				{"lifelong_links_worker", 0, zero},
				{"other", 0, zero},
			},
		},
		Availability: []AvailabilityRow{
			{"emotional", 10, 7, pct(70), 3, pct(30)},
			{"practical", 4, 2, half, 2, half},
			{"advice", 3, 2, twoThirds, 1, third},
			{"advocacy", 2, 1, half, 1, half},
			{"socialising", 3, 3, all, 0, zero},
			{"lifelong", 2, 2, all, 0, zero},
			{"trust", 4, 4, all, 0, zero},
			{"positive_feedback", 1, 1, all, 0, zero},
		},
		Strain: StrainSummary{
			Base: 9, NotAtAllOrNotReally: 6, ProbablyOrDefinitely: 3,
			NotAtAllOrNotReallyPercent: twoThirds, ProbablyOrDefinitelyPercent: third,
		},
		Adequacy: []AdequacyRow{
			{"emotional", 5, Share{Count: 1, Percent: fifth}, Share{Count: 2, Percent: twoFifths}, Share{Count: 2, Percent: twoFifths}, Share{Count: 3, Percent: pct(60)}},
			{"practical", 3, Share{Count: 2, Percent: twoThirds}, Share{Count: 0, Percent: zero}, Share{Count: 1, Percent: third}, Share{Count: 2, Percent: twoThirds}},
			{"advice", 3, Share{Count: 0, Percent: zero}, Share{Count: 1, Percent: third}, Share{Count: 2, Percent: twoThirds}, Share{Count: 1, Percent: third}},
			{"advocacy", 2, Share{Count: 0, Percent: zero}, Share{Count: 1, Percent: half}, Share{Count: 1, Percent: half}, Share{Count: 1, Percent: half}},
			{"socialising", 2, Share{Count: 0, Percent: zero}, Share{Count: 0, Percent: zero}, Share{Count: 2, Percent: all}, Share{Count: 0, Percent: zero}},
			{"lifelong", 2, Share{Count: 0, Percent: zero}, Share{Count: 0, Percent: zero}, Share{Count: 2, Percent: all}, Share{Count: 0, Percent: zero}},
			{"trust", 3, Share{Count: 0, Percent: zero}, Share{Count: 1, Percent: third}, Share{Count: 2, Percent: twoThirds}, Share{Count: 1, Percent: third}},
			{"positive_feedback", 2, Share{Count: 0, Percent: zero}, Share{Count: 1, Percent: half}, Share{Count: 1, Percent: half}, Share{Count: 1, Percent: half}},
		},
	}
}

// emptyReport is what a report over no answered items looks like: a row for every scheme
// entry, zero counts, and null wherever a share or mean would divide by zero.
func emptyReport(timepoint string, respondents int) Report {
	s := sctScheme()
	r := Report{
		Timepoint: timepoint, Respondents: respondents,
		Nominees:  NomineeSummary{ByRelationship: []RelationshipRow{}},
		KeyPeople: KeyPeopleSummary{ByRelationship: []RelationshipRow{}},
	}
	for _, rel := range s.Relationships {
		r.Nominees.ByRelationship = append(r.Nominees.ByRelationship, RelationshipRow{Relationship: rel})
		r.KeyPeople.ByRelationship = append(r.KeyPeople.ByRelationship, RelationshipRow{Relationship: rel})
	}
	for _, sup := range s.Supports {
		r.Availability = append(r.Availability, AvailabilityRow{Support: sup})
		r.Adequacy = append(r.Adequacy, AdequacyRow{Support: sup})
	}
	return r
}

func TestSCT_HandComputedFixtures(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  func() Report
	}{
		{
			name:  "all fixtures give the hand-computed report",
			files: fixtures,
			want:  allFixturesReport,
		},
		{
			name:  "only respondents naming nobody give null nominee mean and sd",
			files: []string{"nobody.json", "support_only.json"},
			// Nominee base 0; key people base 1 (support_only): social_care_professional 1 → 100%.
			// Emotional ratings [0 0 0 1], advice [0 0 0 1]; let_down [1 0 0 0].
			// Adequacy from nobody only: emotional 1, practical 1, advice 2, each total 1.
			want: func() Report {
				r := emptyReport("baseline", 2)
				for i := range r.Nominees.ByRelationship {
					r.Nominees.ByRelationship[i].Percent = nil
					r.KeyPeople.ByRelationship[i].Percent = pct(0)
				}
				r.KeyPeople.Base = 1
				r.KeyPeople.ByRelationship[11] = RelationshipRow{"social_care_professional", 1, pct(100)}
				r.Availability[0] = AvailabilityRow{"emotional", 1, 1, pct(100), 0, pct(0)}
				r.Availability[2] = AvailabilityRow{"advice", 1, 1, pct(100), 0, pct(0)}
				r.Strain = StrainSummary{1, 1, 0, pct(100), pct(0)}
				r.Adequacy[0] = AdequacyRow{"emotional", 1, Share{Count: 1, Percent: pct(100)}, Share{Count: 0, Percent: pct(0)}, Share{Count: 0, Percent: pct(0)}, Share{Count: 1, Percent: pct(100)}}
				r.Adequacy[1] = AdequacyRow{"practical", 1, Share{Count: 1, Percent: pct(100)}, Share{Count: 0, Percent: pct(0)}, Share{Count: 0, Percent: pct(0)}, Share{Count: 1, Percent: pct(100)}}
				r.Adequacy[2] = AdequacyRow{"advice", 1, Share{Count: 0, Percent: pct(0)}, Share{Count: 1, Percent: pct(100)}, Share{Count: 0, Percent: pct(0)}, Share{Count: 1, Percent: pct(100)}}
				return r
			},
		},
		{
			name:  "one respondent naming anyone gives a mean but a null sd",
			files: []string{"out_of_range_nominee.json"},
			// One nominee (grandparent): base 1, mean 1, sd null (n < 2).
			// Key people base 1: grandparent 1 → 100%. Emotional [0 1 1 0] base 2 → 50/50;
			// advice [0 1 0 0] base 1 → 0/100. let_down [1 0 0 1] → 50/50. Emotional adequacy 2.
			want: func() Report {
				r := emptyReport("follow_up", 1)
				r.Nominees.Base, r.Nominees.Mean = 1, pct(1)
				r.KeyPeople.Base = 1
				for i := range r.Nominees.ByRelationship {
					r.Nominees.ByRelationship[i].Percent = pct(0)
					r.KeyPeople.ByRelationship[i].Percent = pct(0)
				}
				r.Nominees.ByRelationship[3] = RelationshipRow{"grandparent", 1, pct(100)}
				r.KeyPeople.ByRelationship[3] = RelationshipRow{"grandparent", 1, pct(100)}
				r.Availability[0] = AvailabilityRow{"emotional", 2, 1, pct(50), 1, pct(50)}
				r.Availability[2] = AvailabilityRow{"advice", 1, 0, pct(0), 1, pct(100)}
				r.Strain = StrainSummary{2, 1, 1, pct(50), pct(50)}
				r.Adequacy[0] = AdequacyRow{"emotional", 1, Share{Count: 0, Percent: pct(0)}, Share{Count: 1, Percent: pct(100)}, Share{Count: 0, Percent: pct(0)}, Share{Count: 1, Percent: pct(100)}}
				return r
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timepoint := tt.want().Timepoint
			got := SCT(timepoint, sctScheme(), tallyOf(loadInputs(t, tt.files...)...))
			assertReport(t, got, tt.want())
		})
	}
}

func TestSCT_EmptyTallyHasRowsAndNulls(t *testing.T) {
	tests := []struct {
		name  string
		tally Tally
		want  Report
	}{
		{name: "zero tally", tally: Tally{}, want: emptyReport("baseline", 0)},
		{
			name:  "respondents who answered nothing",
			tally: tallyOf(Input{}, Input{}, Input{}),
			want:  emptyReport("baseline", 3),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SCT("baseline", sctScheme(), tt.tally)
			assertReport(t, got, tt.want)

			b, err := json.Marshal(got)
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			for _, want := range []string{`"mean":null`, `"sd":null`, `"percent":null`, `"probably_or_definitely_percent":null`} {
				if !strings.Contains(string(b), want) {
					t.Errorf("JSON lacks %s: %s", want, b)
				}
			}
		})
	}
}

func TestSCT_EmptySchemeGivesEmptyListsNotNull(t *testing.T) {
	got := SCT("baseline", Scheme{}, tallyOf(loadInputs(t, fixtures...)...))
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"by_relationship":[]`, `"availability":[]`, `"adequacy":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
}

func TestSCT_IgnoresCodesOutsideSchemeAndOffScaleValues(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want Report
	}{
		{
			name: "unknown relationship and support codes get no row but the respondent is in the base",
			in: Input{
				Nominees: 2, Relationships: []string{"martian"},
				KeyPeople: 1, KeyRelationships: []string{"martian"},
				Support:  map[string][4]int{"telepathy": {0, 0, 0, 1}},
				Adequacy: map[string]int{"telepathy": 3},
			},
			// base 1, mean 2, sd null; every scheme row 0 of 1 → 0%.
			want: func() Report {
				r := emptyReport("baseline", 1)
				r.Nominees.Base, r.Nominees.Mean, r.KeyPeople.Base = 1, pct(2), 1
				for i := range r.Nominees.ByRelationship {
					r.Nominees.ByRelationship[i].Percent = pct(0)
					r.KeyPeople.ByRelationship[i].Percent = pct(0)
				}
				return r
			}(),
		},
		{
			name: "adequacy off the scale, negative counts and relationships outside the base are not counted",
			in: Input{
				Nominees: 0, Relationships: []string{"friend"},
				KeyPeople: -1, KeyRelationships: []string{"friend"},
				Support:  map[string][4]int{"trust": {-3, 0, 0, 0}},
				LetDown:  [4]int{-1, 0, 0, 0},
				Adequacy: map[string]int{"emotional": 0, "trust": 4},
			},
			want: emptyReport("baseline", 1),
		},
		{
			name: "a relationship listed twice counts once",
			in:   Input{Nominees: 2, Relationships: []string{"sibling", "sibling"}},
			want: func() Report {
				r := emptyReport("baseline", 1)
				r.Nominees.Base, r.Nominees.Mean = 1, pct(2)
				for i := range r.Nominees.ByRelationship {
					r.Nominees.ByRelationship[i].Percent = pct(0)
				}
				r.Nominees.ByRelationship[2] = RelationshipRow{"sibling", 1, pct(100)}
				return r
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertReport(t, SCT("baseline", sctScheme(), tallyOf(tt.in)), tt.want)
		})
	}
}

func TestTally_MergeEqualsAddingAll(t *testing.T) {
	ins := loadInputs(t, fixtures...)
	tests := []struct {
		name   string
		splits [][]Input // each becomes its own tally, merged in turn into a zero tally
	}{
		{name: "two halves", splits: [][]Input{ins[:3], ins[3:]}},
		{name: "uneven halves", splits: [][]Input{ins[:1], ins[1:]}},
		{name: "everything in one tally, an empty one merged in", splits: [][]Input{ins, nil}},
		{name: "an empty tally, then everything", splits: [][]Input{nil, ins}},
		{name: "one tally per response", splits: [][]Input{ins[:1], ins[1:2], ins[2:3], ins[3:4], ins[4:5], ins[5:]}},
		{name: "interleaved", splits: [][]Input{{ins[0], ins[2], ins[4]}, {ins[5], ins[3], ins[1]}}},
		{name: "nothing at all", splits: [][]Input{nil, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var all []Input
			var merged Tally
			for _, part := range tt.splits {
				all = append(all, part...)
				merged.Merge(tallyOf(part...))
			}
			want := tallyOf(all...)
			if !reflect.DeepEqual(merged, want) {
				t.Errorf("merged tally\n got %+v\nwant %+v", merged, want)
			}
			assertReport(t, SCT("baseline", sctScheme(), merged), SCT("baseline", sctScheme(), want))
		})
	}
}

func TestTally_MergeDoesNotShareMaps(t *testing.T) {
	ins := loadInputs(t, fixtures...)
	src := tallyOf(ins...)
	var dst Tally
	dst.Merge(src)
	dst.Add(ins[3])
	if !reflect.DeepEqual(src, tallyOf(ins...)) {
		t.Errorf("adding to the merged tally changed the source: %+v", src)
	}
}

func TestTally_MergeIntoItselfDoubles(t *testing.T) {
	ins := loadInputs(t, fixtures...)
	got := tallyOf(ins...)
	got.Merge(got)
	want := tallyOf(append(slices.Clone(ins), ins...)...)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
}

func TestTally_SurvivesJSONRoundTrip(t *testing.T) {
	want := tallyOf(loadInputs(t, fixtures...)...)
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got Tally
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
}

func repeat(n int, in Input) []Input {
	ins := make([]Input, n)
	for i := range ins {
		ins[i] = in
	}
	return ins
}

// TestSCT_ReproducesReportRows rebuilds rows of the November 2020 report from synthetic
// respondents and checks the exact percentages behind its rounded figures.
func TestSCT_ReproducesReportRows(t *testing.T) {
	tests := []struct {
		name  string
		ins   []Input
		check func(t *testing.T, r Report)
	}{
		{
			// Table 4, emotional: 144 of 160 respondents answered; 5 no one, 11 too few, 128 enough.
			// 500/144 = 3.4722…, 1100/144 = 7.6388…, 12800/144 = 88.888…, (5+11)·100/144 = 11.111….
			// The table prints 4, 8, 89; 3.47 rounds to 3, so its "4" is the report's own rounding.
			name: "Table 4 emotional row",
			ins: slices.Concat(
				repeat(5, Input{Adequacy: map[string]int{"emotional": 1}}),
				repeat(11, Input{Adequacy: map[string]int{"emotional": 2}}),
				repeat(128, Input{Adequacy: map[string]int{"emotional": 3}}),
				repeat(16, Input{Adequacy: map[string]int{"practical": 3}}),
			),
			check: func(t *testing.T, r Report) {
				if r.Respondents != 160 {
					t.Errorf("respondents = %d, want 160", r.Respondents)
				}
				want := AdequacyRow{"emotional", 144,
					Share{Count: 5, Percent: pct(500.0 / 144)}, Share{Count: 11, Percent: pct(1100.0 / 144)},
					Share{Count: 128, Percent: pct(12800.0 / 144)}, Share{Count: 16, Percent: pct(1600.0 / 144)}}
				for _, d := range diffValues("emotional", reflect.ValueOf(r.Adequacy[0]), reflect.ValueOf(want)) {
					t.Error(d)
				}
				for _, p := range []struct {
					got  *float64
					want float64
				}{{r.Adequacy[0].NoOne.Percent, 3.4722222222}, {r.Adequacy[0].TooFew.Percent, 7.6388888889}, {r.Adequacy[0].Enough.Percent, 88.8888888889}} {
					if math.Abs(*p.got-p.want) > 1e-9 {
						t.Errorf("percent = %.10f, want %.10f", *p.got, p.want)
					}
				}
			},
		},
		{
			// Table 3, biological mother: 93 of the 157 respondents who named anyone (3 of 160
			// named nobody). 9300/157 = 59.2356…, printed as 59.
			name: "Table 3 biological mother row",
			ins: slices.Concat(
				repeat(93, Input{Nominees: 9, Relationships: []string{"biological_mother", "sibling"}}),
				repeat(64, Input{Nominees: 9, Relationships: []string{"foster_carer_current"}}),
				repeat(3, Input{}),
			),
			check: func(t *testing.T, r Report) {
				if r.Respondents != 160 || r.Nominees.Base != 157 {
					t.Errorf("respondents, base = %d, %d, want 160, 157", r.Respondents, r.Nominees.Base)
				}
				got := r.Nominees.ByRelationship[0]
				if got.Relationship != "biological_mother" || got.Count != 93 {
					t.Fatalf("row = %s %d, want biological_mother 93", got.Relationship, got.Count)
				}
				if math.Abs(*got.Percent-59.2356687898) > 1e-9 || math.Round(*got.Percent) != 59 {
					t.Errorf("percent = %.10f, want 59.2356687898 (59 rounded)", *got.Percent)
				}
				// Every one of the 157 named 9 people: mean 9, sd 0.
				if *r.Nominees.Mean != 9 || *r.Nominees.SD != 0 {
					t.Errorf("mean, sd = %v, %v, want 9, 0", *r.Nominees.Mean, *r.Nominees.SD)
				}
			},
		},
		{
			// Availability and strain: 120 respondents with 5 key people each, 600 ratings per item.
			// Emotional: 102+10+2 respondents rate {1,0,2,2} and 6 rate {0,0,1,4}:
			// not at all/not really 114, probably/definitely 408+40+8+30 = 486 → 486/600 = 81%, as reported.
			// Strain: 102 × {3,2,0,0} gives 510 of 1 or 2; 10 × {0,0,2,1} gives 30 of 3 or 4; the other
			// 10×2 + 8×5 = 60 let_down items are skipped. The report's 85% and 5% are 510/600 and
			// 30/600 and do not add to 100, so its base was not the answered ratings; the contract's
			// base is, giving 540: 51000/540 = 94.44…% and 3000/540 = 5.55…%.
			name: "availability emotional row and strain over answered ratings",
			ins: slices.Concat(
				repeat(102, Input{KeyPeople: 5, Support: map[string][4]int{"emotional": {1, 0, 2, 2}}, LetDown: [4]int{3, 2, 0, 0}}),
				repeat(10, Input{KeyPeople: 5, Support: map[string][4]int{"emotional": {1, 0, 2, 2}}, LetDown: [4]int{0, 0, 2, 1}}),
				repeat(2, Input{KeyPeople: 5, Support: map[string][4]int{"emotional": {1, 0, 2, 2}}}),
				repeat(6, Input{KeyPeople: 5, Support: map[string][4]int{"emotional": {0, 0, 1, 4}}}),
			),
			check: func(t *testing.T, r Report) {
				if r.Respondents != 120 || r.KeyPeople.Base != 120 {
					t.Errorf("respondents, key people base = %d, %d, want 120, 120", r.Respondents, r.KeyPeople.Base)
				}
				wantEmotional := AvailabilityRow{"emotional", 600, 486, pct(81), 114, pct(19)}
				for _, d := range diffValues("availability", reflect.ValueOf(r.Availability[0]), reflect.ValueOf(wantEmotional)) {
					t.Error(d)
				}
				wantStrain := StrainSummary{540, 510, 30, pct(51000.0 / 540), pct(3000.0 / 540)}
				for _, d := range diffValues("strain", reflect.ValueOf(r.Strain), reflect.ValueOf(wantStrain)) {
					t.Error(d)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, SCT("baseline", sctScheme(), tallyOf(tt.ins...)))
		})
	}
}

func TestReport_JSONFieldNamesFollowTheContract(t *testing.T) {
	b, err := json.Marshal(SCT("baseline", sctScheme(), tallyOf(loadInputs(t, fixtures...)...)))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	obj := func(v any) map[string]any { m, _ := v.(map[string]any); return m }
	first := func(v any) map[string]any {
		if l, _ := v.([]any); len(l) > 0 {
			return obj(l[0])
		}
		return nil
	}
	nominees, keyPeople, adequacy := obj(doc["nominees"]), obj(doc["key_people"]), first(doc["adequacy"])
	tests := []struct {
		name string
		obj  map[string]any
		keys []string
	}{
		{"report", doc, []string{"timepoint", "respondents", "nominees", "key_people", "availability", "strain", "adequacy"}},
		{"nominees", nominees, []string{"base", "mean", "sd", "by_relationship"}},
		{"nominee row", first(nominees["by_relationship"]), []string{"relationship", "count", "percent"}},
		{"key people", keyPeople, []string{"base", "by_relationship"}},
		{"key person row", first(keyPeople["by_relationship"]), []string{"relationship", "count", "percent"}},
		{"availability row", first(doc["availability"]), []string{"support", "base", "probably_or_definitely", "percent", "not_at_all_or_not_really", "not_at_all_or_not_really_percent"}},
		{"strain", obj(doc["strain"]), []string{"base", "not_at_all_or_not_really", "probably_or_definitely", "not_at_all_or_not_really_percent", "probably_or_definitely_percent"}},
		{"adequacy row", adequacy, []string{"support", "total", "no_one", "too_few", "enough", "no_one_or_too_few"}},
		{"adequacy share", obj(adequacy["no_one"]), []string{"count", "percent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make([]string, 0, len(tt.obj))
			for k := range tt.obj {
				got = append(got, k)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.keys))
			if !slices.Equal(got, want) {
				t.Errorf("keys = %v, want %v", got, want)
			}
		})
	}
}

// FuzzInputFromSCT checks that no input, however malformed, makes derivation or reporting
// panic, and that whatever is derived stays inside its bases.
func FuzzInputFromSCT(f *testing.F) {
	for _, file := range fixtures {
		b, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"key_people":[{"nominee":-9e99,"support":{"x":1e400}}]}`))
	f.Fuzz(func(t *testing.T, answers []byte) {
		in, err := InputFromSCT(answers)
		if err != nil {
			return
		}
		r := SCT("baseline", sctScheme(), tallyOf(in, in))
		for _, row := range slices.Concat(r.Nominees.ByRelationship, r.KeyPeople.ByRelationship) {
			if row.Percent != nil && (*row.Percent < 0 || *row.Percent > 100) {
				t.Errorf("%s percent %v out of 0..100", row.Relationship, *row.Percent)
			}
		}
		if _, err := json.Marshal(r); err != nil {
			t.Errorf("report does not encode: %v", err)
		}
	})
}

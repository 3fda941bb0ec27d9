package netmap

import (
	"encoding/json"
	"strings"
	"testing"
)

var supports = []string{"emotional", "practical", "advice", "advocacy", "socialising", "lifelong", "trust", "positive_feedback"}

func sct(t *testing.T, id, answers string) SCT {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(answers), &m); err != nil {
		t.Fatal(err)
	}
	a, err := Decode(m)
	if err != nil {
		t.Fatal(err)
	}
	return SCT{ResponseID: id, Timepoint: "baseline", Wave: 1, CompletedOn: "2019-06-14", Answers: a}
}

func TestCompare_ThenAndNow(t *testing.T) {
	base := sct(t, "b", `{"nominees":[{"name":"Nan","relationship":"grandparent"},{"name":"Mum","relationship":"biological_mother"},
		{"name":"Jo","relationship":"friend"},{"name":"","relationship":"sibling"}],
		"key_people":[{"nominee":0,"reason":"important","support":{"emotional":4,"practical":2}},
		              {"name":"Mr K","relationship":"school_staff","reason":"support","support":{"emotional":3}}],
		"adequacy":{"emotional":2,"practical":3}}`)
	fu := sct(t, "f", `{"nominees":[{"name":"  nan ","relationship":"grandparent"},{"name":"Pat","relationship":"foster_carer_current"},
		{"name":"Ali","relationship":"friend"},{"name":"MR K","relationship":"school_staff"},{"name":"Sam","relationship":"sibling"}],
		"key_people":[{"nominee":1,"reason":"important","support":{"emotional":4,"practical":4}},
		              {"nominee":0,"reason":"important","support":{"emotional":1}},
		              {"nominee":3,"reason":"support","support":{"emotional":3,"practical":3}}],
		"adequacy":{"emotional":3,"practical":1,"trust":2}}`)
	fu.Timepoint, fu.Wave, fu.CompletedOn = "follow_up", 2, "2020-01-10"

	c := Compare(base, &fu, supports, true)
	ch := c.Changes
	if ch == nil || c.FollowUp == nil {
		t.Fatalf("no changes: %+v", c)
	}
	if c.Baseline.NetworkSize != 4 || c.FollowUp.NetworkSize != 5 || ch.NetworkSize != 1 {
		t.Errorf("network size %d → %d (%+d)", c.Baseline.NetworkSize, c.FollowUp.NetworkSize, ch.NetworkSize)
	}
	groups := map[Group]GroupChange{}
	for _, g := range ch.ByGroup {
		groups[g.Group] = g
	}
	if g := groups[Family]; g.Baseline != 3 || g.FollowUp != 2 || g.Change != -1 {
		t.Errorf("family %+v", g)
	}
	if g := groups[FosterFamily]; g.Baseline != 0 || g.FollowUp != 1 {
		t.Errorf("foster family %+v", g)
	}
	if len(ch.ByGroup) != len(Groups()) {
		t.Errorf("%d groups, want all %d", len(ch.ByGroup), len(Groups()))
	}
	if ch.KeyPeople != 1 || c.Baseline.KeyPeople[1].Name != "Mr K" || c.FollowUp.KeyPeople[0].Name != "Pat" {
		t.Errorf("key people %+v → %+v", c.Baseline.KeyPeople, c.FollowUp.KeyPeople)
	}
	if s := ch.Support[0]; s.Support != "emotional" || s.Baseline != 2 || s.FollowUp != 2 || s.Change != 0 {
		t.Errorf("emotional %+v", s)
	}
	if s := ch.Support[1]; s.Support != "practical" || s.Baseline != 0 || s.FollowUp != 2 {
		t.Errorf("practical %+v", s)
	}
	if s := c.FollowUp.Support[0]; s.Rated != 3 || s.People != 2 {
		t.Errorf("follow-up emotional %+v, want 2 of 3 rated", s)
	}
	want := map[string]string{"emotional": "too_few enough better", "practical": "enough no_one worse", "trust": " too_few not_known", "advice": "  not_known"}
	for _, a := range ch.Adequacy {
		if w, ok := want[a.Support]; ok && a.Baseline+" "+a.FollowUp+" "+a.Direction != w {
			t.Errorf("adequacy %s: %+v, want %s", a.Support, a, w)
		}
	}
	// Nan and Mr K (a supporter not on the list at baseline) are kept; the
	// unnamed sibling matches nobody.
	if ch.Kept.Count != 2 || strings.Join(ch.Kept.Names, ",") != "nan,MR K" || ch.New != 3 || ch.NotNamedAgain != 2 {
		t.Errorf("kept %+v, new %d, not named again %d; want nan and MR K kept, 3 new, 2 not named again", ch.Kept, ch.New, ch.NotNamedAgain)
	}
	if !strings.Contains(c.Matching, "by name only") {
		t.Errorf("matching %q", c.Matching)
	}

	t.Run("without names", func(t *testing.T) {
		c := Compare(base, &fu, supports, false)
		b, _ := json.Marshal(c)
		for _, name := range []string{"Nan", "nan", "Mum", "Jo", "Mr K", "MR K", "Pat", "Ali", "Sam"} {
			if strings.Contains(string(b), `"`+name+`"`) {
				t.Errorf("the comparison without names holds %q: %s", name, b)
			}
		}
		if c.Changes.Kept.Count != 2 {
			t.Errorf("kept %+v; the count stays without names", c.Changes.Kept)
		}
	})
	t.Run("no follow-up yet", func(t *testing.T) {
		c := Compare(base, nil, supports, true)
		b, _ := json.Marshal(c)
		if c.FollowUp != nil || c.Changes != nil || !strings.Contains(string(b), `"follow_up":null`) {
			t.Errorf("without a follow-up: %s", b)
		}
	})
}

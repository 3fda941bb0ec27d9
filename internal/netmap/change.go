package netmap

import (
	"strings"

	"github.com/lifelong-links/sct/internal/form"
)

// Matching says how then-and-now finds the same person at both timepoints.
const Matching = "by name only: the same name at both, after trimming spaces and ignoring case; two people with one name count as one match each, and a person whose name changed is not matched"

// SCT is one submitted SCT of a child, as then-and-now reads it.
type SCT struct {
	ResponseID  string
	Timepoint   string
	Wave        int
	CompletedOn string
	Answers     Answers
}

// Snapshot is one SCT summed up for then-and-now.
type Snapshot struct {
	ResponseID  string `json:"response_id"`
	Timepoint   string `json:"timepoint"`
	Wave        int    `json:"wave"`
	CompletedOn string `json:"completed_on"`
	// NetworkSize is the number of people named as important (as the
	// evaluation's network size counts them).
	NetworkSize int          `json:"network_size"`
	ByGroup     []GroupCount `json:"by_group"`
	KeyPeople   []KeyPerson  `json:"key_people"`
	Support     []Support    `json:"support"`
	Adequacy    []Adequacy   `json:"adequacy"`
}

// GroupCount is how many important people are of one group.
type GroupCount struct {
	Group Group `json:"group"`
	Count int   `json:"count"`
}

// KeyPerson is one of the up to 5 key people.
type KeyPerson struct {
	Name         string `json:"name,omitempty"`
	Relationship string `json:"relationship"`
	Group        Group  `json:"group"`
	Reason       string `json:"reason"`
}

// Support is, for one kind of support, how many key people the young
// person would probably or definitely turn to, of those rated for it.
type Support struct {
	Support string `json:"support"`
	People  int    `json:"people"`
	Rated   int    `json:"rated"`
}

// Adequacy is the answer to one "enough people" item: no_one, too_few or
// enough, or empty when skipped.
type Adequacy struct {
	Support string `json:"support"`
	Answer  string `json:"answer,omitempty"`
}

// Change is then and now: a child's baseline, their latest follow-up (nil
// until there is one) and what changed between them (nil likewise).
type Change struct {
	Matching string    `json:"matching"`
	Baseline Snapshot  `json:"baseline"`
	FollowUp *Snapshot `json:"follow_up"`
	Changes  *Changes  `json:"changes"`
}

// Changes is what changed from the baseline to the follow-up.
type Changes struct {
	NetworkSize int              `json:"network_size"` // follow-up minus baseline
	ByGroup     []GroupChange    `json:"by_group"`
	KeyPeople   int              `json:"key_people"` // follow-up minus baseline
	Support     []SupportChange  `json:"support"`
	Adequacy    []AdequacyChange `json:"adequacy"`
	// Kept are the people named at both (matched by name only); Names
	// lists them only when names are shown.
	Kept struct {
		Count int      `json:"count"`
		Names []string `json:"names,omitempty"`
	} `json:"kept"`
	// New is how many people at the follow-up were not named at the
	// baseline; NotNamedAgain how many at the baseline were not named at
	// the follow-up (people given no name are in neither).
	New           int `json:"new"`
	NotNamedAgain int `json:"not_named_again"`
}

// GroupChange is one group's count at both timepoints.
type GroupChange struct {
	Group    Group `json:"group"`
	Baseline int   `json:"baseline"`
	FollowUp int   `json:"follow_up"`
	Change   int   `json:"change"`
}

// SupportChange is one kind of support's count of people at both.
type SupportChange struct {
	Support  string `json:"support"`
	Baseline int    `json:"baseline"`
	FollowUp int    `json:"follow_up"`
	Change   int    `json:"change"`
}

// AdequacyChange is one "enough people" item at both, and which way it
// went: better, worse, same, or not_known when either was skipped.
type AdequacyChange struct {
	Support   string `json:"support"`
	Baseline  string `json:"baseline,omitempty"`
	FollowUp  string `json:"follow_up,omitempty"`
	Direction string `json:"direction"`
}

// Compare sums up a child's baseline and latest follow-up (nil: none yet)
// and what changed, for the support types of the form, in its order.
// names false leaves every name out, kept people included (their count
// stays).
func Compare(baseline SCT, followUp *SCT, supports []string, names bool) Change {
	out := Change{Matching: Matching, Baseline: snapshot(baseline, supports, names)}
	if followUp == nil {
		return out
	}
	f := snapshot(*followUp, supports, names)
	out.FollowUp = &f
	b := out.Baseline
	ch := &Changes{NetworkSize: f.NetworkSize - b.NetworkSize, KeyPeople: len(f.KeyPeople) - len(b.KeyPeople)}
	for i, g := range b.ByGroup {
		n := f.ByGroup[i].Count
		ch.ByGroup = append(ch.ByGroup, GroupChange{g.Group, g.Count, n, n - g.Count})
	}
	for i, s := range b.Support {
		n := f.Support[i].People
		ch.Support = append(ch.Support, SupportChange{s.Support, s.People, n, n - s.People})
	}
	for i, a := range b.Adequacy {
		ch.Adequacy = append(ch.Adequacy, adequacyChange(a, f.Adequacy[i]))
	}
	then, now := namesOf(baseline.Answers), namesOf(followUp.Answers)
	for _, key := range now.order {
		kept := min(then.count[key], now.count[key])
		ch.Kept.Count += kept
		if kept > 0 && names {
			ch.Kept.Names = append(ch.Kept.Names, now.shown[key])
		}
		ch.New += now.count[key] - kept
	}
	for _, key := range then.order {
		ch.NotNamedAgain += then.count[key] - min(then.count[key], now.count[key])
	}
	out.Changes = ch
	return out
}

func adequacyChange(b, f Adequacy) AdequacyChange {
	c := AdequacyChange{Support: b.Support, Baseline: b.Answer, FollowUp: f.Answer, Direction: "not_known"}
	if b.Answer == "" || f.Answer == "" {
		return c
	}
	rank := map[string]int{"no_one": 1, "too_few": 2, "enough": 3}
	switch d := rank[f.Answer] - rank[b.Answer]; {
	case d > 0:
		c.Direction = "better"
	case d < 0:
		c.Direction = "worse"
	default:
		c.Direction = "same"
	}
	return c
}

func snapshot(s SCT, supports []string, names bool) Snapshot {
	a := s.Answers
	rels := Relationships()
	out := Snapshot{ResponseID: s.ResponseID, Timepoint: s.Timepoint, Wave: s.Wave, CompletedOn: s.CompletedOn,
		NetworkSize: len(a.Nominees), KeyPeople: []KeyPerson{}}
	count := map[Group]int{}
	for _, n := range a.Nominees {
		count[groupOf(n.Relationship, rels)]++
	}
	for _, g := range Groups() {
		out.ByGroup = append(out.ByGroup, GroupCount{g, count[g]})
	}
	for _, k := range a.KeyPeople {
		kp := KeyPerson{Name: k.Name, Relationship: k.Relationship, Reason: k.Reason}
		if i := nomineeOf(k.Nominee, len(a.Nominees)); i >= 0 {
			kp.Name, kp.Relationship = a.Nominees[i].Name, a.Nominees[i].Relationship
		}
		kp.Name = strings.TrimSpace(kp.Name)
		if !names {
			kp.Name = ""
		}
		kp.Group = groupOf(kp.Relationship, rels)
		out.KeyPeople = append(out.KeyPeople, kp)
	}
	for _, item := range supports {
		sc := Support{Support: item}
		for _, k := range a.KeyPeople {
			if v := k.Support[item]; v != nil {
				if r, ok := form.Whole(*v); ok && r >= 1 && r <= 4 {
					sc.Rated++
					if r >= 3 {
						sc.People++
					}
				}
			}
		}
		out.Support = append(out.Support, sc)
		ad := Adequacy{Support: item}
		if v := a.Adequacy[item]; v != nil {
			if r, ok := form.Whole(*v); ok && r >= 1 && r <= 3 {
				ad.Answer = []string{"no_one", "too_few", "enough"}[r-1]
			}
		}
		out.Adequacy = append(out.Adequacy, ad)
	}
	return out
}

func groupOf(rel string, rels map[string]Relationship) Group {
	if r, ok := rels[rel]; ok {
		return r.Group
	}
	return Other
}

// named is the people of one SCT by their matching key: how many have it,
// and the name as first given.
type named struct {
	order []string
	count map[string]int
	shown map[string]string
}

// namesOf lists everyone an SCT names (the important people and the
// supporters not among them) by name, trimmed and in lower case; people
// given no name are left out.
func namesOf(a Answers) named {
	out := named{count: map[string]int{}, shown: map[string]string{}}
	add := func(name string) {
		name = strings.TrimSpace(name)
		if name == "" {
			return
		}
		key := strings.ToLower(name)
		if out.count[key] == 0 {
			out.order = append(out.order, key)
			out.shown[key] = name
		}
		out.count[key]++
	}
	for _, n := range a.Nominees {
		add(n.Name)
	}
	for _, k := range a.KeyPeople {
		if k.Nominee == nil {
			add(k.Name)
		}
	}
	return out
}

package browser

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/google/uuid"
)

// seeded are SCTs submitted through the API for the dashboard: three
// children at baseline (one of them naming nobody), a draft that must not
// count, and one follow-up.
var seeded = []struct {
	child, group, timepoint, completed, status, answers string
}{
	{"D1", "lifelong_links", "baseline", "2019-06-14", "submitted",
		`{"nominees":[{"name":"Nan","relationship":"grandparent"},{"name":"Mum","relationship":"biological_mother"},{"name":"Jo","relationship":"friend"}],
		  "key_people":[{"nominee":0,"reason":"important","support":{"emotional":4,"practical":2},"let_down":1},
		                {"nominee":1,"reason":"important","support":{"emotional":3},"let_down":3}],
		  "adequacy":{"emotional":3,"practical":2,"trust":1}}`},
	{"D2", "comparison", "baseline", "2019-07-01", "submitted",
		`{"nominees":[{"name":"Pat","relationship":"foster_carer_current"},{"name":"Gran","relationship":"grandparent"}],
		  "key_people":[{"nominee":0,"reason":"important","support":{"emotional":2},"let_down":2},
		                {"name":"Mr K","relationship":"school_staff","reason":"support","support":{"advocacy":4}}],
		  "adequacy":{"emotional":2,"practical":1}}`},
	{"D3", "lifelong_links", "baseline", "2019-08-20", "submitted", `{"nominees":[],"adequacy":{"emotional":1}}`},
	{"D4", "comparison", "baseline", "2019-08-21", "draft", `{"nominees":[{"name":"Kim","relationship":"friend"}],"adequacy":{"emotional":1}}`},
	{"D1", "lifelong_links", "follow_up", "2020-01-10", "submitted",
		`{"nominees":[{"name":"Nan","relationship":"grandparent"},{"name":"Sam","relationship":"sibling"}],
		  "key_people":[{"nominee":1,"reason":"important","support":{"emotional":4},"let_down":1}],
		  "adequacy":{"emotional":3,"practical":3}}`},
}

type share struct {
	Count   int      `json:"count"`
	Percent *float64 `json:"percent"`
}

type relationshipRow struct {
	Relationship string   `json:"relationship"`
	Count        int      `json:"count"`
	Percent      *float64 `json:"percent"`
}

type summary struct {
	Respondents int `json:"respondents"`
	Nominees    struct {
		Base           int               `json:"base"`
		ByRelationship []relationshipRow `json:"by_relationship"`
	} `json:"nominees"`
	KeyPeople struct {
		Base           int               `json:"base"`
		ByRelationship []relationshipRow `json:"by_relationship"`
	} `json:"key_people"`
	Adequacy []struct {
		Support string `json:"support"`
		Total   int    `json:"total"`
		NoOne   share  `json:"no_one"`
		TooFew  share  `json:"too_few"`
		Enough  share  `json:"enough"`
	} `json:"adequacy"`
}

// shown is what the dashboard shows, cell by cell.
type shown struct {
	Table3    map[string][]string `json:"t3"`  // relationship label → baseline, follow-up cells
	Table4    map[string][]string `json:"t4"`  // "support label|Baseline" → total, no one, too few, enough
	KeyPeople map[string][]string `json:"key"` // relationship label → baseline, follow-up cells
	BaseB     string              `json:"baseB"`
	BaseF     string              `json:"baseF"`
	Counted   []string            `json:"counted"`
}

const readDashboard = `(() => {
  const cells = (tr) => [...tr.querySelectorAll('td.n')].map((td) => td.textContent.trim());
  const byLabel = (sel) => Object.fromEntries([...document.querySelectorAll(sel)].map((tr) => [tr.querySelector('th').textContent.trim(), cells(tr)]));
  const t4 = {};
  let label = '';
  for (const tr of document.querySelectorAll('#table4 tbody tr')) {
    const th = tr.querySelector('th');
    if (th) label = th.textContent.trim();
    t4[label + '|' + tr.querySelector('td').textContent.trim()] = cells(tr);
  }
  const counted = [...document.querySelectorAll('#table3 tfoot tr')].find((tr) => tr.querySelector('th').textContent.startsWith('SCTs counted'));
  return {
    t3: byLabel('#table3 tbody tr'), t4, key: byLabel('#key-people tbody tr'),
    baseB: document.getElementById('base-b').textContent, baseF: document.getElementById('base-f').textContent,
    counted: counted ? cells(counted) : [],
  };
})()`

// cell is how the dashboard writes a count and its percentage: rounded as
// JavaScript's Math.round does, or a dash without a base.
func cell(count int, percent *float64) string {
	if percent == nil {
		return fmt.Sprintf("%d (–)", count)
	}
	return fmt.Sprintf("%d (%d%%)", count, int(math.Floor(*percent+0.5)))
}

// labels are the form definition's names for codes, as the dashboard shows them.
func labels(t *testing.T, s *server) (relationship, support map[string]string) {
	t.Helper()
	var def struct {
		CodeLists struct {
			Relationship []struct{ Code, Label string } `json:"relationship"`
		} `json:"code_lists"`
		Answers struct {
			Fields []struct {
				Name string `json:"name"`
				Item struct {
					Fields []struct {
						Name   string `json:"name"`
						Fields []struct{ Name, Label string }
					} `json:"fields"`
				} `json:"item"`
			} `json:"fields"`
		} `json:"answers"`
	}
	s.getJSON(t, "/api/v1/forms/sct/versions/1", "", &def)
	relationship, support = map[string]string{}, map[string]string{}
	for _, c := range def.CodeLists.Relationship {
		relationship[c.Code] = c.Label
	}
	for _, f := range def.Answers.Fields {
		for _, g := range f.Item.Fields {
			if f.Name == "key_people" && g.Name == "support" {
				for _, x := range g.Fields {
					support[x.Name] = x.Label
				}
			}
		}
	}
	if len(relationship) == 0 || len(support) == 0 {
		t.Fatalf("the form definition gave %d relationship and %d support labels", len(relationship), len(support))
	}
	return relationship, support
}

func TestBrowser_DashboardMatchesAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := startServer(t)
	made := map[string]bool{}
	for _, r := range seeded {
		if !made[r.child] {
			s.createChild(t, r.child, r.group)
			made[r.child] = true
		}
		body := fmt.Sprintf(`{"form":"sct","version":"1","child_id":%q,"timepoint":%q,"completed_on":%q,"mode":"paper","status":%q,"answers":%s}`,
			r.child, r.timepoint, r.completed, r.status, r.answers)
		s.mustDo(t, "PUT", "/api/v1/responses/"+uuid.NewString(), body, "coord", 201)
	}
	var base, fu summary
	s.getJSON(t, "/api/v1/summaries/sct?timepoint=baseline", "evaluator", &base)
	s.getJSON(t, "/api/v1/summaries/sct?timepoint=follow_up", "evaluator", &fu)
	if base.Respondents != 3 || fu.Respondents != 1 {
		t.Fatalf("the API counts %d baseline and %d follow-up SCTs; the seed has 3 and 1", base.Respondents, fu.Respondents)
	}
	relLabel, supLabel := labels(t, s)

	p := newPhone(ctx, t)
	p.signIn(s.base, evalEmail)
	p.heading("Social Connections Tool: baseline and follow-up")
	p.waitFor("the tables", `document.querySelector('#table3 tbody tr') !== null && document.querySelector('#table4 tbody tr') !== null`)
	p.check("dashboard")
	p.checkLaptop("dashboard")
	// A table scrolled sideways on the phone keeps its first column in view.
	if moved := eval[float64](p, `(() => { const box = document.querySelector('#table3').closest('.scroll');
		box.scrollLeft = box.scrollWidth; const th = document.querySelector('#table3 tbody th');
		const d = th.getBoundingClientRect().left - box.getBoundingClientRect().left; box.scrollLeft = 0; return d; })()`); moved < -1 || moved > 1 {
		t.Errorf("scrolled sideways, Table 3's first column moved %.0f px; want it to stay", moved)
	}
	got := eval[shown](p, readDashboard)

	if want := fmt.Sprint(base.Nominees.Base); got.BaseB != want {
		t.Errorf("Table 3 baseline base %q, API %s", got.BaseB, want)
	}
	if want := fmt.Sprint(fu.Nominees.Base); got.BaseF != want {
		t.Errorf("Table 3 follow-up base %q, API %s", got.BaseF, want)
	}
	if want := []string{fmt.Sprint(base.Respondents), fmt.Sprint(fu.Respondents)}; fmt.Sprint(got.Counted) != fmt.Sprint(want) {
		t.Errorf("SCTs counted %q, API %q", got.Counted, want)
	}

	compareRows := func(table string, shownRows map[string][]string, b, f []relationshipRow) {
		t.Helper()
		fuRows := map[string]relationshipRow{}
		for _, r := range f {
			fuRows[r.Relationship] = r
		}
		for _, r := range b {
			label := relLabel[r.Relationship]
			row, ok := shownRows[label]
			if !ok {
				t.Errorf("%s has no row %q (%s); rows %v", table, label, r.Relationship, shownRows)
				continue
			}
			x := fuRows[r.Relationship]
			if want := []string{cell(r.Count, r.Percent), cell(x.Count, x.Percent)}; fmt.Sprint(row) != fmt.Sprint(want) {
				t.Errorf("%s row %q shows %q; the API says %q", table, label, row, want)
			}
		}
		for _, r := range f {
			if _, ok := shownRows[relLabel[r.Relationship]]; !ok && r.Count > 0 {
				t.Errorf("%s lacks %q, which %d named at follow-up", table, relLabel[r.Relationship], r.Count)
			}
		}
	}
	compareRows("Table 3", got.Table3, base.Nominees.ByRelationship, fu.Nominees.ByRelationship)
	compareRows("Key people", got.KeyPeople, base.KeyPeople.ByRelationship, fu.KeyPeople.ByRelationship)

	for when, sum := range map[string]summary{"Baseline": base, "Follow-up": fu} {
		for _, r := range sum.Adequacy {
			key := supLabel[r.Support] + "|" + when
			want := []string{fmt.Sprint(r.Total), cell(r.NoOne.Count, r.NoOne.Percent), cell(r.TooFew.Count, r.TooFew.Percent), cell(r.Enough.Count, r.Enough.Percent)}
			if row := got.Table4[key]; fmt.Sprint(row) != fmt.Sprint(want) {
				t.Errorf("Table 4 %s shows %q; the API says %q", key, row, want)
			}
		}
	}
	// A spot check that the comparison means something: the seed's
	// grandparents are 2 of the 2 baseline respondents who named anyone.
	if row := got.Table3[relLabel["grandparent"]]; len(row) != 2 || row[0] != "2 (100%)" || row[1] != "1 (100%)" {
		t.Errorf("Table 3 grandparents %q, want 2 (100%%) at baseline and 1 (100%%) at follow-up", row)
	}
}

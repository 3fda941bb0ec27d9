package sums

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/lifelong-links/sct/internal/idmap"
	"github.com/lifelong-links/sct/internal/practice"
	"github.com/lifelong-links/sct/internal/summary"
)

// Practice holds the practice summaries' inputs added up: a tally per day
// of each series (form version, site, group, timepoint and wave) and per
// month, so that the practice tables for any dates add a tally per month
// of each series and a day's at each end of the range, whatever the number
// of summaries.
type Practice struct {
	*Held[practice.Packed]
	counter *practice.Counter
	members map[summary.Key][]idmap.ID // bucket → response ids in it (a day's few)
	series  map[summary.Key]map[string]*practiceMonth
}

// practiceMonth is one month of a series: each day's tally and their total.
type practiceMonth struct {
	days  map[string]practice.Tally
	total practice.Tally
}

// NewPractice makes the sums of form's submitted practice summaries over
// scheme. Tell it of the store's commits (Committed) before serving.
func NewPractice(src Source, form string, scheme practice.Scheme) *Practice {
	held := NewHeldAs(src, form, func(inputs []byte) (practice.Packed, error) {
		var in practice.Input
		err := json.Unmarshal(inputs, &in)
		return practice.Pack(in), err
	})
	held.value = func(v any) (practice.Packed, bool) {
		in, ok := v.(practice.Input)
		return practice.Pack(in), ok
	}
	p := &Practice{Held: held, counter: practice.NewCounter(scheme)}
	p.Held.changed, p.Held.loadedAll = p.changed, p.load
	return p
}

// seriesOf is a bucket's series: its key without the day.
func seriesOf(k summary.Key) summary.Key {
	k.Day = ""
	return k
}

func (p *Practice) changed(id string, old, next *Item[practice.Packed]) {
	at := idmap.IDOf(id)
	if old != nil {
		k := old.Key()
		p.members[k] = slices.DeleteFunc(p.members[k], func(m idmap.ID) bool { return m == at })
		p.recount(k)
	}
	if next != nil {
		k := next.Key()
		p.members[k] = append(p.members[k], at)
		p.recount(k)
	}
}

func (p *Practice) load(all *idmap.Map[Item[practice.Packed]]) {
	p.members = map[summary.Key][]idmap.ID{}
	p.series = map[summary.Key]map[string]*practiceMonth{}
	for id, it := range all.All() {
		k := it.Key()
		p.members[k] = append(p.members[k], idmap.IDOf(id))
	}
	for k := range p.members {
		p.recount(k)
	}
}

// recount adds up one day's bucket again, and its month.
func (p *Practice) recount(k summary.Key) {
	var t practice.Tally
	for _, id := range p.members[k] {
		it, _ := p.items.GetID(id)
		p.counter.Add(&t, it.In.Unpack())
	}
	sk, name := seriesOf(k), monthName(k.Day)
	months := p.series[sk]
	if months == nil {
		months = map[string]*practiceMonth{}
		p.series[sk] = months
	}
	m := months[name]
	if m == nil {
		m = &practiceMonth{days: map[string]practice.Tally{}}
		months[name] = m
	}
	if t.Cases == 0 {
		delete(p.members, k)
		delete(m.days, k.Day)
	} else {
		m.days[k.Day] = t
	}
	m.total = practice.Tally{}
	for _, d := range m.days {
		m.total.Merge(d)
	}
	if len(m.days) == 0 {
		delete(months, name)
	}
	if len(months) == 0 {
		delete(p.series, sk)
	}
}

// Report works out the practice tables over the summaries the query selects.
func (p *Practice) Report(ctx context.Context, q summary.Query) (practice.Report, error) {
	if err := p.ready(ctx); err != nil {
		return practice.Report{}, err
	}
	defer p.mu.Unlock()
	q.Form = p.form
	whole := q
	whole.From, whole.To = "", ""
	bySite := map[string]practice.Tally{}
	for sk, months := range p.series {
		if !whole.Selects(sk) {
			continue
		}
		t := bySite[sk.Site]
		for name, m := range months {
			switch {
			case (q.From == "" || q.From <= name+"-01") && (q.To == "" || q.To >= name+"-31"):
				t.Merge(m.total)
			case (q.From == "" || q.From <= name+"-31") && (q.To == "" || q.To >= name+"-01"):
				for day, d := range m.days {
					if (q.From == "" || day >= q.From) && (q.To == "" || day <= q.To) {
						t.Merge(d)
					}
				}
			}
		}
		bySite[sk.Site] = t
	}
	return p.counter.Report(bySite), nil
}

func monthName(day string) string {
	if len(day) < 7 {
		return day
	}
	return day[:7]
}

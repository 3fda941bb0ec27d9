package sums

import (
	"context"

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
	*Held[practice.Input]
	counter *practice.Counter
	members map[summary.Key]map[string]bool // bucket → response ids in it
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
	p := &Practice{Held: NewHeld[practice.Input](src, form), counter: practice.NewCounter(scheme)}
	p.Held.changed, p.Held.loadedAll = p.changed, p.load
	return p
}

// seriesOf is a bucket's series: its key without the day.
func seriesOf(k summary.Key) summary.Key {
	k.Day = ""
	return k
}

func (p *Practice) changed(id string, old, next *Item[practice.Input]) {
	if old != nil {
		delete(p.members[old.Key()], id)
		p.recount(old.Key())
	}
	if next != nil {
		k := next.Key()
		if p.members[k] == nil {
			p.members[k] = map[string]bool{}
		}
		p.members[k][id] = true
		p.recount(k)
	}
}

func (p *Practice) load(all *idmap.Map[Item[practice.Input]]) {
	p.members = map[summary.Key]map[string]bool{}
	p.series = map[summary.Key]map[string]*practiceMonth{}
	for id, it := range all.All() {
		k := it.Key()
		if p.members[k] == nil {
			p.members[k] = map[string]bool{}
		}
		p.members[k][id] = true
	}
	for k := range p.members {
		p.recount(k)
	}
}

// recount adds up one day's bucket again, and its month.
func (p *Practice) recount(k summary.Key) {
	var t practice.Tally
	for id := range p.members[k] {
		it, _ := p.items.Get(id)
		p.counter.Add(&t, it.In)
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

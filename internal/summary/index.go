package summary

import (
	"slices"
	"sort"
	"strings"
	"sync"
)

// Key names one bucket of summary inputs: the submitted SCTs of one form
// version, site, group, timepoint and wave completed on one day.
type Key struct {
	Form, Site, Group, Timepoint, Version string
	Wave                                  int
	Day                                   string // YYYY-MM-DD
}

// Query selects buckets; empty fields (and Wave 0) match all. From and To
// are inclusive days.
type Query struct {
	Form, Site, Group, Timepoint, Version string
	Wave                                  int
	From, To                              string
}

// Index keeps bucket tallies in memory so that a summary costs a few vector
// operations per series (form × site × group × timepoint × version × wave),
// whatever the number of responses or the date range: each series holds its
// months in order with running totals, and each month its days with their
// total, so the sum over any range of days is the difference of two running
// totals of months, give or take the days of a month at either end.
// Tallies are held as flat vectors over the scheme's codes (codes outside the
// scheme are not shown in any report, so nothing is lost). Safe for
// concurrent use.
type Index struct {
	scheme Scheme
	rel    map[string]int // relationship code → position
	sup    map[string]int // support type → position

	mu     sync.RWMutex
	series map[seriesKey]*series
	// cache holds answers since the last change: dashboards ask the same
	// questions again and again, and any Set or Reset empties it.
	cache map[Query]vec
}

type seriesKey struct {
	Form, Site, Group, Timepoint, Version string
	Wave                                  int
}

// series holds one seriesKey's months in order; run[i] is the total of
// months[0] to months[i].
type series struct {
	months []*month
	run    []vec
}

// month holds one month's days in order and their total; a range that
// ends within a month adds up its days (at most 31). A day holds its tally
// packed (most days hold a few responses, whose counts fit in two bytes),
// so the days of every series cost a quarter of what whole vectors would.
type month struct {
	name  string // YYYY-MM
	days  []string
	vecs  []dayVec
	total vec
}

// vec layout: respondents, named anyone, nominee sum, nominee sum of
// squares, named a key person, relationships, key relationships, support
// ratings (4 per type), let-down ratings (4), adequacy answers (3 per type).
type vec []int64

const scalars = 5

// NewIndex returns an empty index over a scheme.
func NewIndex(scheme Scheme) *Index {
	x := &Index{scheme: scheme, rel: map[string]int{}, sup: map[string]int{}, series: map[seriesKey]*series{}, cache: map[Query]vec{}}
	for i, r := range scheme.Relationships {
		x.rel[r] = i
	}
	for i, s := range scheme.Supports {
		x.sup[s] = i
	}
	return x
}

// Scheme is the scheme the index counts over.
func (x *Index) Scheme() Scheme { return x.scheme }

func (x *Index) size() int {
	r, s := len(x.scheme.Relationships), len(x.scheme.Supports)
	return scalars + 2*r + 4*s + 4 + 3*s
}

func (x *Index) offsets() (rel, krel, sup, let, adq int) {
	r, s := len(x.scheme.Relationships), len(x.scheme.Supports)
	rel = scalars
	krel = rel + r
	sup = krel + r
	let = sup + 4*s
	adq = let + 4
	return
}

func (x *Index) toVec(t Tally) vec {
	v := make(vec, x.size())
	rel, krel, sup, let, adq := x.offsets()
	v[0], v[1], v[2], v[3], v[4] = int64(t.Respondents), int64(t.NamedAnyone), int64(t.NomineeSum), int64(t.NomineeSumSquares), int64(t.NamedKeyPerson)
	for code, n := range t.Relationships {
		if i, ok := x.rel[code]; ok {
			v[rel+i] = int64(n)
		}
	}
	for code, n := range t.KeyRelationships {
		if i, ok := x.rel[code]; ok {
			v[krel+i] = int64(n)
		}
	}
	for s, counts := range t.Support {
		if i, ok := x.sup[s]; ok {
			for j, n := range counts {
				v[sup+4*i+j] = int64(n)
			}
		}
	}
	for j, n := range t.LetDown {
		v[let+j] = int64(n)
	}
	for s, counts := range t.Adequacy {
		if i, ok := x.sup[s]; ok {
			for j, n := range counts {
				v[adq+3*i+j] = int64(n)
			}
		}
	}
	return v
}

func (x *Index) toTally(v vec) Tally {
	rel, krel, sup, let, adq := x.offsets()
	t := Tally{
		Respondents: int(v[0]), NamedAnyone: int(v[1]), NomineeSum: int(v[2]), NomineeSumSquares: int(v[3]), NamedKeyPerson: int(v[4]),
		Relationships: map[string]int{}, KeyRelationships: map[string]int{}, Support: map[string][4]int{}, Adequacy: map[string][3]int{},
	}
	for code, i := range x.rel {
		if n := v[rel+i]; n != 0 {
			t.Relationships[code] = int(n)
		}
		if n := v[krel+i]; n != 0 {
			t.KeyRelationships[code] = int(n)
		}
	}
	for s, i := range x.sup {
		var c4 [4]int
		var c3 [3]int
		any4, any3 := false, false
		for j := range c4 {
			c4[j] = int(v[sup+4*i+j])
			any4 = any4 || c4[j] != 0
		}
		for j := range c3 {
			c3[j] = int(v[adq+3*i+j])
			any3 = any3 || c3[j] != 0
		}
		if any4 {
			t.Support[s] = c4
		}
		if any3 {
			t.Adequacy[s] = c3
		}
	}
	for j := range t.LetDown {
		t.LetDown[j] = int(v[let+j])
	}
	return t
}

func (v vec) add(o vec) {
	for i := range o {
		v[i] += o[i]
	}
}

func (v vec) zero() bool {
	for _, n := range v {
		if n != 0 {
			return false
		}
	}
	return true
}

func (v vec) sub(o vec) {
	for i := range o {
		v[i] -= o[i]
	}
}

// Set replaces one bucket's tally.
func (x *Index) Set(k Key, t Tally) {
	v := x.toVec(t)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.setVec(k, v)
}

// Add adds one response's packed inputs to a bucket (sign −1: takes them
// away).
func (x *Index) Add(k Key, p Packed, sign int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	v := make(vec, x.size())
	if cur, ok := x.day(k); ok {
		cur.addTo(v, 1)
	}
	p.addTo(v, sign)
	x.setVec(k, v)
}

// day is a bucket's packed tally, if it holds any; the caller holds the
// lock.
func (x *Index) day(k Key) (dayVec, bool) {
	s := x.series[seriesKey{k.Form, k.Site, k.Group, k.Timepoint, k.Version, k.Wave}]
	if s == nil {
		return dayVec{}, false
	}
	name := monthOf(k.Day)
	mi, found := slices.BinarySearchFunc(s.months, name, func(m *month, name string) int { return strings.Compare(m.name, name) })
	if !found {
		return dayVec{}, false
	}
	m := s.months[mi]
	if di, found := slices.BinarySearch(m.days, k.Day); found {
		return m.vecs[di], true
	}
	return dayVec{}, false
}

// setVec replaces one bucket's vector; the caller holds the lock.
func (x *Index) setVec(k Key, v vec) {
	sk := seriesKey{k.Form, k.Site, k.Group, k.Timepoint, k.Version, k.Wave}
	clear(x.cache)
	s := x.series[sk]
	if s == nil {
		if v.zero() {
			return
		}
		s = &series{}
		x.series[sk] = s
	}
	name := monthOf(k.Day)
	mi, found := slices.BinarySearchFunc(s.months, name, func(m *month, name string) int { return strings.Compare(m.name, name) })
	if !found {
		if v.zero() {
			return
		}
		s.months = slices.Insert(s.months, mi, &month{name: name})
		s.run = slices.Insert(s.run, mi, nil)
	}
	m := s.months[mi]
	di, found := slices.BinarySearch(m.days, k.Day)
	switch {
	case found && v.zero():
		m.days, m.vecs = slices.Delete(m.days, di, di+1), slices.Delete(m.vecs, di, di+1)
	case found:
		m.vecs[di] = packDay(v)
	case v.zero():
		return
	default:
		m.days, m.vecs = slices.Insert(m.days, di, k.Day), slices.Insert(m.vecs, di, packDay(v))
	}
	m.total = make(vec, x.size())
	for _, d := range m.vecs {
		d.addTo(m.total, 1)
	}
	if len(m.days) == 0 {
		s.months, s.run = slices.Delete(s.months, mi, mi+1), slices.Delete(s.run, mi, mi+1)
		if len(s.months) == 0 {
			delete(x.series, sk)
			return
		}
	}
	totals := make([]vec, len(s.months))
	for i, m := range s.months {
		totals[i] = m.total
	}
	x.runOn(totals, s.run, mi)
}

// runOn recomputes the running totals run of vs from position i on.
func (x *Index) runOn(vs, run []vec, i int) {
	for ; i < len(vs); i++ {
		r := slices.Clone(vs[i])
		if i > 0 {
			r.add(run[i-1])
		}
		run[i] = r
	}
}

// upTo adds the series' total of the days before day (and day itself when
// inclusive; every day when day is empty) to total, or takes it away.
func (s *series) upTo(total vec, day string, inclusive, subtract bool) {
	add, sign := total.add, int64(1)
	if subtract {
		add, sign = total.sub, -1
	}
	if day == "" {
		add(s.run[len(s.run)-1])
		return
	}
	name := monthOf(day)
	mi, found := slices.BinarySearchFunc(s.months, name, func(m *month, name string) int { return strings.Compare(m.name, name) })
	if mi > 0 {
		add(s.run[mi-1])
	}
	if !found {
		return
	}
	m := s.months[mi]
	di, found := slices.BinarySearch(m.days, day)
	if found && inclusive {
		di++
	}
	for _, d := range m.vecs[:di] {
		d.addTo(total, sign)
	}
}

// Reset empties the index.
func (x *Index) Reset() {
	x.mu.Lock()
	x.series = map[seriesKey]*series{}
	clear(x.cache)
	x.mu.Unlock()
}

// Tally adds up the buckets a query selects.
func (x *Index) Tally(q Query) Tally {
	x.mu.RLock()
	if v, ok := x.cache[q]; ok {
		x.mu.RUnlock()
		return x.toTally(v)
	}
	x.mu.RUnlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	v := x.add(q)
	x.cache[q] = v
	return x.toTally(v)
}

// Uncached adds up the buckets a query selects without the cache: what a
// summary costs right after a write.
func (x *Index) Uncached(q Query) Tally {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.toTally(x.add(q))
}

// add sums the selected buckets; the caller holds the lock.
func (x *Index) add(q Query) vec {
	total := make(vec, x.size())
	if q.From != "" && q.To != "" && q.From > q.To {
		return total
	}
	for sk, s := range x.series {
		if !matches(sk, q) {
			continue
		}
		s.upTo(total, q.To, true, false)
		if q.From != "" {
			s.upTo(total, q.From, false, true)
		}
	}
	return total
}

// Keys lists the buckets held, for checks.
func (x *Index) Keys() []Key {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []Key
	for sk, s := range x.series {
		for _, m := range s.months {
			for _, day := range m.days {
				out = append(out, Key{sk.Form, sk.Site, sk.Group, sk.Timepoint, sk.Version, sk.Wave, day})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return keyLess(out[i], out[j]) })
	return out
}

func keyLess(a, b Key) bool {
	if a.Day != b.Day {
		return a.Day < b.Day
	}
	as := a.Form + "|" + a.Site + "|" + a.Group + "|" + a.Timepoint + "|" + a.Version
	bs := b.Form + "|" + b.Site + "|" + b.Group + "|" + b.Timepoint + "|" + b.Version
	if as != bs {
		return as < bs
	}
	return a.Wave < b.Wave
}

// Selects reports whether a bucket is one the query adds up.
func (q Query) Selects(k Key) bool {
	return matches(seriesKey{k.Form, k.Site, k.Group, k.Timepoint, k.Version, k.Wave}, q) &&
		(q.From == "" || k.Day >= q.From) && (q.To == "" || k.Day <= q.To)
}

func matches(sk seriesKey, q Query) bool {
	return (q.Form == "" || sk.Form == q.Form) && (q.Site == "" || sk.Site == q.Site) &&
		(q.Group == "" || sk.Group == q.Group) && (q.Timepoint == "" || sk.Timepoint == q.Timepoint) &&
		(q.Version == "" || sk.Version == q.Version) && (q.Wave == 0 || sk.Wave == q.Wave)
}

func monthOf(day string) string {
	if len(day) < 7 {
		return day
	}
	return day[:7]
}

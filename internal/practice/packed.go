package practice

import (
	"encoding/binary"

	"github.com/lifelong-links/sct/internal/codes"
)

// Packed is an Input as the practice tables hold it for every summary: its
// flags, counts, and the numbers of its codes and dates (each numbered once
// in words: a few hundred of them serve every summary), in varints in one
// string of about twenty bytes. The Input as JSON decodes it takes some
// fifteen allocations and several hundred bytes.
type Packed struct{ s string }

// words numbers the codes and dates inputs hold: form versions, routes,
// tools, outcomes, objective categories and days.
var words codes.Table[string]

// What an input has, beside its codes: the flags of a packed input.
const (
	packedTools = 1 << iota // Tools is not nil
	packedToolsAnswered
	packedOutcomes // Outcomes is not nil
	packedOutcomesAnswered
	packedObjectives // Objectives is not nil
	packedIdentified
	packedRetained
	packedAttendees
)

// Pack is in as the tables hold it; Unpack gives it back.
func Pack(in Input) Packed {
	var flags uint64
	for bit, on := range [...]bool{in.Tools != nil, in.ToolsAnswered, in.Outcomes != nil, in.OutcomesAnswered,
		in.Objectives != nil, in.Identified != nil, in.Retained != nil, in.Attendees != nil} {
		if on {
			flags |= 1 << bit
		}
	}
	b := binary.AppendUvarint(nil, flags)
	word := func(s string) { b = binary.AppendUvarint(b, uint64(words.Code(s))) }
	for _, s := range []string{in.Version, in.Route, in.StartedOn, in.EndedOn} {
		word(s)
	}
	for _, n := range []*int{in.Identified, in.Retained, in.Attendees} {
		if n != nil {
			b = binary.AppendVarint(b, int64(*n))
		}
	}
	for _, list := range [][]string{in.Tools, in.Outcomes} {
		b = binary.AppendUvarint(b, uint64(len(list)))
		for _, s := range list {
			word(s)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(in.Objectives)))
	for _, o := range in.Objectives {
		word(o.Category)
		met := uint64(0) // not answered
		if o.Met != nil {
			met = 1
			if *o.Met {
				met = 2
			}
		}
		b = binary.AppendUvarint(b, met)
	}
	return Packed{string(b)}
}

// Unpack is the input p was packed from.
func (p Packed) Unpack() Input {
	s := p.s
	next := func() uint64 {
		v, n := binary.Uvarint([]byte(s[:min(len(s), binary.MaxVarintLen64)]))
		s = s[max(n, 0):]
		return v
	}
	word := func() string { return words.Value(uint32(next())) }
	count := func() *int {
		u := next()
		v := int(int64(u>>1) ^ -int64(u&1)) // zigzag, as binary.AppendVarint writes it
		return &v
	}
	flags := next()
	in := Input{Version: word(), Route: word(), StartedOn: word(), EndedOn: word(),
		ToolsAnswered: flags&packedToolsAnswered != 0, OutcomesAnswered: flags&packedOutcomesAnswered != 0}
	if flags&packedIdentified != 0 {
		in.Identified = count()
	}
	if flags&packedRetained != 0 {
		in.Retained = count()
	}
	if flags&packedAttendees != 0 {
		in.Attendees = count()
	}
	list := func(present bool) []string {
		n := next()
		if !present {
			return nil
		}
		out := make([]string, n)
		for i := range out {
			out[i] = word()
		}
		return out
	}
	in.Tools = list(flags&packedTools != 0)
	in.Outcomes = list(flags&packedOutcomes != 0)
	if n := next(); flags&packedObjectives != 0 {
		in.Objectives = make([]Objective, n)
		for i := range in.Objectives {
			in.Objectives[i].Category = word()
			if met := next(); met > 0 {
				v := met == 2
				in.Objectives[i].Met = &v
			}
		}
	}
	return in
}

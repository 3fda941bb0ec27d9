package sums

import (
	"github.com/lifelong-links/sct/internal/codes"
	"github.com/lifelong-links/sct/internal/summary"
)

// keyID is a summary key as two numbers: its series' (the key without its
// day) and its day's, each named once for the whole process. Many thousands
// of responses fall in a few hundred series and a few thousand days, so an
// item's key costs eight bytes and nothing for the garbage collector to
// follow, and a pair's two series eight more.
type keyID struct {
	series seriesID
	day    uint32
}

// seriesID names a series: a summary key without its day.
type seriesID uint32

var (
	seriesNames codes.Table[summary.Key]
	dayNames    codes.Table[string]
)

// idOf is k's numbers, naming its series and day if they are new.
func idOf(k summary.Key) keyID {
	day := k.Day
	k.Day = ""
	return keyID{series: seriesID(seriesNames.Code(k)), day: dayNames.Code(day)}
}

// Key is the summary key id names.
func (id keyID) Key() summary.Key {
	k := id.series.Key()
	k.Day = dayNames.Value(id.day)
	return k
}

// Key is the series' key, with no day.
func (s seriesID) Key() summary.Key { return seriesNames.Value(uint32(s)) }

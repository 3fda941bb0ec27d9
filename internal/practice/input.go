package practice

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Input is what one submitted practice summary contributes to the practice tables. It
// carries no free text (outcomes_other_text and objective descriptions are never read), so
// storing it beside a response exposes nothing identifying.
type Input struct {
	Version          string      `json:"version"`           // form version: "1" (old format) or "2" (new format)
	Tools            []string    `json:"tools"`             // tool codes used, distinct and sorted; nil when the item was skipped
	ToolsAnswered    bool        `json:"tools_answered"`    // tools_used was answered, possibly with no tool ticked
	Identified       *int        `json:"identified"`        // connections identified at discovery
	Retained         *int        `json:"retained"`          // of those, still connections at plan or FGC
	Route            string      `json:"route"`             // fgc, plan_without_fgc, neither, or "" if skipped
	Attendees        *int        `json:"attendees"`         // number attending the FGC
	Outcomes         []string    `json:"outcomes"`          // outcome codes, distinct and sorted; nil when the item was skipped
	OutcomesAnswered bool        `json:"outcomes_answered"` // outcomes was answered, possibly with no outcome ticked
	Objectives       []Objective `json:"objectives,omitempty"`
	StartedOn        string      `json:"started_on,omitempty"` // ISO date, "" if absent
	EndedOn          string      `json:"ended_on,omitempty"`   // ISO date, "" if absent
}

// Objective is one objective set with the child (new format only): its category code and
// whether it was met; Met is nil when that answer was skipped.
type Objective struct {
	Category string `json:"category"`
	Met      *bool  `json:"met"`
}

// maxCount guards the float-to-int conversion; the form's own limits (500 connections,
// 200 attendees) are far below it and are enforced when the answers are validated.
const maxCount = 1_000_000

// practiceAnswers is the part of practice-summary answers that the tables read. Free text
// is not decoded, so it cannot leak into an Input. Numbers decode as float64 so that 3.0
// is read as 3 instead of failing the whole summary.
type practiceAnswers struct {
	StartedOn     string     `json:"started_on"`
	EndedOn       string     `json:"ended_on"`
	ToolsUsed     *[]string  `json:"tools_used"`
	Identified    *float64   `json:"connections_identified"`
	Retained      *float64   `json:"connections_retained"`
	Route         string     `json:"route"`
	FGCAttendees  *float64   `json:"fgc_attendees"`
	Outcomes      *[]string  `json:"outcomes"`
	ObjectiveList []struct { // new format only
		Category string `json:"category"`
		Met      *bool  `json:"met"`
	} `json:"objectives"`
}

// InputFromAnswers derives the Input from the answers of a practice-summary response of
// the given form version (JSON bytes shaped by forms/practice-summary/<version>.json).
// The answers are already validated against the form; still, it never panics, and it
// returns an error for JSON it cannot decode or that is not an object.
//
// An absent or null item is skipped. A list item present but empty (tools_used: []) is
// answered with nothing ticked. A count that is negative, fractional or implausibly large
// is treated as skipped. The old format has no objectives, so version "1" keeps none.
func InputFromAnswers(version string, answers []byte) (Input, error) {
	if t := bytes.TrimSpace(answers); len(t) == 0 || t[0] != '{' {
		return Input{}, errors.New("decode practice summary answers: not a JSON object")
	}
	var a practiceAnswers
	if err := json.Unmarshal(answers, &a); err != nil {
		return Input{}, fmt.Errorf("decode practice summary answers: %w", err)
	}

	in := Input{
		Version:    version,
		Identified: count(a.Identified),
		Retained:   count(a.Retained),
		Route:      a.Route,
		Attendees:  count(a.FGCAttendees),
		StartedOn:  a.StartedOn,
		EndedOn:    a.EndedOn,
	}
	if a.ToolsUsed != nil {
		in.ToolsAnswered = true
		in.Tools = distinct(*a.ToolsUsed)
	}
	if a.Outcomes != nil {
		in.OutcomesAnswered = true
		in.Outcomes = distinct(*a.Outcomes)
	}
	if version != "1" {
		for _, o := range a.ObjectiveList {
			if o.Category == "" { // the category is required; without it the objective cannot be placed
				continue
			}
			in.Objectives = append(in.Objectives, Objective{Category: o.Category, Met: o.Met})
		}
	}
	return in, nil
}

// count returns v as an int when it is present, whole and within [0, maxCount]; the range
// check comes before the conversion so a huge or non-finite number cannot become an
// arbitrary int.
func count(v *float64) *int {
	if v == nil || *v != math.Trunc(*v) || *v < 0 || *v > maxCount {
		return nil
	}
	n := int(*v)
	return &n
}

// distinct returns the non-empty codes once each, sorted. It never returns nil, so an
// answered item with nothing ticked stays distinguishable from a skipped one.
func distinct(codes []string) []string {
	out := slices.DeleteFunc(slices.Clone(codes), func(s string) bool { return s == "" })
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

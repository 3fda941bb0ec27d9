// Package catalog is the one list of the forms the server does more with
// than validate: for each, its id, what a submitted response adds to the
// tables (its deriver) and whether it is exported. The definitions
// themselves are data (forms/); adding a form is a definition file plus one
// entry here.
package catalog

import (
	"encoding/json"
	"fmt"

	"github.com/lifelong-links/sct/internal/practice"
	"github.com/lifelong-links/sct/internal/summary"
)

// The forms the evaluation's tables are built from.
const (
	SCT             = "sct"              // the Social Connections Tool: Tables 3 and 4, paired comparisons
	PracticeSummary = "practice-summary" // the coordinators' practice summary: Tables 2, 5 and 6
)

// Form is what the server does with one form's responses.
type Form struct {
	ID string
	// Derive works out, once at submission, what a submitted response adds
	// to the form's tables: a value the store keeps beside the response as
	// its JSON, and that the form's tables read back as the same value;
	// nil: nothing.
	Derive func(version string, answers []byte) (any, error)
	// Exported forms have a wide and a long file in every data return.
	Exported bool
	// Network forms' responses are personal networks (the SCT's shape):
	// their data returns add nodes and edges files and GraphML.
	Network bool
}

// Forms lists the forms in the order exports show them.
var Forms = []Form{
	{ID: SCT, Derive: deriveSCT, Exported: true, Network: true},
	{ID: PracticeSummary, Derive: derivePractice, Exported: true},
}

// Derived is what a submitted response with these answers adds to f's
// tables, as a value and as the JSON the store keeps; nils when f has no
// deriver.
func (f Form) Derived(version string, answers []byte) (any, json.RawMessage, error) {
	if f.Derive == nil {
		return nil, nil, nil
	}
	v, err := f.Derive(version, answers)
	if err != nil {
		return nil, nil, err
	}
	text, err := json.Marshal(v)
	if err != nil {
		return nil, nil, fmt.Errorf("encode derived inputs: %w", err)
	}
	return v, text, nil
}

// Lookup finds a form's entry; a form with none is only validated and
// stored.
func Lookup(id string) (Form, bool) {
	for _, f := range Forms {
		if f.ID == id {
			return f, true
		}
	}
	return Form{}, false
}

func deriveSCT(_ string, answers []byte) (any, error) {
	in, err := summary.InputFromSCT(answers)
	if err != nil {
		return nil, fmt.Errorf("derive summary inputs: %w", err)
	}
	return in, nil
}

func derivePractice(version string, answers []byte) (any, error) {
	in, err := practice.InputFromAnswers(version, answers)
	if err != nil {
		return nil, fmt.Errorf("derive practice inputs: %w", err)
	}
	return in, nil
}

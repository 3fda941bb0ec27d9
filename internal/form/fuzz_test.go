package form_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/form"
)

// fuzzMaxFaults is the most faults Validate reports for one body.
const fuzzMaxFaults = 100

// fuzzValidSCT is a complete SCT: two nominees, one key person from the list
// and one from outside it.
const fuzzValidSCT = `{
 "nominees": [{"name": "Nan", "relationship": "grandparent"}, {"name": "Jo", "relationship": "other", "other_text": "neighbour"}],
 "key_people": [
  {"nominee": 0, "reason": "important", "support": {"emotional": 4, "practical": 3, "advice": 4, "advocacy": 2,
   "socialising": 4, "lifelong": 4, "trust": 4, "positive_feedback": 1}, "let_down": 1},
  {"name": "Mr K", "relationship": "school_staff", "reason": "support", "support": {"advice": 3}, "let_down": 2}
 ],
 "adequacy": {"emotional": 3, "practical": 2, "advice": 3, "advocacy": 1, "socialising": 3, "lifelong": 3,
  "trust": 3, "positive_feedback": 3}
}`

// fuzzValidPractice is a complete practice summary of version 2; version 1
// accepts it without "objectives".
const fuzzValidPractice = `{"started_on": "2019-01-07", "ended_on": "2019-11-29", "tools_used": ["sct", "genogram"],
 "connections_identified": 12, "connections_retained": 5, "route": "fgc", "fgc_attendees": 9,
 "outcomes": ["direct_contact", "other"], "outcomes_other_text": "a letter",
 "objectives": [{"category": "siblings", "met": true, "description": "see her brother"}, {"category": "pets"}]}`

// fuzzSeeds are the inputs every run starts from: valid and draft answers of
// each form, and the malformed, huge, deep, mistyped, unicode, duplicate,
// numeric and null cases a client or an attacker may send.
func fuzzSeeds() []string {
	seeds := []string{
		// Valid, complete.
		fuzzValidSCT,
		fuzzValidPractice,
		strings.Replace(fuzzValidPractice, `,
 "objectives": [{"category": "siblings", "met": true, "description": "see her brother"}, {"category": "pets"}]`, ``, 1),
		`{"nominees": [{"relationship": "friend"}], "key_people": [{"nominee": 0, "reason": "important"}]}`,
		`{"started_on": "2020-02-29"}`,
		// Drafts: valid only while incomplete.
		`{}`,
		`{"nominees": [{"name": "Nan"}]}`,
		`{"key_people": [{"reason": "important"}]}`,
		`{"key_people": [{"name": "K", "relationship": "friend", "reason": "important"}]}`,
		`{"key_people": [{"support": {"trust": 4}}]}`,
		`{"ended_on": "2019-01-01", "route": "neither"}`,
		`{"objectives": [{"met": false}]}`,
		// Malformed JSON.
		``, ` `, `{`, `}`, `{"nominees": [}`, `{"nominees": [{"name": "x",}]}`, `{} {}`, `{}x`, `{}}`,
		`nul`, `'{}'`, `{nominees: []}`, `{"a" "b"}`, `{"a":}`, `[1, 2`, `"unterminated`, `{"x": 01}`,
		`{"x": 1.}`, `{"x": .5}`, `{"x": +1}`, `{"x": 0x10}`, `{"x": NaN}`, `{"x": Infinity}`,
		"\xef\xbb\xbf{}", // a UTF-8 byte-order mark
		"{\"nominees\": [{\"name\": \"a\x00b\"}]}", // a raw control character in a string
		// Not an object at the top.
		`null`, `true`, `false`, `0`, `-0`, `1e309`, `"text"`, `[]`, `[{}]`,
		// Over the limits.
		fuzzNominees(21), fuzzKeyPeople(6, "support"), fuzzKeyPeople(4, "important"), fuzzKeyPeople(3, "support"),
		`{"nominees": [{"name": "` + strings.Repeat("x", 61) + `", "relationship": "friend"}]}`,
		`{"outcomes_other_text": "` + strings.Repeat("é", 301) + `"}`,
		`{"tools_used": ["sct", "sct"]}`,
		`{"tools_used": ["sct", "genogram", "online_search", "mobility_map", "deep_file_search", "ecomap", "ask_family", "sct"]}`,
		`{"connections_identified": 3, "connections_retained": 4}`,
		`{"started_on": "2019-05-01", "ended_on": "2019-04-30"}`,
		`{"route": "neither", "fgc_attendees": 3}`,
		`{"nominees": [{"relationship": "friend", "other_text": "x"}]}`,
		`{"key_people": [{"nominee": 0, "name": "both", "reason": "support"}]}`,
		`{"key_people": [{"reason": "support"}]}`,
		`{"nominees": [{"relationship": "friend"}], "key_people": [{"nominee": 1, "reason": "support"}]}`,
		// Duplicate keys and duplicate ids.
		`{"nominees": [{"relationship": "friend"}], "nominees": [{"relationship": 7}]}`,
		`{"nominees": [{"relationship": 7}], "nominees": [{"relationship": "friend"}]}`,
		`{"adequacy": {"trust": 3, "trust": 9}}`,
		`{"nominees": [{"relationship": "friend"}, {"relationship": "sibling"}],
		  "key_people": [{"nominee": 0, "reason": "important"}, {"nominee": 0, "reason": "support"}, {"nominee": 1, "reason": "important"}]}`,
		`{"started_on": "2019-01-01", "started_on": "not a date"}`,
		// Numbers at and past every edge.
		`{"adequacy": {"trust": 1e309}}`, `{"adequacy": {"trust": -0}}`, `{"adequacy": {"trust": 9999999999999999999}}`,
		`{"adequacy": {"trust": 3.0}}`, `{"adequacy": {"trust": 3e0}}`, `{"adequacy": {"trust": 2.5}}`, `{"adequacy": {"trust": -1}}`,
		`{"connections_identified": -0}`, `{"connections_identified": 9223372036854775807}`,
		`{"connections_identified": -9223372036854775808}`, `{"connections_identified": 9223372036854775808}`,
		`{"connections_identified": 500, "connections_retained": 500}`, `{"connections_identified": 501}`,
		`{"connections_identified": 1e2}`, `{"connections_identified": 100.000}`, `{"connections_identified": 1E-400}`,
		`{"nominees": [{"relationship": "friend"}], "key_people": [{"nominee": -0, "reason": "important"}]}`,
		`{"nominees": [{"relationship": "friend"}], "key_people": [{"nominee": 9999999999999999999, "reason": "support"}]}`,
		`{"nominees": [{"relationship": "friend"}], "key_people": [{"nominee": -1, "reason": "support"}]}`,
		// Nulls and blanks everywhere: a skipped item is an absent item.
		`{"nominees": null, "key_people": null, "adequacy": null}`,
		`{"nominees": [null]}`, `{"nominees": [{"name": null, "relationship": null}]}`,
		`{"key_people": [{"nominee": null, "reason": null, "support": null, "let_down": null}]}`,
		`{"adequacy": {"emotional": null, "trust": null}}`,
		`{"started_on": null, "tools_used": null, "tools_used": [null], "objectives": [null]}`,
		`{"nominees": [{"name": "   ", "relationship": " "}]}`,
		`{"started_on": "2019-01-01", "outcomes_other_text": " \t\n "}`,
		// Unicode: right-to-left, emoji, combining marks, invalid bytes, escapes.
		`{"nominees": [{"name": "جدتي", "relationship": "grandparent"}, {"name": "סבתא", "relationship": "grandparent"}]}`,
		`{"nominees": [{"name": "‮Nan‬", "relationship": "friend"}]}`,
		`{"nominees": [{"name": "` + strings.Repeat("👩‍👧", 20) + `", "relationship": "friend"}]}`,
		`{"nominees": [{"name": "` + strings.Repeat("🙂", 60) + `", "relationship": "friend"}]}`,
		`{"nominees": [{"name": "` + strings.Repeat("🙂", 61) + `", "relationship": "friend"}]}`,
		`{"nominees": [{"name": "Z̷̢̛a̶̡l̸g̵o̴", "relationship": "friend"}]}`,
		`{"nominees": [{"name": "e` + strings.Repeat("\u0301", 60) + `", "relationship": "friend"}]}`,
		"{\"nominees\": [{\"name\": \"\xff\xfe\xc3(\", \"relationship\": \"friend\"}]}",
		"{\"nominees\": [{\"\xff\": 1}], \"\xc0\xaf\": 2}",
		`{"nominees": [{"name": "\ud800\udc00\ud800", "relationship": "friend"}]}`,
		`{"nominees": [{"name": "\u0000", "relationship": "friend"}]}`,
		`{"nominees": [{"relationship": "gr\u0061ndparent"}]}`,
		`{"nominees": [{"relationship": "grandparent\u200b"}]}`,
		`{"nominees": [{"relationship": "ＧＲＡＮＤＰＡＲＥＮＴ"}]}`,
		`{"nomineés": [], "ключ": 1, "🙂": {}, "": 0}`,
		`{"adequacy": {"trust": "３"}}`,
		`{"started_on": "２０１９-01-01"}`,
		`{"started_on": "2019-1-1"}`, `{"started_on": "2019-02-29"}`, `{"started_on": "0000-00-00"}`,
		// Unknown fields, many of them: the fault count is bounded.
		fuzzUnknownKeys(500),
		// Huge arrays.
		fuzzNominees(10000),
		`{"tools_used": [` + strings.TrimSuffix(strings.Repeat(`"sct",`, 10000), ",") + `]}`,
		`{"objectives": [` + strings.TrimSuffix(strings.Repeat(`{"category": 1},`, 1000), ",") + `]}`,
		// Deep nesting, within and past the decoder's own limit.
		fuzzDeep("[", "]", 1000),
		fuzzDeep(`{"a":`, "}", 1000),
		`{"nominees": ` + fuzzDeep("[", "]", 1000) + `}`,
		`{"adequacy": ` + fuzzDeep(`{"trust":`, "}", 1000) + `}`,
		`{"key_people": [{"support": ` + fuzzDeep(`{"trust":`, "}", 1000) + `}]}`,
		fuzzDeep("[", "]", 20000),
	}
	return append(seeds, fuzzWrongTypes()...)
}

// fuzzNominees is SCT answers with n valid nominees.
func fuzzNominees(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"name": "P%d", "relationship": "friend"}`, i)
	}
	return `{"nominees": [` + strings.Join(items, ",") + `]}`
}

// fuzzKeyPeople is SCT answers with n key people who all give reason.
func fuzzKeyPeople(n int, reason string) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"nominee": %d, "reason": %q}`, i, reason)
	}
	return strings.TrimSuffix(fuzzNominees(n), "}") + `, "key_people": [` + strings.Join(items, ",") + `]}`
}

func fuzzUnknownKeys(n int) string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf(`"unknown_%d": %d`, i, i)
	}
	return "{" + strings.Join(keys, ",") + "}"
}

func fuzzDeep(open, close string, depth int) string {
	return strings.Repeat(open, depth) + "1" + strings.Repeat(close, depth)
}

// fuzzWrongTypes puts every kind of JSON value in every field of every form.
func fuzzWrongTypes() []string {
	kinds := []string{`7`, `-2.5`, `"x"`, `true`, `[]`, `[1, "a", null]`, `{}`, `{"k": 1}`}
	fields := []string{
		`{"nominees": %s}`, `{"nominees": [%s]}`, `{"nominees": [{"name": %s, "relationship": "friend"}]}`,
		`{"nominees": [{"relationship": %s}]}`, `{"nominees": [{"relationship": "other", "other_text": %s}]}`,
		`{"key_people": %s}`, `{"key_people": [%s]}`, `{"key_people": [{"reason": %s}]}`,
		`{"nominees": [{"relationship": "friend"}], "key_people": [{"nominee": %s, "reason": "support"}]}`,
		`{"key_people": [{"support": %s}]}`, `{"key_people": [{"support": {"trust": %s}}]}`,
		`{"key_people": [{"let_down": %s}]}`, `{"adequacy": %s}`, `{"adequacy": {"lifelong": %s}}`,
		`{"started_on": %s}`, `{"ended_on": %s}`, `{"tools_used": %s}`, `{"tools_used": [%s]}`,
		`{"connections_identified": %s}`, `{"route": %s}`, `{"fgc_attendees": %s, "route": "fgc"}`,
		`{"outcomes": [%s]}`, `{"outcomes_other_text": %s}`, `{"objectives": %s}`, `{"objectives": [%s]}`,
		`{"objectives": [{"category": %s}]}`, `{"objectives": [{"category": "pets", "met": %s}]}`,
		`{"objectives": [{"category": "pets", "description": %s}]}`,
	}
	var out []string
	for _, f := range fields {
		for _, k := range kinds {
			out = append(out, fmt.Sprintf(f, k))
		}
	}
	// Every field of both forms wrong at once.
	out = append(out, `{"nominees": {}, "key_people": "x", "adequacy": [], "started_on": 1, "ended_on": true,
		"tools_used": {}, "connections_identified": "1", "connections_retained": [], "route": 1,
		"fgc_attendees": "2", "outcomes": "other", "outcomes_other_text": 3, "objectives": {}}`)
	return out
}

// fuzzDefinitions are the published definitions the fuzzer checks: SCT
// version 1 and both practice-summary versions.
func fuzzDefinitions(f *testing.F) []*form.Definition {
	f.Helper()
	reg, err := form.Load(forms.FS())
	if err != nil {
		f.Fatalf("load embedded forms: %v", err)
	}
	var defs []*form.Definition
	for _, id := range []struct{ form, version string }{{"sct", "1"}, {"practice-summary", "1"}, {"practice-summary", "2"}} {
		d, ok := reg.Get(id.form, id.version)
		if !ok {
			f.Fatalf("form %s version %s is not published", id.form, id.version)
		}
		defs = append(defs, d)
	}
	return defs
}

// FuzzValidate checks that whatever a client sends as answers, Validate
// neither panics nor answers vaguely: it accepts one JSON object and
// normalises it, or it names
// at most 100 faults, each with a path below "answers" and a reason; it
// answers the same way twice, accepts its own output unchanged, and accepts
// as a draft whatever it accepts as a submission.
func FuzzValidate(f *testing.F) {
	defs := fuzzDefinitions(f)
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, d := range defs {
			name := d.Form + "@" + d.Version
			accepted := map[bool]map[string]any{}
			for _, complete := range []bool{false, true} {
				mode := fmt.Sprintf("%s complete=%t", name, complete)
				got, faults := d.Validate(raw, complete)
				checkOutcome(t, mode, got, faults)

				again, faultsAgain := d.Validate(raw, complete)
				if !reflect.DeepEqual(got, again) || !reflect.DeepEqual(faults, faultsAgain) {
					t.Fatalf("%s: not deterministic:\nfirst  %v %v\nsecond %v %v", mode, got, faults, again, faultsAgain)
				}
				if len(faults) > 0 {
					continue
				}
				accepted[complete] = got
				if !json.Valid(raw) {
					t.Fatalf("%s: accepted %q, which is not one JSON value (trailing data?)", mode, raw)
				}

				// Normalised answers are answers too: stored, then sent back
				// as the next revision, they must pass unchanged.
				stored, err := json.Marshal(got)
				if err != nil {
					t.Fatalf("%s: marshal normalised answers %v: %v", mode, got, err)
				}
				renormal, faults := d.Validate(stored, complete)
				if len(faults) > 0 {
					t.Fatalf("%s: normalised answers %s rejected: %v", mode, stored, faults)
				}
				if !reflect.DeepEqual(got, renormal) {
					t.Fatalf("%s: normalising twice changed the answers:\nonce  %#v\ntwice %#v", mode, got, renormal)
				}
			}
			if submitted, ok := accepted[true]; ok {
				draft, ok := accepted[false]
				if !ok {
					t.Fatalf("%s: accepted as submitted but rejected as a draft", name)
				}
				if !reflect.DeepEqual(submitted, draft) {
					t.Fatalf("%s: a draft normalises differently:\nsubmitted %#v\ndraft     %#v", name, submitted, draft)
				}
			}
		}
	})
}

// checkOutcome holds Validate's contract for one result.
func checkOutcome(t *testing.T, mode string, got map[string]any, faults []form.FieldError) {
	t.Helper()
	switch {
	case len(faults) == 0 && got == nil:
		t.Fatalf("%s: no faults and no answers", mode)
	case len(faults) > 0 && got != nil:
		t.Fatalf("%s: faults %v and answers %v both", mode, faults, got)
	case len(faults) > fuzzMaxFaults:
		t.Fatalf("%s: %d faults, at most %d allowed", mode, len(faults), fuzzMaxFaults)
	}
	for i, fe := range faults {
		rest, under := strings.CutPrefix(fe.Path, "answers")
		if !under || (rest != "" && rest[0] != '.' && rest[0] != '[') {
			t.Errorf("%s: fault %d has path %q, not below answers (reason %q)", mode, i, fe.Path, fe.Reason)
		}
		if strings.TrimSpace(fe.Reason) == "" {
			t.Errorf("%s: fault %d at %s has no reason", mode, i, fe.Path)
		}
		if !utf8.ValidString(fe.Path) || !utf8.ValidString(fe.Reason) {
			t.Errorf("%s: fault %d is not valid UTF-8: %q %q", mode, i, fe.Path, fe.Reason)
		}
	}
}

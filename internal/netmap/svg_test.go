package netmap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// svgDoc is what a test reads of a map's SVG.
type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	Title   string   `xml:"title"`
	Desc    string   `xml:"desc"`
	Groups  []struct {
		Class string   `xml:"class,attr"`
		Title string   `xml:"title"`
		Texts []string `xml:"text"`
	} `xml:"g"`
}

func render(t *testing.T, a Answers, names bool, caption string) (svgDoc, string) {
	t.Helper()
	var b bytes.Buffer
	if err := Layout(a, names, English()).SVG(&b, caption, English()); err != nil {
		t.Fatal(err)
	}
	var doc svgDoc
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("the SVG is not well-formed XML: %v\n%s", err, b.String())
	}
	// Every element, to the end, must parse: Unmarshal stops at the root's end.
	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	for {
		if _, err := dec.Token(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("token: %v", err)
		}
	}
	return doc, b.String()
}

func hostile() Answers {
	a, _ := Decode(map[string]any{
		"nominees": []any{
			map[string]any{"name": `</text><script>alert(1)</script>`, "relationship": "friend"},
			map[string]any{"name": `Ann & "Bo" <b>`, "relationship": "other", "other_text": `]]><svg onload=x>`},
			map[string]any{"name": "Nan\x00\x1b", "relationship": "grandparent"},
		},
		"key_people": []any{map[string]any{"nominee": 2.0, "reason": "important"}},
	})
	return a
}

func TestSVG_IsAnSVGDocumentWithItsTextAlternative(t *testing.T) {
	doc, raw := render(t, hostile(), true, "Baseline, 2019-06-14")
	if doc.XMLName.Space != "http://www.w3.org/2000/svg" || doc.XMLName.Local != "svg" {
		t.Errorf("root %v, want svg in the SVG namespace", doc.XMLName)
	}
	if !strings.Contains(doc.Title, "Baseline, 2019-06-14") {
		t.Errorf("title %q does not say which SCT", doc.Title)
	}
	// Each name and wording of the young person's is isolated, so that none
	// can turn the direction of the text after it.
	for _, want := range []string{"Inner circle", "\u2068Nan", "\u2068Grandparent\u2069 (Family)",
		"\u2068</text><script>alert(1)</script>\u2069: \u2068Friend\u2069 (Friends)",
		"\u2068Ann & \"Bo\" <b>\u2069: \u2068]]><svg onload=x>\u2069 (Someone else)"} {
		if !strings.Contains(doc.Desc, want) {
			t.Errorf("desc lacks %q: %q", want, doc.Desc)
		}
	}
	for _, bad := range []string{"<script", "<svg onload", "<b>", "\x00", "\x1b"} {
		if strings.Contains(raw, bad) {
			t.Errorf("the SVG holds %q as written", bad)
		}
	}
	var people int
	for _, g := range doc.Groups {
		if strings.HasPrefix(g.Class, "person") {
			people++
		}
	}
	if people != 3 {
		t.Errorf("%d people drawn, want 3", people)
	}
}

func TestSVG_WithoutNamesHoldsNoName(t *testing.T) {
	doc, raw := render(t, hostile(), false, "")
	for _, name := range []string{"script", "Ann", `"Bo"`, "Nan", "onload", "svg onload"} {
		if strings.Contains(raw, name) {
			t.Errorf("the SVG without names holds %q", name)
		}
	}
	if !strings.Contains(doc.Desc, "Names are not shown.") || !strings.Contains(doc.Desc, "\u2068Grandparent\u2069 (Family)") {
		t.Errorf("desc %q", doc.Desc)
	}
}

func TestSVG_NobodyNamed(t *testing.T) {
	doc, _ := render(t, Answers{}, true, "")
	if !strings.Contains(doc.Desc, "No one named") {
		t.Errorf("desc %q", doc.Desc)
	}
}

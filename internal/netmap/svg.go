package netmap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
)

// legendHeight is the legend's height, in user units.
const legendHeight = 200.0

// The largest a map is printed, in millimetres: an A4 page (210 × 297)
// inside a browser's print margins, with room to spare for a US Letter
// page's (279 mm tall) and the page's own margin.
const (
	printWidth  = 180.0
	printHeight = 245.0
)

// SVG writes the map as a standalone SVG document: the picture, its legend,
// and in <title> and <desc> the same content as text. caption (a timepoint
// and date, say) heads the picture; it may be empty. Every text is escaped;
// nothing of the answers is written as markup.
func (m Map) SVG(out io.Writer, caption string, w Words) error {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	// Its own size fits an A4 page inside the margins, so that it prints on
	// one sheet; on a screen it scales with its box.
	wide := math.Min(printWidth, printHeight*Width/m.Height)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%.1fmm" height="%.1fmm" role="img" aria-labelledby="map-title map-desc" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif">`+"\n",
		Width, m.Height, wide, wide*m.Height/Width)
	title := w.get("title")
	if caption != "" {
		title = fmt.Sprintf(w.get("title_when"), caption)
	}
	fmt.Fprintf(&b, "<title id=\"map-title\">%s</title>\n<desc id=\"map-desc\">%s</desc>\n", esc(title), esc(m.Text(w)))
	b.WriteString(`<rect width="100%" height="100%" fill="#ffffff"/>` + "\n")
	if caption != "" {
		fmt.Fprintf(&b, `<text x="12" y="26" font-size="18" fill="#333333">%s</text>`+"\n", esc(caption))
	}
	outer := 0.9
	for _, p := range m.People {
		if p.Ring == Outer && p.Y != 0 {
			outer = math.Max(outer, math.Hypot((p.X-centreX)/radiusX, (p.Y-m.CentreY)/m.RadiusY))
		}
	}
	for _, r := range []struct {
		scale float64
		fill  string
	}{{math.Min(outer, 1) + 0.06, "#f7f8fa"}, {0.72, "#eef2f7"}, {0.5, "#e3eaf3"}} {
		fmt.Fprintf(&b, `<ellipse cx="%g" cy="%g" rx="%g" ry="%g" fill="%s" stroke="#b8c2cf" stroke-width="1.5" stroke-dasharray="6 5"/>`+"\n",
			centreX, m.CentreY, round(radiusX*r.scale), round(m.RadiusY*r.scale), r.fill)
	}
	fmt.Fprintf(&b, `<circle cx="%g" cy="%g" r="%g" fill="#1d4f7a"/>`+"\n", centreX, m.CentreY, meR)
	fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="18" font-weight="700" fill="#ffffff" text-anchor="middle">%s</text>`+"\n", centreX, m.CentreY+6, esc(w.get("me")))
	if len(m.People) == 0 {
		fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="18" fill="#333333" text-anchor="middle">%s</text>`+"\n", centreX, m.CentreY+70, esc(w.get("nobody")))
	}
	styles := Styles()
	for _, p := range m.People {
		st := styles[p.Group]
		fmt.Fprintf(&b, `<g class="person ring-%d group-%s">`, p.Ring, p.Group)
		fmt.Fprintf(&b, "<title>%s</title>", esc(p.describe(w)))
		b.WriteString(shape(st, p.X, p.Y, markR))
		y := p.Y + markR + nameSize
		if p.Shown != "" {
			fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="%g" font-weight="700" fill="#111111" text-anchor="middle" stroke="#ffffff" stroke-width="4" paint-order="stroke">%s</text>`,
				p.LabelX, y, nameSize, esc(p.Shown))
			y += labelSize + 2
		}
		fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="%g" fill="#333333" text-anchor="middle" stroke="#ffffff" stroke-width="4" paint-order="stroke">%s</text>`,
			p.LabelX, y, labelSize, esc(p.ShownLabel))
		b.WriteString("</g>\n")
	}
	legend(&b, m.Height-legendHeight, w)
	b.WriteString("</svg>\n")
	_, err := out.Write(b.Bytes())
	return err
}

// legend writes the key: each group's shape and colour, then what the
// circles mean.
func legend(b *bytes.Buffer, legendY float64, w Words) {
	fmt.Fprintf(b, `<g class="legend"><text x="12" y="%g" font-size="20" font-weight="700" fill="#111111">%s</text>`, legendY, esc(w.get("legend")))
	styles := Styles()
	for i, g := range Groups() {
		x, y := 24.0+float64(i%2)*300, legendY+34+float64(i/2)*32
		b.WriteString(shape(styles[g], x, y-6, 10))
		fmt.Fprintf(b, `<text x="%g" y="%g" font-size="18" fill="#111111">%s</text>`, x+20, y, esc(w.get("group_"+string(g))))
	}
	for i, r := range []string{"ring_1", "ring_2", "ring_3"} {
		fmt.Fprintf(b, `<text x="12" y="%g" font-size="17" fill="#333333">%s</text>`, legendY+136+float64(i)*24, esc(w.get(r)))
	}
	b.WriteString("</g>\n")
}

// shape draws a group's marker centred at x, y.
func shape(st Style, x, y, r float64) string {
	attrs := fmt.Sprintf(`fill="%s" stroke="#222222" stroke-width="1.5"`, st.Colour)
	switch st.Shape {
	case "square":
		s := round(r * 0.85)
		return fmt.Sprintf(`<rect x="%g" y="%g" width="%g" height="%g" %s/>`, round(x-s), round(y-s), 2*s, 2*s, attrs)
	case "triangle":
		return polygon(attrs, x, y, r*1.15, 3, 0)
	case "diamond":
		return polygon(attrs, x, y, r*1.1, 4, 0)
	case "hexagon":
		return polygon(attrs, x, y, r*1.05, 6, 0)
	case "star":
		return polygon(attrs, x, y, r*1.2, 5, r*0.55)
	}
	return fmt.Sprintf(`<circle cx="%g" cy="%g" r="%g" %s/>`, x, y, r, attrs)
}

// polygon is a regular polygon with its first corner at the top, or a star
// when inner (the radius of the points between) is set.
func polygon(attrs string, x, y, r float64, corners int, inner float64) string {
	var pts []string
	steps := corners
	if inner > 0 {
		steps *= 2
	}
	for i := range steps {
		rad := r
		if inner > 0 && i%2 == 1 {
			rad = inner
		}
		a := -math.Pi/2 + 2*math.Pi*float64(i)/float64(steps)
		pts = append(pts, fmt.Sprintf("%g,%g", round(x+rad*math.Cos(a)), round(y+rad*math.Sin(a))))
	}
	return fmt.Sprintf(`<polygon points="%s" %s/>`, strings.Join(pts, " "), attrs)
}

// describe is one person in words: name (when shown), relationship, group.
// Each name and wording of the young person's own is isolated (FSI … PDI),
// so that whatever direction it runs in it cannot turn the text after it.
func (p Person) describe(w Words) string {
	s := fmt.Sprintf("%s (%s)", isolate(p.Label), w.get("group_"+string(p.Group)))
	if p.Name != "" {
		s = isolate(p.Name) + ": " + s
	}
	return s
}

// isolate wraps s in the first-strong isolate marks.
func isolate(s string) string { return "\u2068" + s + "\u2069" }

// Text is the map as words, ring by ring: the text alternative to the
// picture, in its <desc> and beside it on a page.
func (m Map) Text(w Words) string {
	var parts []string
	if !m.Names {
		parts = append(parts, w.get("names_hidden"))
	}
	for _, r := range []int{Inner, Middle, Outer} {
		var who []string
		for _, p := range m.People {
			if p.Ring == r {
				who = append(who, p.describe(w))
			}
		}
		if len(who) == 0 {
			who = []string{w.get("nobody")}
		}
		parts = append(parts, fmt.Sprintf("%s: %s.", w.get(fmt.Sprintf("ring_%d", r)), strings.Join(who, "; ")))
	}
	return strings.Join(parts, " ")
}

// esc escapes text for XML; characters XML cannot hold become U+FFFD.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

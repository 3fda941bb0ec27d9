package netmap

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"testing"
)

// Whatever the number of people, the SVG's own size fits an A4 page inside
// its margins, keeping the picture's proportions.
func TestSVG_FitsAnA4Page(t *testing.T) {
	size := regexp.MustCompile(`<svg [^>]*viewBox="0 0 ([0-9.]+) ([0-9.]+)" width="([0-9.]+)mm" height="([0-9.]+)mm"`)
	for _, n := range []int{0, 5, 12, 20} {
		t.Run(fmt.Sprint(n, " people"), func(t *testing.T) {
			var b bytes.Buffer
			if err := Layout(answers(min(n, 3), 0, 0, max(n-3, 0)), true, English()).SVG(&b, "", English()); err != nil {
				t.Fatal(err)
			}
			m := size.FindStringSubmatch(b.String())
			if m == nil {
				t.Fatalf("no size in %.300s", b.String())
			}
			var v [4]float64
			for i := range v {
				v[i], _ = strconv.ParseFloat(m[i+1], 64)
			}
			if v[2] > 180 || v[3] > 245.05 || v[2] < 90 {
				t.Errorf("printed at %gmm × %gmm; the most is 180 × 245, to print on one A4 (or Letter) page", v[2], v[3])
			}
			if r := v[2] / v[3] * v[1] / v[0]; r < 0.99 || r > 1.01 {
				t.Errorf("the printed size %g × %g does not keep the picture's proportions %g × %g", v[2], v[3], v[0], v[1])
			}
		})
	}
}

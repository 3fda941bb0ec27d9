package export

import (
	"bytes"
	"github.com/lifelong-links/sct/internal/export/exporttest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lifelong-links/sct/internal/store"
)

// doFile is what a small parser reads back from a Stata do-file.
type doFile struct {
	file          string
	options       map[string]string // import delimited's options
	names         []string          // v1, v2, ... renamed to these, in order
	dates         []string          // converted to Stata dates
	dataLabel     string
	varLabels     map[string]string
	defines       map[string][]ValueLabel // label define
	values        map[string]string       // variable → its value label
	mvdecode      []string
	mv            string
	version, tail string
}

// stataTokens splits a do-file into commands of tokens: * lines are
// comments, /// continues a command on the next line, `"..."' and "..." are
// strings (marked with \x00, unescaped as Stata's macro expansion would).
func stataTokens(t *testing.T, src string) [][]string {
	t.Helper()
	var cmds [][]string
	var cur []string
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(line, "*") && len(cur) == 0 {
			continue
		}
		cont := strings.HasSuffix(line, " ///")
		line = strings.TrimSuffix(line, " ///")
		for i := 0; i < len(line); {
			switch {
			case line[i] == ' ':
				i++
			case strings.HasPrefix(line[i:], "`\""):
				end := strings.Index(line[i+2:], "\"'")
				if end < 0 {
					t.Fatalf("unterminated compound quote in %q", line)
				}
				s := line[i+2 : i+2+end]
				if strings.ContainsAny(s, "`") {
					t.Errorf("a backtick inside a compound quote would be expanded: %q", s)
				}
				if regexp.MustCompile(`(^|[^\\])\$`).MatchString(s) {
					t.Errorf("an unescaped $ would be expanded: %q", s)
				}
				cur = append(cur, "\x00"+strings.ReplaceAll(s, `\$`, "$"))
				i += 2 + end + 2
			case line[i] == '"':
				end := strings.IndexByte(line[i+1:], '"')
				if end < 0 {
					t.Fatalf("unterminated string in %q", line)
				}
				cur = append(cur, "\x00"+line[i+1:i+1+end])
				i += end + 2
			default:
				// A word; what is in parentheses or quotes stays in it:
				// numericcols(1/3 5), encoding("utf-8").
				j, depth := i, 0
				for j < len(line) && (line[j] != ' ' || depth > 0) {
					switch line[j] {
					case '(':
						depth++
					case ')':
						depth--
					}
					if line[j] == '"' {
						k := strings.IndexByte(line[j+1:], '"')
						if k < 0 {
							t.Fatalf("unterminated string in %q", line)
						}
						j += k + 1
					}
					j++
				}
				cur = append(cur, line[i:j])
				i = j
			}
		}
		if !cont && len(cur) > 0 {
			cmds = append(cmds, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		t.Errorf("do-file ends inside a command: %v", cur)
	}
	return cmds
}

var option = regexp.MustCompile(`^(\w+)\((.*)\)$`)

func parseStata(t *testing.T, src string) doFile {
	t.Helper()
	d := doFile{options: map[string]string{}, varLabels: map[string]string{}, defines: map[string][]ValueLabel{},
		values: map[string]string{}}
	renamed := map[string]string{}
	for _, cmd := range stataTokens(t, src) {
		switch {
		case cmd[0] == "version":
			d.version = cmd[1]
		case cmd[0] == "import" && cmd[1] == "delimited":
			if cmd[2] != "using" || !isString(cmd[3]) || cmd[4] != "," {
				t.Errorf("import delimited %q", cmd)
				continue
			}
			d.file = unquote(cmd[3])
			for _, o := range cmd[5:] {
				if m := option.FindStringSubmatch(o); m != nil {
					d.options[m[1]] = m[2]
				} else {
					d.options[o] = ""
				}
			}
		case cmd[0] == "rename" && strings.HasPrefix(cmd[1], "("):
			toks := strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(strings.Join(cmd[1:], " ")))
			mid := slices.Index(toks, ")")
			from, to := toks[1:mid], toks[mid+2:len(toks)-1]
			if len(from) != len(to) {
				t.Errorf("rename %v to %v", from, to)
				continue
			}
			for i := range from {
				if want := "v" + strconv.Itoa(len(d.names)+1); from[i] != want {
					t.Errorf("rename %s, want %s next", from[i], want)
				}
				renamed[from[i]] = to[i]
				d.names = append(d.names, to[i])
			}
		case cmd[0] == "generate":
			m := regexp.MustCompile(`^date\((\w+), "YMD"\)$`).FindStringSubmatch(cmd[len(cmd)-1])
			if len(cmd) != 5 || cmd[1] != "double" || cmd[2] != "_sct_date" || cmd[3] != "=" || m == nil {
				t.Errorf("generate %q", cmd)
				continue
			}
			d.dates = append(d.dates, m[1])
		case cmd[0] == "label" && cmd[1] == "data":
			d.dataLabel = unquote(cmd[2])
		case cmd[0] == "label" && cmd[1] == "variable":
			if len(cmd) != 4 || !isString(cmd[3]) {
				t.Errorf("label variable %q", cmd)
				continue
			}
			d.varLabels[cmd[2]] = unquote(cmd[3])
		case cmd[0] == "label" && cmd[1] == "define":
			rest := cmd[3:]
			if len(rest) < 2 || rest[len(rest)-2] != "," || rest[len(rest)-1] != "replace" || len(rest)%2 != 0 {
				t.Errorf("label define %q", cmd)
				continue
			}
			for i := 0; i < len(rest)-2; i += 2 {
				if !isString(rest[i+1]) {
					t.Errorf("label define %s: %q is not a string", cmd[2], rest[i+1])
				}
				d.defines[cmd[2]] = append(d.defines[cmd[2]], ValueLabel{rest[i], unquote(rest[i+1])})
			}
		case cmd[0] == "label" && cmd[1] == "values":
			for _, v := range cmd[2 : len(cmd)-1] {
				d.values[v] = cmd[len(cmd)-1]
			}
		case cmd[0] == "mvdecode":
			last := cmd[len(cmd)-1]
			d.mv = strings.TrimSuffix(strings.TrimPrefix(last, "mv("), ")")
			for _, v := range cmd[1 : len(cmd)-1] {
				d.mvdecode = append(d.mvdecode, strings.TrimSuffix(v, ","))
			}
		case cmd[0] == "clear", cmd[0] == "compress", cmd[0] == "order", cmd[0] == "drop", cmd[0] == "format",
			cmd[0] == "rename":
		default:
			t.Errorf("unexpected command %q", cmd)
		}
		d.tail = cmd[0]
	}
	return d
}

// columnNumbers expands a numlist such as "1/3 7 9/10".
func columnNumbers(t *testing.T, numlist string) []int {
	t.Helper()
	var out []int
	for _, f := range strings.Fields(numlist) {
		a, b, ok := strings.Cut(f, "/")
		from, err := strconv.Atoi(a)
		if err != nil {
			t.Fatalf("numlist %q", numlist)
		}
		to := from
		if ok {
			if to, err = strconv.Atoi(b); err != nil {
				t.Fatalf("numlist %q", numlist)
			}
		}
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
	}
	return out
}

func TestStata_DoFileReadsEveryColumnWithItsLabels(t *testing.T) {
	all := layouts(t)
	n := sctNetwork(t)
	all[n.Nodes.Name], all[n.Edges.Name] = n.Nodes, n.Edges
	for name, l := range all {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Stata(&buf, l, name+".csv"); err != nil {
				t.Fatal(err)
			}
			d := parseStata(t, buf.String())
			if d.file != name+".csv" || d.version != "14" || d.tail != "compress" {
				t.Errorf("imports %q, version %q, ends with %q", d.file, d.version, d.tail)
			}
			for _, o := range []string{`delimiters(",")`, "varnames(nonames)", "rowrange(2)", `encoding("utf-8")`, "bindquote(strict)", "clear"} {
				m := option.FindStringSubmatch(o)
				if m == nil {
					m = []string{o, o, ""}
				}
				if got, ok := d.options[m[1]]; !ok || got != m[2] {
					t.Errorf("import delimited option %s = %q, want %q", m[1], got, m[2])
				}
			}
			stata := StataNames(l)
			if !slices.Equal(d.names, stata) {
				t.Errorf("renamed to %v\nwant %v", d.names, stata)
			}
			numeric := columnNumbers(t, d.options["numericcols"])
			text := columnNumbers(t, d.options["stringcols"])
			var wantNumeric, wantText, wantDates, wantMissing []string
			for i, c := range l.Columns {
				if c.Kind == Numeric {
					wantNumeric = append(wantNumeric, strconv.Itoa(i+1))
					wantMissing = append(wantMissing, stata[i])
				} else {
					wantText = append(wantText, strconv.Itoa(i+1))
				}
				if c.Kind == Date {
					wantDates = append(wantDates, stata[i])
				}
				label := d.varLabels[stata[i]]
				if label != truncateRunes(c.Label, maxStataVarLabel) {
					t.Errorf("%s is labelled %q, want %q", stata[i], label, c.Label)
				}
				if !c.Coded() {
					if d.values[stata[i]] != "" {
						t.Errorf("%s has value labels but is not coded", stata[i])
					}
					continue
				}
				var want []ValueLabel
				for _, vl := range c.ValueLabels {
					if vl.Value == MissingNumeric {
						vl.Value = ".a"
					}
					want = append(want, vl)
				}
				if got := d.defines[d.values[stata[i]]]; !slices.Equal(got, want) {
					t.Errorf("%s has value labels %s %v\nwant %v", stata[i], d.values[stata[i]], got, want)
				}
			}
			itoa := func(ns []int) []string {
				var out []string
				for _, n := range ns {
					out = append(out, strconv.Itoa(n))
				}
				return out
			}
			if !slices.Equal(itoa(numeric), wantNumeric) || !slices.Equal(itoa(text), wantText) {
				t.Errorf("numericcols %v stringcols %v, want %v and %v", numeric, text, wantNumeric, wantText)
			}
			if !slices.Equal(d.dates, wantDates) {
				t.Errorf("dates converted: %v, want %v", d.dates, wantDates)
			}
			if !slices.Equal(d.mvdecode, wantMissing) || d.mv != "-1=.a" {
				t.Errorf("mvdecode %v, mv(%s)\nwant %v", d.mvdecode, d.mv, wantMissing)
			}
		})
	}
}

func TestStataNames_AreUniqueShortAndNotReserved(t *testing.T) {
	all := layouts(t)
	n := sctNetwork(t)
	all[n.Nodes.Name], all[n.Edges.Name] = n.Nodes, n.Edges
	odd := ParticipationLayout()
	odd.Columns = nil
	for _, name := range []string{"in", "long", "str5", "strl", "byte", "key_people_1_support_positive_feedback",
		"key_people_1_support_positive_fe", "key_people_1_support_positive_feelings", "a_" + strings.Repeat("b", 62)} {
		odd.Columns = append(odd.Columns, Column{Name: name, Kind: Numeric})
	}
	all["odd"] = odd
	valid := regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	for name, l := range all {
		t.Run(name, func(t *testing.T) {
			names := StataNames(l)
			seen := map[string]bool{}
			for i, n := range names {
				c := l.Columns[i].Name
				if !valid.MatchString(n) || stataReservedName(n) || seen[n] {
					t.Errorf("%s: Stata name %q is not valid, is reserved, or is taken", c, n)
				}
				seen[n] = true
				if len(c) <= 32 && !stataReservedName(c) && n != c {
					t.Errorf("%s was renamed %s, though Stata takes it", c, n)
				}
				if !strings.HasPrefix(n, c[:min(len(c), 20)]) {
					t.Errorf("%s became %s, which does not start like it", c, n)
				}
			}
		})
	}
	want := []string{"in_v", "long_v", "str5_v", "strl_v", "byte_v", "key_people_1_support_positive_2", "key_people_1_support_positive_fe",
		"key_people_1_support_positive_3", "a_" + strings.Repeat("b", 30)}
	if got := StataNames(odd); !slices.Equal(got, want) {
		t.Errorf("StataNames = %v\nwant %v", got, want)
	}
}

func TestStata_QuotesAndCutsLabels(t *testing.T) {
	l := ParticipationLayout()
	labels := []string{
		`She said "go"' and left`,
		"Costs $HOME and `x' and \\ back",
		strings.Repeat("é", 200),
		"Line one\nline two",
	}
	for i, s := range labels {
		l.Columns[i].Label = s
	}
	long := strings.Repeat("ü", maxStataValueLabel+10)
	l.Columns[4].ValueLabels = []ValueLabel{{"-1", "Don't \"know\""}, {"1", long}}
	var buf bytes.Buffer
	if err := Stata(&buf, l, "it's $x.csv"); err != nil {
		t.Fatal(err)
	}
	d := parseStata(t, buf.String())
	want := []string{
		`She said "go”' and left`, // "' would end the quote
		"Costs $HOME and ‘x' and \\ back",
		strings.Repeat("é", maxStataVarLabel),
		"Line one line two",
	}
	for i, w := range want {
		got := d.varLabels[l.Columns[i].Name]
		if got != w {
			t.Errorf("label %d read back as %q, want %q", i, got, w)
		}
		if utf8.RuneCountInString(got) > maxStataVarLabel {
			t.Errorf("label %d has %d characters", i, utf8.RuneCountInString(got))
		}
	}
	vl := d.defines[StataNames(l)[4]]
	if len(vl) != 2 || vl[0] != (ValueLabel{".a", `Don't "know"`}) || vl[1].Label != long[:len(long)-20] {
		t.Errorf("value labels read back as %d labels, first %v, second of %d characters", len(vl), vl[0], utf8.RuneCountInString(vl[1].Label))
	}
	if d.file != "it's $x.csv" {
		t.Errorf("reads %q", d.file)
	}
}

// TestR_ScriptReadsTheCSVWithItsLabels runs the R script on a CSV and reads
// back, from R, every column's class, label, levels and values.
func TestR_ScriptReadsTheCSVWithItsLabels(t *testing.T) {
	bin := exporttest.Tool(t, "Rscript", "r-base-core")
	l := must[*Layout](t)(Wide(demoVersions(t)))
	l.Columns[0].Label = `Quote " backslash \ dollar $ unicode é ✓ 𝄞 and "' ` + "`tick`"
	l.Columns[1].Label = "Tab\tand\nnewline"
	dir := t.TempDir()
	answers := map[string]any{}
	r := store.Response{ID: "r1", Form: "demo", Version: "2", ChildID: "C 1, \"quoted\"", Site: "A", Group: "comparison",
		Timepoint: "baseline", CompletedOn: "2020-02-29", Mode: "online", Answers: answers}
	if err := os.WriteFile(filepath.Join(dir, l.Name+".csv"), write(t, l, r), 0o600); err != nil {
		t.Fatal(err)
	}
	var script bytes.Buffer
	if err := R(&script, l, l.Name+".csv"); err != nil {
		t.Fatal(err)
	}
	for _, b := range script.Bytes() {
		if b >= 0x80 {
			t.Fatal("the R script is not ASCII")
		}
	}
	if err := os.WriteFile(filepath.Join(dir, l.Name+".R"), script.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	driver := `source("` + l.Name + `.R")
d <- ` + l.Name + `
out <- character()
for (v in names(d)) {
  x <- d[[v]]
  out <- c(out, paste(v, class(x)[length(class(x))], attr(x, "label"), paste(levels(x), collapse = "|"),
    if (is.na(x[1])) "NA" else as.character(x[1]), sep = "\t"))
}
writeLines(enc2utf8(out), "out.txt", useBytes = TRUE)
`
	if err := os.WriteFile(filepath.Join(dir, "driver.R"), []byte(driver), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--vanilla", "driver.R")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=C.UTF-8")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("Rscript: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	if len(lines) != len(l.Columns) {
		t.Fatalf("R read %d columns, want %d:\n%s", len(lines), len(l.Columns), got)
	}
	row := records(t, l, write(t, l, r))[0]
	for i, c := range l.Columns {
		f := strings.Split(lines[i], "\t")
		if len(f) != 5 {
			t.Errorf("R line %q", lines[i])
			continue
		}
		class := map[Kind]string{Numeric: "numeric", String: "character", Date: "Date"}[c.Kind]
		var levels []string
		for _, vl := range c.ValueLabels {
			if vl.Value != MissingNumeric {
				levels = append(levels, oneLine(vl.Label))
			}
		}
		value := row[c.Name]
		switch {
		case value == "" || value == MissingNumeric:
			value = "NA"
		case c.Coded():
			value = labelOf(c.ValueLabels, value)
		}
		if c.Coded() && c.Kind == Numeric {
			class = "factor"
		}
		want := []string{c.Name, class, oneLine(c.Label), strings.Join(levels, "|"), value}
		if !slices.Equal(f, want) {
			t.Errorf("R read column %d as %q\nwant %q", i+1, f, want)
		}
	}
}

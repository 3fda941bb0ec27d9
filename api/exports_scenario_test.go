package api_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/export/exporttest"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/server/servertest"
)

// networkNames are the names the network fixture gives; none may reach an
// export.
var networkNames = []string{"Philippa-Secret", "Rasmus-Secret", "Oluwaseun-Secret", "Magnhild-Secret", "Teodor-Secret",
	"Ignatius-Secret", "Wilhelmina-Secret", "Coach-Secret"}

// seedNetworks submits SCTs whose networks take every shape: key people
// from the list (most important and support), a supporter who is someone
// new, skipped ratings, and a follow-up and a draft that baseline tables
// leave out. Children N1-N3 and N5 are site A's, N4 site B's.
func seedNetworks(t *testing.T, s *servertest.Server) {
	t.Helper()
	for _, c := range []struct{ id, site, group string }{
		{"N1", "A", "lifelong_links"}, {"N2", "A", "comparison"}, {"N3", "A", "lifelong_links"}, {"N4", "B", "lifelong_links"}, {"N5", "A", "lifelong_links"},
	} {
		if st, b := s.Do(t, "POST", "/api/v1/children", fmt.Sprintf(`{"id":%q,"site":%q,"group":%q}`, c.id, c.site, c.group), "coord"+c.site); st != 201 {
			t.Fatalf("child %s: %d %s", c.id, st, b)
		}
	}
	scts := []struct{ id, child, site, timepoint, status, answers string }{
		{"b2000000-0000-4000-8000-000000000001", "N1", "A", "baseline", "submitted", `{
			"nominees":[{"name":"Philippa-Secret","relationship":"grandparent"},{"name":"Rasmus-Secret","relationship":"sibling"},
				{"name":"Oluwaseun-Secret","relationship":"other","other_text":"Coach-Secret"}],
			"key_people":[
				{"nominee":0,"reason":"important","support":{"emotional":4,"practical":3,"trust":4},"let_down":1},
				{"nominee":2,"reason":"important","support":{"emotional":2,"advice":1},"let_down":3},
				{"name":"Magnhild-Secret","relationship":"school_staff","reason":"support","support":{"emotional":3,"advocacy":4},"let_down":2}],
			"adequacy":{"emotional":3,"practical":2}}`},
		{"b2000000-0000-4000-8000-000000000002", "N2", "A", "baseline", "submitted", `{
			"nominees":[{"name":"Teodor-Secret","relationship":"grandparent"},{"name":"Ignatius-Secret","relationship":"friend"}],
			"key_people":[{"nominee":1,"reason":"support","support":{"emotional":1},"let_down":4}],
			"adequacy":{"emotional":1}}`},
		{"b2000000-0000-4000-8000-000000000003", "N3", "A", "baseline", "submitted", `{"adequacy":{"emotional":3}}`},
		{"b2000000-0000-4000-8000-000000000004", "N4", "B", "baseline", "submitted", `{
			"nominees":[{"name":"Wilhelmina-Secret","relationship":"biological_mother"}],
			"key_people":[{"nominee":0,"reason":"important","support":{"emotional":4}}],
			"adequacy":{"emotional":2}}`},
		{"b2000000-0000-4000-8000-000000000005", "N1", "A", "follow_up", "submitted", `{
			"nominees":[{"name":"Philippa-Secret","relationship":"grandparent"}],"adequacy":{"emotional":1}}`},
		{"b2000000-0000-4000-8000-000000000006", "N5", "A", "baseline", "draft", `{
			"nominees":[{"name":"Philippa-Secret","relationship":"biological_father"}],"adequacy":{"emotional":1}}`},
	}
	for _, x := range scts {
		if st, b := s.Do(t, "PUT", "/api/v1/responses/"+x.id, sctRequest(x.child, x.timepoint, "2019-06-14", x.status, x.answers), "coord"+x.site); st != 201 {
			t.Fatalf("SCT %s %s: %d %s", x.child, x.timepoint, st, b)
		}
	}
}

func unzip(t *testing.T, body []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = b
	}
	return files
}

// The network files over HTTP: GraphML that follows the schema with one
// graph per row of the wide file and one node per person the wide file
// counts; the same people in the nodes and edges CSVs; a site lead gets
// their own site's; no name anywhere; the files audited like the others.
func TestExports_NetworkFilesMatchTheWideFileAndNameNoOne(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	seedNetworks(t, s)

	for _, tt := range []struct {
		as, query string
		graphs    int
	}{
		{"evaluator", "", 5},
		{"leadA", "?site=A", 4},
	} {
		t.Run(tt.as, func(t *testing.T) {
			st, body := s.Do(t, "GET", "/api/v1/exports/data-return.zip"+tt.query, "", tt.as)
			if st != 200 {
				t.Fatalf("data return: %d %s", st, body)
			}
			files := unzip(t, body)
			for _, name := range []string{"sct_network.graphml", "sct_nodes.csv", "sct_nodes.sps", "sct_nodes.do", "sct_nodes.R",
				"sct_edges.csv", "sct_edges.sps", "sct_edges.do", "sct_edges.R", "sct_wide.do", "sct_wide.R", "participation.do", "participation.R"} {
				if _, ok := files[name]; !ok {
					t.Errorf("the data return lacks %s", name)
				}
			}
			doc, errs := exporttest.ReadGraphML(files["sct_network.graphml"])
			for _, err := range errs {
				t.Error(err)
			}
			if doc == nil {
				t.FailNow()
			}
			wide, err := exporttest.WideNetworkSizes(files["sct_wide.csv"])
			if err != nil {
				t.Fatal(err)
			}
			if len(doc.Graphs) != len(wide) || len(wide) != tt.graphs {
				t.Errorf("%d graphs, %d rows in the wide file, want %d", len(doc.Graphs), len(wide), tt.graphs)
			}
			nodes := strings.Count(string(files["sct_nodes.csv"]), "\n") - 1
			edges := strings.Count(string(files["sct_edges.csv"]), "\n") - 1
			var wantNodes, wantEdges int
			for _, g := range doc.Graphs {
				id := g.Data["response_id"]
				if n, ok := wide[id]; !ok || len(g.Nodes) != n {
					t.Errorf("graph of response %s has %d nodes; the wide file gives %d people (row found: %v)", id, len(g.Nodes), n, ok)
				}
				if g.Data["site"] != "A" && tt.query != "" {
					t.Errorf("site lead A's GraphML holds a graph of site %s", g.Data["site"])
				}
				wantNodes += len(g.Nodes)
				wantEdges += len(g.Edges)
			}
			if nodes != wantNodes || edges != wantEdges {
				t.Errorf("the CSVs have %d nodes and %d edges, the GraphML %d and %d", nodes, edges, wantNodes, wantEdges)
			}
			// N1's baseline by hand: the young person, three named, one new
			// supporter.
			for _, g := range doc.Graphs {
				if g.ID == "b2000000-0000-4000-8000-000000000001" {
					roles := map[string]int{}
					for _, n := range g.Nodes {
						roles[g.Node[n]["role"]]++
					}
					if len(g.Nodes) != 5 || roles["ego"] != 1 || roles["most_important"] != 2 || roles["important"] != 1 || roles["support"] != 1 {
						t.Errorf("N1's network: %d nodes, roles %v", len(g.Nodes), roles)
					}
				}
			}
			for name, content := range files {
				for _, secret := range networkNames {
					if bytes.Contains(content, []byte(secret)) {
						t.Errorf("%s holds %q", name, secret)
					}
				}
			}
		})
	}

	// Each file on its own, with the content type a tool expects.
	for _, tt := range []struct{ file, contentType, starts string }{
		{"sct_network.graphml", "application/graphml+xml", "<?xml"},
		{"sct_nodes.csv", "text/csv; charset=utf-8", "id,response_id,"},
		{"sct_edges.csv", "text/csv; charset=utf-8", "source,target,response_id,"},
		{"sct_wide.do", "text/plain; charset=utf-8", "* Encoding: UTF-8."},
		{"sct_edges.R", "text/plain; charset=utf-8", "# Social Connections Tool network"},
		{"sct_nodes.sps", "text/plain; charset=utf-8", "* Encoding: UTF-8."},
	} {
		t.Run(tt.file, func(t *testing.T) {
			res, body := s.Send(t, "GET", "/api/v1/exports/"+tt.file, "", map[string]string{"Authorization": "Bearer " + s.Tokens["evaluator"]})
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != tt.contentType || !bytes.HasPrefix(body, []byte(tt.starts)) {
				t.Errorf("%d %s %.80q", res.StatusCode, res.Header.Get("Content-Type"), body)
			}
			for _, secret := range networkNames {
				if bytes.Contains(body, []byte(secret)) {
					t.Errorf("%s holds %q", tt.file, secret)
				}
			}
		})
	}
	for _, bad := range []string{"sct_network.csv", "sct_network.R", "sct_nodes.graphml", "sct_wide.dta"} {
		if st, _ := s.Do(t, "GET", "/api/v1/exports/"+bad, "", "evaluator"); st != 404 {
			t.Errorf("%s: %d, want 404", bad, st)
		}
	}
	if st, _ := s.Do(t, "GET", "/api/v1/exports/sct_network.graphml?site=B", "", "leadA"); st != 403 {
		t.Errorf("site lead A's GraphML of site B: %d, want 403", st)
	}
	if st, _ := s.Do(t, "GET", "/api/v1/exports/sct_network.graphml", "", "coordA"); st != 403 {
		t.Errorf("a coordinator's GraphML: %d, want 403", st)
	}
	// Two data returns, the GraphML and two CSVs hold data; syntax files do not.
	audit := getJSON(t, s, "admin", "/api/v1/audit?action=export")
	if n := len(audit["entries"].([]any)); n != 5 {
		t.Errorf("%d export entries in the audit, want 5", n)
	}
}

// The syntax files of a data return, run by the statistics packages on the
// return, give the same baseline tables as the server's own summary.
func TestExports_StatisticsPackagesGiveTheSummaryTables(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	seedNetworks(t, s)
	st, body := s.Do(t, "GET", "/api/v1/exports/data-return.zip", "", "evaluator")
	if st != 200 {
		t.Fatalf("data return: %d %s", st, body)
	}
	files := unzip(t, body)
	sum := getJSON(t, s, "evaluator", "/api/v1/summaries/sct?timepoint=baseline")
	t.Run("R", func(t *testing.T) { checkRTables(t, unpack(t, files), files, sum) })
	t.Run("PSPP", func(t *testing.T) { checkPSPPTables(t, unpack(t, files), sum) })
}

// unpack writes files into a directory of the test's own.
func unpack(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// checkRTables has R's scripts of the return compute adequacy (a coded SCT
// variable of the wide file), nominees by relationship (the long file), key
// people by relationship (the nodes file, where a key person from the list
// carries that person's relationship) and availability and strain (the
// edges file's ratings), and compares them with the summary's.
func checkRTables(t *testing.T, dir string, files map[string][]byte, sum map[string]any) {
	bin := exporttest.Tool(t, "Rscript", "r-base-core")
	// Every script of the return runs (participation's, the practice
	// summary's too), warning-free.
	driver := `options(warn = 2)
for (f in list.files(pattern = "[.]R$")) if (f != "driver.R") source(f)
stopifnot(nrow(participation) >= 0, nrow(practice_summary_wide) >= 0)
options(warn = 0)
base <- function(d) d[!is.na(d$timepoint) & d$timepoint == "Baseline", ]
out <- character()
put <- function(...) out <<- c(out, paste(..., sep = "\t"))
w <- base(sct_wide)
for (l in levels(w$adequacy_emotional)) put("adequacy_emotional", l, sum(w$adequacy_emotional == l, na.rm = TRUE))
put("adequacy_emotional", "total", sum(!is.na(w$adequacy_emotional)))
n <- base(sct_long)
n <- unique(n[n$list == "nominees", c("response_id", "relationship")])
for (l in levels(n$relationship)) put("nominees", l, sum(n$relationship == l, na.rm = TRUE))
k <- base(sct_nodes)
k <- unique(k[!is.na(k$key_person), c("response_id", "relationship")])
for (l in levels(k$relationship)) put("key_people", l, sum(k$relationship == l, na.rm = TRUE))
e <- base(sct_edges)
for (v in grep("^support_", names(e), value = TRUE)) {
  put("availability", sub("^support_", "", v), sum(!is.na(e[[v]])), sum(e[[v]] >= "Probably", na.rm = TRUE))
}
put("strain", "let_down", sum(!is.na(e$let_down)), sum(e$let_down <= "Not really", na.rm = TRUE), sum(e$let_down >= "Probably", na.rm = TRUE))
if (requireNamespace("igraph", quietly = TRUE)) {
  # The GraphML as a network package reads it (igraph's reader stops after
  # the first graph it skips, so only the first graph can be asked for); and
  # the edge list with its nodes as one graph, a component per response.
  g <- igraph::read_graph("sct_network.graphml", format = "graphml", index = 0)
  put("graphml", igraph::graph_attr(g, "response_id"), igraph::vcount(g), igraph::ecount(g),
    sum(igraph::vertex_attr(g, "role") == "ego"))
  h <- igraph::graph_from_data_frame(sct_edges, vertices = sct_nodes)
  put("edgelist", "all", igraph::vcount(h), igraph::ecount(h), igraph::count_components(h))
  for (c in igraph::decompose(h)) {
    put("component", igraph::vertex_attr(c, "response_id")[1], igraph::vcount(c))
  }
}
writeLines(enc2utf8(out), "tables.txt", useBytes = TRUE)
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
	raw, err := os.ReadFile(filepath.Join(dir, "tables.txt"))
	if err != nil {
		t.Fatal(err)
	}
	fromR := map[string]string{} // "table\tlevel" → the rest
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 {
			t.Fatalf("R line %q", line)
		}
		fromR[f[0]+"\t"+f[1]] = f[2]
	}

	reg, err := form.Load(forms.FS())
	if err != nil {
		t.Fatal(err)
	}
	def, _ := reg.Get("sct", "1")
	label := map[string]string{}
	for _, c := range def.CodeLists["relationship"] {
		label[c.Code] = c.Label
	}
	checks := 0
	want := func(key, value string) {
		t.Helper()
		checks++
		if got, ok := fromR[key]; !ok || got != value {
			t.Errorf("R's %q = %q, the summary's %q", key, got, value)
		}
	}
	itoa := func(v any) string { f, _ := v.(float64); return strconv.Itoa(int(f)) }
	for _, a := range dig(sum, "adequacy").([]any) {
		if dig(a, "support") == "emotional" {
			want("adequacy_emotional\tNo one", itoa(dig(a, "no_one", "count")))
			want("adequacy_emotional\tToo few people", itoa(dig(a, "too_few", "count")))
			want("adequacy_emotional\tEnough people", itoa(dig(a, "enough", "count")))
			want("adequacy_emotional\ttotal", itoa(dig(a, "total")))
		}
	}
	for _, table := range []string{"nominees", "key_people"} {
		counted := map[string]string{}
		for _, r := range dig(sum, table, "by_relationship").([]any) {
			counted[label[dig(r, "relationship").(string)]] = itoa(dig(r, "count"))
		}
		for _, l := range label {
			if counted[l] == "" {
				counted[l] = "0" // a relationship no one named may be left out of the summary
			}
			want(table+"\t"+l, counted[l])
		}
	}
	for _, a := range dig(sum, "availability").([]any) {
		want("availability\t"+dig(a, "support").(string), itoa(dig(a, "base"))+"\t"+itoa(dig(a, "probably_or_definitely")))
	}
	want("strain\tlet_down", itoa(dig(sum, "strain", "base"))+"\t"+itoa(dig(sum, "strain", "not_at_all_or_not_really"))+"\t"+
		itoa(dig(sum, "strain", "probably_or_definitely")))
	// igraph, R's network package, reads each graph of the GraphML with the
	// people the wide file counts, and the CSVs as one graph with a
	// component per response.
	sizes, err := exporttest.WideNetworkSizes(files["sct_wide.csv"])
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fromR["edgelist\tall"]; !ok {
		if os.Getenv("CI") != "" {
			t.Error("CI is set but R has no igraph: .ci/run installs r-cran-igraph")
		} else {
			t.Log("R has no igraph (apt-get install r-cran-igraph): the GraphML was not read by it")
		}
	} else {
		people, graphs := 0, 0
		for id, n := range sizes {
			people += n
			want("component\t"+id, strconv.Itoa(n))
			if _, ok := fromR["graphml\t"+id]; ok {
				graphs++
				want("graphml\t"+id, fmt.Sprintf("%d\t%d\t1", n, n-1))
			}
		}
		want("edgelist\tall", fmt.Sprintf("%d\t%d\t%d", people, people-len(sizes), len(sizes)))
		if graphs != 1 {
			t.Errorf("igraph read %d graphs of the GraphML, want the first", graphs)
		}
	}
	if checks < 30 {
		t.Errorf("only %d figures compared", checks)
	}
	// The fixture by hand: 4 baseline SCTs answered emotional adequacy
	// (3, 1, 3, 2); 3 baseline key-person grandparents, siblings...: the
	// comparisons above are not all zeros.
	if fromR["adequacy_emotional\tEnough people"] != "2" || fromR["key_people\tGrandparent"] != "1" || fromR["key_people\tFriend"] != "1" ||
		fromR["key_people\tSchool staff"] != "1" || fromR["availability\temotional"] != "5\t3" {
		t.Errorf("R's tables are not the fixture's: %v", fromR)
	}
}

// checkPSPPTables has GNU PSPP run the return's SPSS syntax and compares its
// frequencies of baseline adequacy (the wide file) and emotional-support
// ratings (the edges file), by their value labels, with the summary's.
func checkPSPPTables(t *testing.T, dir string, sum map[string]any) {
	bin := exporttest.Tool(t, "pspp", "pspp")
	// Every syntax file of the return runs without an error or a warning.
	names, err := filepath.Glob(filepath.Join(dir, "*.sps"))
	if err != nil || len(names) < 7 {
		t.Fatalf("%d .sps files (%v)", len(names), err)
	}
	for _, name := range names {
		cmd := exec.Command(bin, "-O", "format=csv", "-o", "all.csv", filepath.Base(name))
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || bytes.Contains(out, []byte("error")) || bytes.Contains(out, []byte("warning")) {
			t.Errorf("pspp %s: %v\n%s", filepath.Base(name), err, out)
		}
	}
	// One run per file: each GET DATA replaces the active dataset.
	frequencies := func(file, variable string) map[string]string {
		t.Helper()
		syntax := fmt.Sprintf("INCLUDE FILE='%s.sps'.\nSELECT IF (timepoint = 1).\nFREQUENCIES VARIABLES=%s /STATISTICS=NONE.\n", file, variable)
		if err := os.WriteFile(filepath.Join(dir, "check.sps"), []byte(syntax), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-O", "format=csv", "-o", "out.csv", "check.sps")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pspp %s: %v\n%s", file, err, out)
		}
		out, err := os.ReadFile(filepath.Join(dir, "out.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out, []byte("error")) || bytes.Contains(out, []byte("warning")) {
			t.Errorf("pspp on %s.sps:\n%s", file, out)
		}
		// Rows under "Valid", up to the next heading: ",<label>,<count>,...".
		counts := map[string]string{}
		valid := false
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Split(line, ",")
			if f[0] != "" {
				valid = f[0] == "Valid"
			}
			if valid && len(f) >= 3 && f[1] != "" && f[1] != "Total" {
				counts[f[1]] = f[2]
			}
		}
		return counts
	}
	itoa := func(v any) string { f, _ := v.(float64); return strconv.Itoa(int(f)) }
	adequacy := frequencies("sct_wide", "adequacy_emotional")
	for _, a := range dig(sum, "adequacy").([]any) {
		if dig(a, "support") != "emotional" {
			continue
		}
		for key, label := range map[string]string{"no_one": "No one", "too_few": "Too few people", "enough": "Enough people"} {
			if got, want := adequacy[label], itoa(dig(a, key, "count")); got != want && !(got == "" && want == "0") {
				t.Errorf("PSPP counts %s %s, the summary %s", label, got, want)
			}
		}
	}
	ratings := frequencies("sct_edges", "support_emotional")
	probably := 0
	for _, label := range []string{"Probably", "Definitely"} {
		n, _ := strconv.Atoi(ratings[label])
		probably += n
	}
	for _, a := range dig(sum, "availability").([]any) {
		if dig(a, "support") == "emotional" && strconv.Itoa(probably) != itoa(dig(a, "probably_or_definitely")) {
			t.Errorf("PSPP counts %d probably or definitely for emotional support, the summary %v (%v)", probably, dig(a, "probably_or_definitely"), ratings)
		}
	}
	if adequacy["Enough people"] != "2" || probably != 3 {
		t.Errorf("PSPP's tables are not the fixture's: %v %v", adequacy, ratings)
	}
}

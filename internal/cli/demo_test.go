package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// storeArgs are the flags naming the store kept under dir: the data
// directory, or in MongoDB mode its database (with the keys MongoDB needs).
func storeArgs(t *testing.T, dir string) []string {
	t.Helper()
	args := []string{"--data", dir}
	if storetest.MongoDB() {
		o := storetest.At(dir, store.Options{Database: config.Defaults().Database})
		spec, err := auth.GenerateKeySpec(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--mongodb-uri", o.URI, "--database", o.Database, "--jwt-keys", spec)
	}
	return args
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// getAs sends a GET with a bearer token and decodes the JSON answer.
func getAs(t *testing.T, base, path, token string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode == 200 && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, b)
		}
	}
	return res.StatusCode
}

var signInLine = regexp.MustCompile(`(?m)^\s+(admin|coordinator|site_lead|evaluator)\s+(\S+@\S+)\s+(\S+)\s+\((.+)\)$`)

// "sct demo" fills an empty store with the evaluation's counts, through
// the services; each sign-in it prints works, for its role and site; the
// tables count what the report counted; and a second run is refused.
func TestDemo_FillsAnEmptyStoreWithTheReportsCounts(t *testing.T) {
	if storetest.MongoDB() {
		// Some 3,000 writes from 8 writers: on the standalone FerretDB
		// the race detector makes them take many minutes. The MongoDB path
		// differs only in the store opened, which the refusal below
		// covers in both modes.
		t.Skip("the whole demo runs on the embedded store")
	}
	dir := t.TempDir()
	code, out, errOut := runCLI(t, append([]string{"demo"}, storeArgs(t, dir)...)...)
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"12 sites", "585 referred children", "160 baseline SCTs, 13 follow-ups, 8 comparison-group SCTs",
		"119 practice summaries (78 old format, 41 new), 585 participation records"} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, out)
		}
	}
	found := signInLine.FindAllStringSubmatch(out, -1)
	if len(found) != 4 {
		t.Fatalf("%d sign-ins printed, want 4:\n%s", len(found), out)
	}

	base := serveOn(t, dir)
	tokens := map[string]string{}
	passwords := map[string]bool{}
	for _, m := range found {
		role, email, password, where := m[1], m[2], m[3], m[4]
		if err := auth.ValidatePassword(password, email); err != nil || passwords[password] {
			t.Errorf("%s's password %q: %v (or the same as another's)", role, password, err)
		}
		passwords[password] = true
		status, signedIn, body := login(t, base, email, password)
		if status != 200 {
			t.Fatalf("sign in as the demo's %s %s: %d %s", role, email, status, body)
		}
		u, _ := signedIn["user"].(map[string]any)
		wantSites := "[]"
		if role == "coordinator" || role == "site_lead" {
			wantSites = "[D]"
			if where != "site D" {
				t.Errorf("%s printed as working in %q, want site D", role, where)
			}
		}
		if u["role"] != role || fmt.Sprint(u["sites"]) != wantSites {
			t.Errorf("%s signed in as %v, want role %s in %s", email, u, role, wantSites)
		}
		tokens[role] = signedIn["access_token"].(string)
	}

	var sites struct{ Sites []struct{ Code string } }
	if st := getAs(t, base, "/api/v1/sites", tokens["admin"], &sites); st != 200 || len(sites.Sites) != 12 {
		t.Errorf("sites: %d %+v; want 12", st, sites)
	}
	sct := func(query string) int {
		var s struct{ Respondents int }
		if st := getAs(t, base, "/api/v1/summaries/sct?"+query, tokens["evaluator"], &s); st != 200 {
			t.Fatalf("SCT summary %s: %d", query, st)
		}
		return s.Respondents
	}
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"timepoint=baseline&group=lifelong_links", 160},
		{"timepoint=baseline&group=comparison", 8},
		{"timepoint=follow_up", 13},
		{"timepoint=baseline&group=lifelong_links&site=M", 0},
		{"timepoint=baseline&group=lifelong_links&site=D", 63},
		{"timepoint=baseline&group=lifelong_links&site=A", 4},
	} {
		if got := sct(tc.query); got != tc.want {
			t.Errorf("SCT respondents at %s: %d, want %d", tc.query, got, tc.want)
		}
	}
	var practice struct {
		Cases     int            `json:"cases"`
		ByVersion map[string]int `json:"by_version"`
	}
	if st := getAs(t, base, "/api/v1/summaries/practice", tokens["evaluator"], &practice); st != 200 ||
		practice.Cases != 119 || practice.ByVersion["1"] != 78 || practice.ByVersion["2"] != 41 {
		t.Errorf("practice summaries: %d %+v; want 119, 78 old and 41 new", st, practice)
	}
	var participation struct {
		Table7 struct {
			Rows []struct{ Children, Participating int }
		}
	}
	if st := getAs(t, base, "/api/v1/summaries/participation", tokens["evaluator"], &participation); st != 200 {
		t.Fatalf("participation: %d", st)
	}
	records, participating := 0, 0
	for _, r := range participation.Table7.Rows {
		records += r.Children
		participating += r.Participating
	}
	if records != 585 || participating < 540 || participating > 575 {
		t.Errorf("participation records %d (participating %d); want 585, about 96%% taking part", records, participating)
	}
	// The site lead reads their own site's tables, and no other's.
	if st := getAs(t, base, "/api/v1/summaries/sct?timepoint=baseline&site=D", tokens["site_lead"], nil); st != 200 {
		t.Errorf("the site lead's own site: %d", st)
	}
	if st := getAs(t, base, "/api/v1/summaries/sct?timepoint=baseline&site=E", tokens["site_lead"], nil); st == 200 {
		t.Errorf("the site lead reads site E's table")
	}
	var children struct{ Children []struct{ ID string } }
	if st := getAs(t, base, "/api/v1/children?site=D&limit=500", tokens["coordinator"], &children); st != 200 || len(children.Children) < 151 {
		t.Errorf("the coordinator's children in site D: %d, %d; want at least the 151 referred", st, len(children.Children))
	}

	// A store that holds data is refused, and left as it was.
	code, out, errOut = runCLI(t, append([]string{"demo"}, storeArgs(t, dir)...)...)
	if code == 0 || !strings.Contains(errOut, "already holds data") || strings.Contains(out, "@example.org") {
		t.Errorf("a second demo: exit %d, stdout %q, stderr %q; want a refusal", code, out, errOut)
	}
}

// A store holding only a site is not empty either.
func TestDemo_RefusesAStoreWithASite(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runCLI(t, append([]string{"site", "add", "--code", "Z", "--name", "Zed"}, storeArgs(t, dir)...)...); code != 0 {
		t.Fatalf("site add: %s", errOut)
	}
	code, out, errOut := runCLI(t, append([]string{"demo"}, storeArgs(t, dir)...)...)
	if code != 1 || !strings.Contains(errOut, "already holds data") || out != "" {
		t.Errorf("demo on a store with a site: exit %d, stdout %q, stderr %q; want exit 1 and a refusal", code, out, errOut)
	}
}

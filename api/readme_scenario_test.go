package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lifelong-links/sct/api/client"
	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/config"
	"github.com/lifelong-links/sct/internal/server/servertest"
)

// The README's administrator.
const (
	readmeAdmin    = "admin@example.org"
	readmePassword = "a long admin passphrase"
)

func startForReadme(t *testing.T) *servertest.Server {
	t.Helper()
	s, err := servertest.StartWith(t, t.TempDir(), forms.FS(), func(c *config.Settings) {
		c.BootstrapAdminEmail, c.BootstrapAdminPassword = readmeAdmin, readmePassword
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readmeSession is the README's "A session with curl" block.
func readmeSession(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "## A session with curl")
	if !ok {
		t.Fatal("README has no curl session")
	}
	_, block, _ := strings.Cut(after, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	return block
}

// The client generated from the API document is the one committed, and it
// runs the README's session: the document describes the API a program
// calls.
func TestClient_GeneratedFromTheDocumentRunsTheREADMESession(t *testing.T) {
	t.Run("the committed client is what the document generates", func(t *testing.T) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(cfg, []byte("package: client\noutput: "+filepath.Join(dir, "client.gen.go")+"\ngenerate:\n  client: true\n  models: true\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("go", "tool", "oapi-codegen", "-config", cfg, "openapi.yaml")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("oapi-codegen: %v\n%s", err, out)
		}
		want, _ := os.ReadFile(filepath.Join(dir, "client.gen.go"))
		got, _ := os.ReadFile("client/client.gen.go")
		if !bytes.Equal(got, want) {
			t.Error("api/client/client.gen.go is not what api/openapi.yaml generates: run go generate ./api/client")
		}
	})

	s := startForReadme(t)
	ctx := context.Background()
	c, err := client.NewClientWithResponses(s.Base)
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(email, password string) client.RequestEditorFn {
		t.Helper()
		res, err := c.LoginWithResponse(ctx, client.LoginJSONRequestBody{Email: email, Password: password})
		if err != nil || res.JSON200 == nil {
			t.Fatalf("sign in %s: %v %s", email, err, res.Body)
		}
		tok := res.JSON200.AccessToken
		return func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+tok)
			return nil
		}
	}
	created := func(what string, status int, body []byte, err error) {
		t.Helper()
		if err != nil || status != http.StatusCreated {
			t.Fatalf("%s: %d %v %s", what, status, err, body)
		}
	}

	admin := signIn(readmeAdmin, readmePassword)
	site, err := c.CreateSiteWithResponse(ctx, client.SiteRequest{Code: "A", Name: "Site A"}, admin)
	created("site", site.StatusCode(), site.Body, err)
	for _, u := range []client.UserRequest{
		{Email: "jo@example.org", Role: client.StaffRole("coordinator"), Sites: &[]client.SiteCode{"A"}, Password: "a long coordinator passphrase"},
		{Email: "eve@example.org", Role: client.StaffRole("evaluator"), Password: "a long evaluator passphrase"},
	} {
		res, err := c.CreateUserWithResponse(ctx, u, admin)
		created("user "+string(u.Email), res.StatusCode(), res.Body, err)
	}

	jo := signIn("jo@example.org", "a long coordinator passphrase")
	child, err := c.CreateChildWithResponse(ctx, client.ChildRequest{Id: "C123", Site: "A", Group: client.Group("lifelong_links")}, jo)
	created("child", child.StatusCode(), child.Body, err)

	// The README's SCT body, as a typed request.
	_, put, _ := strings.Cut(readmeSession(t), "-X PUT")
	_, body, _ := strings.Cut(put, "'")
	body, _, _ = strings.Cut(body, "'")
	var req client.PutResponseJSONRequestBody
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatalf("the README's SCT body: %v", err)
	}
	var answers client.SCTAnswers
	if raw, err := req.Answers.MarshalJSON(); err != nil || json.Unmarshal(raw, &answers) != nil || len(*answers.Nominees) != 2 {
		t.Fatalf("the README's answers read as SCT answers: %+v %v", answers, err)
	}
	sct, err := c.PutResponseWithResponse(ctx, mustUUID(t, "3b241101-e2bb-4255-8caf-4136c566a962"), req, jo)
	created("SCT", sct.StatusCode(), sct.Body, err)
	if sct.JSON201 == nil || sct.JSON201.Revision != 1 {
		t.Errorf("the SCT's answer: %s", sct.Body)
	}

	eve := signIn("eve@example.org", "a long evaluator passphrase")
	sum, err := c.SctSummaryWithResponse(ctx, &client.SctSummaryParams{Timepoint: client.TimepointRequired("baseline")}, eve)
	if err != nil || sum.JSON200 == nil {
		t.Fatalf("summary: %v %s", err, sum.Body)
	}
	if sum.JSON200.Respondents != 1 || sum.JSON200.Nominees.Base != 1 {
		t.Errorf("the summary reads %d respondents, nominee base %d; want 1 and 1", sum.JSON200.Respondents, sum.JSON200.Nominees.Base)
	}
}

func mustUUID(t *testing.T, s string) client.ResponseID {
	t.Helper()
	var id client.ResponseID
	if err := id.UnmarshalText([]byte(s)); err != nil {
		t.Fatal(err)
	}
	return id
}

// The README's curl session runs as written, each command doing what
// curl does with those options (the body's content type included), every
// answer a success.
func TestREADME_CurlSessionRuns(t *testing.T) {
	s := startForReadme(t)
	vars := map[string]string{}
	var last []byte
	for _, stmt := range shellStatements(t, readmeSession(t)) {
		if name, value, ok := strings.Cut(stmt[0], "="); ok && len(stmt) == 1 && regexp.MustCompile(`^\w+$`).MatchString(name) {
			if strings.HasPrefix(value, "$(") {
				inner := shellStatements(t, strings.TrimSuffix(strings.TrimPrefix(value, "$("), ")"))
				words := inner[0]
				pipe := slices.Index(words, "|")
				if pipe < 0 || strings.Join(words[pipe+1:], " ") != "jq -r .access_token" {
					t.Fatalf("unexpected substitution %q", value)
				}
				out := runCurl(t, s, expand(words[:pipe], vars))
				var tok struct {
					AccessToken string `json:"access_token"`
				}
				if err := json.Unmarshal(out, &tok); err != nil || tok.AccessToken == "" {
					t.Fatalf("%s: no access token in %s", value, out)
				}
				vars[name] = tok.AccessToken
				continue
			}
			vars[name] = value
			continue
		}
		if stmt[0] != "curl" {
			t.Fatalf("the session runs only curl, not %q", stmt)
		}
		last = runCurl(t, s, expand(stmt, vars))
	}
	var sum struct{ Respondents int }
	if err := json.Unmarshal(last, &sum); err != nil || sum.Respondents != 1 {
		t.Errorf("the session ends with %s; want a summary of 1 respondent", last)
	}
}

// shellStatements splits a POSIX shell fragment into statements of words:
// quotes, backslash-newline and comments as sh reads them; $(...) kept
// whole as one word; variables left for expand.
func shellStatements(t *testing.T, src string) [][]string {
	t.Helper()
	var out [][]string
	var words []string
	var w strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, w.String())
			w.Reset()
			inWord = false
		}
	}
	end := func() {
		flush()
		if len(words) > 0 {
			out = append(out, words)
			words = nil
		}
	}
	for i := 0; i < len(src); i++ {
		switch ch := src[i]; {
		case ch == '\\' && i+1 < len(src) && src[i+1] == '\n':
			i++
		case ch == '\'':
			j := strings.IndexByte(src[i+1:], '\'')
			if j < 0 {
				t.Fatalf("unclosed quote in %q", src[i:])
			}
			w.WriteString(src[i+1 : i+1+j])
			inWord, i = true, i+1+j
		case ch == '"':
			j := strings.IndexByte(src[i+1:], '"')
			if j < 0 {
				t.Fatalf("unclosed quote in %q", src[i:])
			}
			w.WriteString(src[i+1 : i+1+j])
			inWord, i = true, i+1+j
		case ch == '$' && i+1 < len(src) && src[i+1] == '(':
			j := strings.IndexByte(src[i:], ')')
			w.WriteString(src[i : i+j+1])
			inWord, i = true, i+j
		case ch == '#' && !inWord:
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			i += j - 1
		case ch == '\n':
			end()
		case ch == ' ' || ch == '\t':
			flush()
		default:
			w.WriteByte(ch)
			inWord = true
		}
	}
	end()
	return out
}

var shellVar = regexp.MustCompile(`\$(\w+)`)

func expand(words []string, vars map[string]string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = shellVar.ReplaceAllStringFunc(w, func(v string) string { return vars[v[1:]] })
	}
	return out
}

// runCurl sends what curl sends for these options (-s, -H, -X, -d, --json
// and a URL) to the test server instead of localhost:8080, and fails
// unless the answer is a success.
func runCurl(t *testing.T, s *servertest.Server, args []string) []byte {
	t.Helper()
	method, url, body := "", "", ""
	hasBody := false
	header := http.Header{}
	for i := 1; i < len(args); i++ {
		switch a := args[i]; a {
		case "-s":
		case "-H":
			i++
			k, v, _ := strings.Cut(args[i], ":")
			header.Set(k, strings.TrimSpace(v))
		case "-X":
			i++
			method = args[i]
		case "-d", "--data":
			i++
			body, hasBody = args[i], true
			if header.Get("Content-Type") == "" {
				header.Set("Content-Type", "application/x-www-form-urlencoded") // as curl does
			}
		case "--json":
			i++
			body, hasBody = args[i], true
			header.Set("Content-Type", "application/json")
			header.Set("Accept", "application/json")
		default:
			if strings.HasPrefix(a, "-") {
				t.Fatalf("the test does not know curl's %s", a)
			}
			url = a
		}
	}
	if method == "" {
		method = map[bool]string{true: "POST", false: "GET"}[hasBody]
	}
	url = strings.Replace(url, "localhost:8080", strings.TrimPrefix(s.Base, "http://"), 1)
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("curl %s: %d %s", strings.Join(args[1:], " "), res.StatusCode, out)
	}
	return out
}

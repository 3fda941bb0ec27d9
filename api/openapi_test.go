package api

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// The parts of an OpenAPI 3 document these tests read.
type apiDoc struct {
	OpenAPI    string                 `yaml:"openapi"`
	Paths      map[string]apiPathItem `yaml:"paths"`
	Components struct {
		Parameters      map[string]apiParameter `yaml:"parameters"`
		SecuritySchemes map[string]struct {
			Type, Scheme string
			BearerFormat string `yaml:"bearerFormat"`
		} `yaml:"securitySchemes"`
	} `yaml:"components"`
}

type apiPathItem struct {
	Parameters []apiParameter `yaml:"parameters"`
	Get        *apiOperation  `yaml:"get"`
	Put        *apiOperation  `yaml:"put"`
	Post       *apiOperation  `yaml:"post"`
	Patch      *apiOperation  `yaml:"patch"`
	Delete     *apiOperation  `yaml:"delete"`
	Head       *apiOperation  `yaml:"head"`
	Options    *apiOperation  `yaml:"options"`
}

func (p apiPathItem) operations() map[string]*apiOperation {
	all := map[string]*apiOperation{
		http.MethodGet: p.Get, http.MethodPut: p.Put, http.MethodPost: p.Post, http.MethodPatch: p.Patch,
		http.MethodDelete: p.Delete, http.MethodHead: p.Head, http.MethodOptions: p.Options,
	}
	for m, op := range all {
		if op == nil {
			delete(all, m)
		}
	}
	return all
}

type apiOperation struct {
	OperationID string                    `yaml:"operationId"`
	Permission  string                    `yaml:"x-permission"`
	Parameters  []apiParameter            `yaml:"parameters"`
	Security    []map[string][]string     `yaml:"security"`
	Responses   map[string]apiResponseRef `yaml:"responses"`
}

type apiParameter struct {
	Ref      string `yaml:"$ref"`
	Name     string `yaml:"name"`
	In       string `yaml:"in"`
	Required bool   `yaml:"required"`
}

type apiResponseRef struct {
	Ref string `yaml:"$ref"`
}

func loadOpenAPI(t *testing.T) (apiDoc, map[string]any) {
	t.Helper()
	var doc apiDoc
	if err := yaml.Unmarshal([]byte(openAPIDocument), &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal([]byte(openAPIDocument), &tree); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi %q, want 3.0.3", doc.OpenAPI)
	}
	return doc, tree
}

var echoParam = regexp.MustCompile(`:([A-Za-z_][A-Za-z0-9_]*)`)

// openAPIPath writes an Echo route path as an OpenAPI path: :id is {id}.
func openAPIPath(echoPath string) string { return echoParam.ReplaceAllString(echoPath, "{$1}") }

// documentedRoutes are the routes of the route table, keyed "METHOD /path"
// in OpenAPI's spelling.
func documentedRoutes() map[string]route {
	out := map[string]route{}
	for _, r := range (&handlers{}).routes() {
		out[r.method+" "+openAPIPath(r.path)] = r
	}
	return out
}

func TestOpenAPI_DocumentsEveryRoute(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	for key, r := range documentedRoutes() {
		item, ok := doc.Paths[openAPIPath(r.path)]
		if !ok {
			t.Errorf("%s is routed but openapi.yaml has no path %s", key, openAPIPath(r.path))
			continue
		}
		op := item.operations()[r.method]
		if op == nil {
			t.Errorf("%s is routed but openapi.yaml does not document the method", key)
			continue
		}
		if op.Permission != string(r.perm) {
			t.Errorf("%s: x-permission %q, the route table says %q", key, op.Permission, r.perm)
		}
	}
}

func TestOpenAPI_DocumentsNothingUnrouted(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	routes := documentedRoutes()
	ids := map[string]string{}
	for path, item := range doc.Paths {
		for method, op := range item.operations() {
			key := method + " " + path
			if _, ok := routes[key]; !ok {
				t.Errorf("openapi.yaml documents %s, which is not in the route table", key)
			}
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", key)
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s and %s share operationId %q", key, other, op.OperationID)
			}
			ids[op.OperationID] = key
		}
	}
}

// Every {param} of a path is declared as a required path parameter, on the
// path or the operation, and nothing else is declared in the path.
func TestOpenAPI_DeclaresEveryPathParameter(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	inTemplate := regexp.MustCompile(`\{([^}]+)\}`)
	resolve := func(p apiParameter) apiParameter {
		if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
			got, found := doc.Components.Parameters[name]
			if !found {
				t.Errorf("parameter $ref %s does not resolve", p.Ref)
			}
			return got
		}
		return p
	}
	for path, item := range doc.Paths {
		var want []string
		for _, m := range inTemplate.FindAllStringSubmatch(path, -1) {
			want = append(want, m[1])
		}
		for method, op := range item.operations() {
			var declared []string
			for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
				p = resolve(p)
				if p.In != "path" {
					continue
				}
				if !p.Required {
					t.Errorf("%s %s: path parameter %q is not required", method, path, p.Name)
				}
				declared = append(declared, p.Name)
			}
			slices.Sort(want)
			slices.Sort(declared)
			if !slices.Equal(want, declared) {
				t.Errorf("%s %s: path parameters declared %v, the path has %v", method, path, declared, want)
			}
		}
	}
}

// Every route that needs a token says so with the bearer scheme, and no
// public route asks for one.
func TestOpenAPI_SecurityMatchesPermissions(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	scheme, ok := doc.Components.SecuritySchemes["bearerAuth"]
	if !ok || scheme.Type != "http" || scheme.Scheme != "bearer" || scheme.BearerFormat != "JWT" {
		t.Fatalf("securitySchemes.bearerAuth is %+v, want an http bearer JWT scheme", scheme)
	}
	for key, r := range documentedRoutes() {
		item := doc.Paths[openAPIPath(r.path)]
		op := item.operations()[r.method]
		if op == nil {
			continue // reported by TestOpenAPI_DocumentsEveryRoute
		}
		bearer := len(op.Security) == 1 && len(op.Security[0]) == 1 && op.Security[0]["bearerAuth"] != nil
		switch {
		case r.perm == access.PermPublic && len(op.Security) > 0:
			t.Errorf("%s is public but documents security %v", key, op.Security)
		case r.perm != access.PermPublic && !bearer:
			t.Errorf("%s needs %q but does not document the bearer requirement (security %v)", key, r.perm, op.Security)
		}
		codes := map[string]bool{}
		for code := range op.Responses {
			codes[code] = true
		}
		if r.perm != access.PermPublic && !codes["401"] {
			t.Errorf("%s needs a token but documents no 401", key)
		}
		if r.perm != access.PermPublic && r.perm != access.PermSignedIn && !codes["403"] {
			t.Errorf("%s needs %q but documents no 403", key, r.perm)
		}
	}
}

// Every operation documents a success, and every API error is the envelope.
func TestOpenAPI_ResponsesUseTheEnvelope(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	for path, item := range doc.Paths {
		for method, op := range item.operations() {
			success := false
			for code, res := range op.Responses {
				n, err := strconv.Atoi(code)
				if err != nil {
					t.Errorf("%s %s: response code %q", method, path, code)
					continue
				}
				success = success || (n >= 200 && n < 300)
				if n >= 400 && strings.HasPrefix(path, "/api/") && !strings.HasPrefix(res.Ref, "#/components/responses/") {
					t.Errorf("%s %s: %s is not one of the envelope responses", method, path, code)
				}
			}
			if !success {
				t.Errorf("%s %s documents no 2xx answer", method, path)
			}
		}
	}
}

// Every $ref in the document points at something in it.
func TestOpenAPI_RefsResolve(t *testing.T) {
	_, tree := loadOpenAPI(t)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, found := lookup(tree, ref); !found {
					t.Errorf("$ref %s does not resolve", ref)
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(tree)
}

// No member is left without a value: an unquoted comma inside a flow
// mapping ({description: a, b}) silently makes a key "b" with none.
func TestOpenAPI_NoMemberWithoutValue(t *testing.T) {
	_, tree := loadOpenAPI(t)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				if c == nil {
					t.Errorf("%s/%s has no value; quote the text around it", path, k)
				}
				walk(path+"/"+k, c)
			}
		case []any:
			for i, c := range v {
				walk(path+"/"+strconv.Itoa(i), c)
			}
		}
	}
	walk("", tree)
}

func lookup(tree map[string]any, ref string) (any, bool) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var cur any = tree
	for _, part := range strings.Split(p, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func TestOpenAPI_Served(t *testing.T) {
	f := newFixture(t)
	res, err := http.Get(f.srv.URL + "/api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/yaml" || string(body) != openAPIDocument {
		t.Errorf("GET /api/openapi.yaml: %d %q, %d bytes; want 200 application/yaml and the document",
			res.StatusCode, res.Header.Get("Content-Type"), len(body))
	}
}

// The document passes Redocly's lint with its recommended rules, as the
// tools that read it would. Redocly's CLI comes from the npm registry
// (.ci/run installs the pinned version); without it the test is skipped on
// a workstation and fails in CI.
func TestOpenAPI_PassesRedoclyLint(t *testing.T) {
	storetest.Once(t)
	bin, err := exec.LookPath("redocly")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but redocly is not on the PATH (%v): .ci/run installs @redocly/cli", err)
		}
		t.Skipf("redocly is not on the PATH (%v): npm install @redocly/cli to run this check", err)
	}
	out, err := exec.Command(bin, "lint", "--format=stylish", "openapi.yaml").CombinedOutput()
	if err != nil {
		t.Errorf("redocly lint openapi.yaml: %v\n%s", err, out)
	}
}

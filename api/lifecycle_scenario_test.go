package api_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lifelong-links/sct/forms"
	"github.com/lifelong-links/sct/internal/server/servertest"
	"github.com/lifelong-links/sct/internal/store"
)

func TestRestart_KeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s := servertest.Start(t, dir, forms.FS())
	s.AddUsers(t)
	seedSummaryFixture(t, s)
	_, before := s.Do(t, "GET", "/api/v1/summaries/sct?timepoint=baseline", "", "evaluator")
	_, response := s.Do(t, "GET", "/api/v1/responses/"+summaryFixture[0].id, "", "coordA")
	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	s = servertest.Start(t, dir, forms.FS())
	s.Login(t, "evaluator", "evaluator@example.org", servertest.UserPassword)
	s.Login(t, "coordA", "coorda@example.org", servertest.UserPassword)
	if _, after := s.Do(t, "GET", "/api/v1/summaries/sct?timepoint=baseline", "", "evaluator"); !bytes.Equal(before, after) || !bytes.Contains(after, []byte(`"respondents":3`)) {
		t.Errorf("summary changed across a restart:\n%s\n%s", before, after)
	}
	if _, again := s.Do(t, "GET", "/api/v1/responses/"+summaryFixture[0].id, "", "coordA"); !bytes.Equal(response, again) {
		t.Errorf("response changed across a restart:\n%s\n%s", response, again)
	}
	if status, _ := s.Do(t, "GET", "/api/v1/children/C3", "", "evaluator"); status != 200 {
		t.Errorf("child C3 after restart: %d", status)
	}
}

func TestStart_RefusesChangedPublishedVersion(t *testing.T) {
	dir := t.TempDir()
	s := servertest.Start(t, dir, forms.FS())
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	changed := fstest.MapFS{}
	_ = fs.WalkDir(forms.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(forms.FS(), p)
			if p == "sct/1.json" {
				b = bytes.Replace(b, []byte(`"max_items": 20`), []byte(`"max_items": 25`), 1)
			}
			changed[p] = &fstest.MapFile{Data: b}
		}
		return nil
	})
	_, err := servertest.StartErr(t, dir, changed)
	if !errors.Is(err, store.ErrFormChanged) || !strings.Contains(err.Error(), "sct/1.json") {
		t.Fatalf("start with a changed sct version 1: %v; want ErrFormChanged naming sct/1.json", err)
	}
}

func TestStart_RefusesMalformedDefinition(t *testing.T) {
	broken := fstest.MapFS{"sct/1.json": {Data: []byte(`{"form":"sct","version":"1","title":"SCT","answers":{"type":"object","fields":[{"name":"a","type":"stars"}]}}`)}}
	_, err := servertest.StartErr(t, t.TempDir(), broken)
	if err == nil || !strings.Contains(err.Error(), `sct/1.json: answers.a: unknown type "stars"`) {
		t.Fatalf("error %v; want it to name the file and the fault", err)
	}
}

// A request that is still arriving when the stop signal comes is finished
// and answered before the server exits.
func TestShutdown_FinishesInFlightRequest(t *testing.T) {
	s := servertest.Start(t, t.TempDir(), forms.FS())
	s.AddUsers(t)
	body := `{"id":"C77","site":"A","group":"comparison"}`
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.Base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/children HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		s.Tokens["coordA"], len(body), body[:10])
	time.Sleep(100 * time.Millisecond) // the server is now reading the body

	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop() }()
	time.Sleep(200 * time.Millisecond)
	if _, err := conn.Write([]byte(body[10:])); err != nil {
		t.Fatalf("finish the body: %v", err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	if res.StatusCode != http.StatusCreated {
		t.Errorf("in-flight request got %d, want 201", res.StatusCode)
	}
	if err := <-stopped; err != nil {
		t.Errorf("stop: %v", err)
	}
}

package api_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/store/storetest"
)

// readmeReceiver is the README's receiver in Go.
func readmeReceiver(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "### A receiver in Go")
	if !ok {
		t.Fatal("README has no receiver in Go")
	}
	_, block, _ := strings.Cut(after, "```go\n")
	block, _, _ = strings.Cut(block, "```")
	return block
}

// The README's receiver, built as it is written, takes a real delivery of
// the server's as verified, and refuses a forged one.
func TestWebhooks_READMEReceiverVerifiesADelivery(t *testing.T) {
	storetest.Once(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(readmeReceiver(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module receiver\n\ngo 1.26\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "receiver")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the README's receiver does not build: %v\n%s", err, out)
	}

	s := startForHooks(t, t.TempDir())
	s.AddUsers(t)
	addr := freeLoopbackAddr(t)
	st, b := s.Do(t, "POST", "/api/v1/webhooks", fmt.Sprintf(`{"url":"http://%s/sct","events":["response.submitted"]}`, addr), "admin")
	if st != 201 {
		t.Fatalf("register: %d %s", st, b)
	}
	secret := strings.Split(strings.Split(string(b), `"secret":"`)[1], `"`)[0]

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+secret, "ADDR="+addr)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	var mu sync.Mutex
	var logged []string
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logged = append(logged, sc.Text())
			mu.Unlock()
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the README's receiver did not listen")
		}
		time.Sleep(20 * time.Millisecond)
	}

	forged, _ := http.NewRequest("POST", "http://"+addr+"/sct", strings.NewReader(`{"type":"response.submitted"}`))
	forged.Header.Set("webhook-id", "msg_forged")
	forged.Header.Set("webhook-timestamp", fmt.Sprint(time.Now().Unix()))
	forged.Header.Set("webhook-signature", "v1,bm90IGEgc2lnbmF0dXJl")
	res, err := http.DefaultClient.Do(forged)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a forged delivery: %d, want 401", res.StatusCode)
	}

	createChild(t, s, "coordA", "RM1", "A")
	if st, b := s.Do(t, "PUT", "/api/v1/responses/"+idA, sctRequest("RM1", "baseline", "2019-06-14", "submitted", hookAnswers), "coordA"); st != 201 {
		t.Fatalf("submit: %d %s", st, b)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		all := strings.Join(logged, "\n")
		mu.Unlock()
		if strings.Contains(all, "verified msg_") && strings.Contains(all, idA) && strings.Contains(all, `"type":"response.submitted"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the README's receiver did not verify the delivery; it logged:\n%s", all)
		}
		time.Sleep(20 * time.Millisecond)
	}
	st, b = s.Do(t, "GET", "/api/v1/webhooks", "", "admin")
	id := strings.Split(strings.Split(string(b), `"id":"`)[1], `"`)[0]
	// The receiver logs before it answers, and the answer is recorded
	// after: the list says delivered shortly.
	deadline = time.Now().Add(5 * time.Second)
	for {
		st, b := s.Do(t, "GET", "/api/v1/webhooks/"+id+"/deliveries", "", "admin")
		if st == 200 && strings.Contains(string(b), `"status":"delivered"`) && strings.Contains(string(b), `"last_status":204`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery: %d %s", st, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

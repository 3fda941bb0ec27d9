package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/bench"
	"github.com/lifelong-links/sct/internal/server/servertest"
	"github.com/lifelong-links/sct/internal/store/storetest"
)

// The crash test runs the real binary, as an operator would, so that a kill
// takes down the server and its embedded store together mid-write.
const (
	crashRounds  = 10
	crashClients = 8
	crashSite    = "K"
	crashCoord   = "kcoord@example.org"
	crashEval    = "keval@example.org"
)

// crashAck is a submission the client saw acknowledged (a 2xx reply).
type crashAck struct {
	id, child, timepoint string
	wave                 int
	completedOn          string
	answers              any // the sent answers, decoded
}

// crashProc is one run of the server binary.
type crashProc struct {
	cmd    *exec.Cmd
	base   string
	log    string
	exited chan struct{} // closed once the process has been waited for
	err    error         // from Wait, once exited is closed
}

func TestCrash_AcknowledgedSubmissionsSurviveKill9(t *testing.T) {
	storetest.Once(t)
	if testing.Short() {
		t.Skip("builds the server and kills it ten times")
	}
	start := time.Now()
	bin := buildServerBinary(t)
	t.Logf("built the server in %s", time.Since(start).Round(time.Millisecond))

	data, logs := t.TempDir(), t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	var (
		p                 *crashProc
		tokens            crashTokens
		acked             []crashAck
		attemptedBaseline int
	)
	for round := 0; ; round++ {
		t0 := time.Now()
		p = startCrashProc(t, bin, data, filepath.Join(logs, fmt.Sprintf("round-%02d.log", round)))
		ready := time.Since(t0)
		if round == 0 {
			p.setUp(t)
		}
		tokens = p.signIn(t)
		if round > 0 {
			p.checkSummaries(t, tokens, acked, attemptedBaseline)
			t.Logf("round %d: restarted in %s; summaries agree with a rebuild and count every acknowledged baseline",
				round, ready.Round(time.Millisecond))
		}
		if round == crashRounds {
			break
		}
		delay := 200*time.Millisecond + time.Duration(rng.Int64N(int64(1300*time.Millisecond)))
		got, tried, inFlight := p.load(t, tokens["coord"], seed+uint64(round+1)*1000, round, delay, true)
		acked = append(acked, got...)
		attemptedBaseline += tried
		t.Logf("round %d: SIGKILL after %s with %d requests in flight: %d submissions acknowledged (%d baselines)",
			round, delay.Round(time.Millisecond), inFlight, len(got), crashBaselines(got))
	}

	// The last restart takes writes without a kill, so the sums it keeps
	// have been updated live before they are compared with a rebuild.
	got, tried, _ := p.load(t, tokens["coord"], seed, crashRounds, 500*time.Millisecond, false)
	acked = append(acked, got...)
	attemptedBaseline += tried
	p.checkSummaries(t, tokens, acked, attemptedBaseline)
	t.Logf("round %d: %d more acknowledged without a kill; the sums kept live agree with a rebuild", crashRounds, len(got))
	t0 := time.Now()
	p.verify(t, tokens, acked)
	t.Logf("all %d acknowledged submissions (%d baselines) present and intact after %d kills (read back in %s); %s in all",
		len(acked), crashBaselines(acked), crashRounds, time.Since(t0).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

func crashBaselines(acked []crashAck) int {
	n := 0
	for _, a := range acked {
		if a.timepoint == "baseline" {
			n++
		}
	}
	return n
}

// buildServerBinary builds cmd/sct once into a temporary directory.
func buildServerBinary(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("not inside the module")
	}
	bin := filepath.Join(t.TempDir(), "sct")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/sct")
	build.Dir = filepath.Dir(gomod)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/sct: %v\n%s", err, out)
	}
	return bin
}

// freeLoopbackAddr returns a loopback address whose port was free a moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// startCrashProc starts the binary on the data directory, with the
// settings in env besides the test's own, and waits until it is ready. The port is picked free and then bound by the child, so another
// process may take it between: the start is tried again on a new port.
func startCrashProc(t *testing.T, bin, data, logPath string, env ...string) *crashProc {
	t.Helper()
	for attempt := 1; ; attempt++ {
		p, err := tryStartCrashProc(t, bin, data, logPath, env)
		if err == nil {
			return p
		}
		if attempt == 3 {
			t.Fatalf("start the server: %v", err)
		}
		t.Logf("start the server (attempt %d): %v; trying again", attempt, err)
	}
}

func tryStartCrashProc(t *testing.T, bin, data, logPath string, env []string) (*crashProc, error) {
	t.Helper()
	addr := freeLoopbackAddr(t)
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(bin, "serve")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SCT_") { // only the settings below
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "SCT_DATA_DIR="+data, "SCT_ADDR="+addr, "SCT_LOG_LEVEL=warn",
		"SCT_BOOTSTRAP_ADMIN_EMAIL="+servertest.AdminEmail, "SCT_BOOTSTRAP_ADMIN_PASSWORD="+servertest.AdminPassword)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	p := &crashProc{cmd: cmd, base: "http://" + addr, log: logPath, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.exited:
			return nil, fmt.Errorf("the server exited while starting (%v); its log:\n%s", p.err, p.logTail())
		default:
		}
		if res, err := client.Get(p.base + "/readyz"); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-p.exited
			t.Fatalf("the server was not ready within 60s; its log:\n%s", p.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *crashProc) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// kill sends SIGKILL (what Process.Kill is on Linux) and waits for the end.
func (p *crashProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not die within 10s of SIGKILL")
	}
	if p.cmd.ProcessState.Success() {
		t.Fatalf("the server exited cleanly instead of being killed; its log:\n%s", p.logTail())
	}
}

// crashTokens are access tokens by role: "admin", "coord", "eval".
type crashTokens map[string]string

// call sends one request and returns the status and body; the test fails
// on a transport error (the server is expected to be up).
func (p *crashProc) call(t *testing.T, method, path, token, body string) (int, []byte) {
	t.Helper()
	status, b, err := crashSend(context.Background(), http.DefaultClient, p.base, method, path, token, []byte(body))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, b
}

func crashSend(ctx context.Context, client *http.Client, base, method, path, token string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// setUp makes the site, a coordinator and an evaluator (the administrator
// exists from the bootstrap).
func (p *crashProc) setUp(t *testing.T) {
	t.Helper()
	tokens := crashTokens{}
	tokens["admin"] = p.login(t, servertest.AdminEmail, servertest.AdminPassword)
	for _, req := range []struct{ path, body string }{
		{"/api/v1/sites", fmt.Sprintf(`{"code":%q,"name":"Crash site"}`, crashSite)},
		{"/api/v1/users", fmt.Sprintf(`{"email":%q,"role":"coordinator","sites":[%q],"password":%q}`, crashCoord, crashSite, servertest.UserPassword)},
		{"/api/v1/users", fmt.Sprintf(`{"email":%q,"role":"evaluator","password":%q}`, crashEval, servertest.UserPassword)},
	} {
		if status, b := p.call(t, "POST", req.path, tokens["admin"], req.body); status != http.StatusCreated {
			t.Fatalf("POST %s: %d %s", req.path, status, b)
		}
	}
}

func (p *crashProc) login(t *testing.T, email, password string) string {
	t.Helper()
	status, b := p.call(t, "POST", "/api/v1/auth/login", "", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
	if status != http.StatusOK {
		t.Fatalf("login %s: %d %s", email, status, b)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.AccessToken == "" {
		t.Fatalf("login %s: no token in %s", email, b)
	}
	return out.AccessToken
}

func (p *crashProc) signIn(t *testing.T) crashTokens {
	t.Helper()
	tokens := crashTokens{}
	tokens["admin"] = p.login(t, servertest.AdminEmail, servertest.AdminPassword)
	tokens["coord"] = p.login(t, crashCoord, servertest.UserPassword)
	tokens["eval"] = p.login(t, crashEval, servertest.UserPassword)
	return tokens
}

// load runs the clients against the server for delay and then kills it
// (or, if not kill, stops the clients), with requests in flight. It returns
// what was acknowledged and how many baselines were sent (acknowledged or
// not). Clients pause between requests as people do; that also keeps the
// number of responses to read back, each read a scan of the embedded
// store, within the test's time.
func (p *crashProc) load(t *testing.T, token string, seed uint64, round int, delay time.Duration, kill bool) (acked []crashAck, baselines, inFlight int) {
	t.Helper()
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: crashClients, MaxConnsPerHost: crashClients},
		Timeout:   20 * time.Second,
	}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu      sync.Mutex
		faults  []string
		wg      sync.WaitGroup
		sending atomic.Int32 // requests sent and not yet answered
	)
	send := func(method, path string, body []byte) (int, []byte, error) {
		sending.Add(1)
		defer sending.Add(-1)
		return crashSend(ctx, client, p.base, method, path, token, body)
	}
	fault := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(faults) < 10 {
			faults = append(faults, fmt.Sprintf(format, args...))
		}
	}
	for c := range crashClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(c)))
			for n := 0; ctx.Err() == nil; n++ {
				child := fmt.Sprintf("K%d-%d-%d", round, c, n)
				body := fmt.Sprintf(`{"id":%q,"site":%q,"group":%q}`, child, crashSite, []string{"lifelong_links", "comparison"}[r.IntN(2)])
				status, b, err := send("POST", "/api/v1/children", []byte(body))
				if err != nil || status != http.StatusCreated {
					if err == nil {
						fault("POST child %s: %d %s", child, status, b)
					}
					time.Sleep(10 * time.Millisecond) // the server is going or gone
					continue
				}
				day := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(300))
				followUps := r.IntN(4)
				for wave := 0; wave <= followUps && ctx.Err() == nil; wave++ {
					tp, w := "baseline", 1
					if wave > 0 {
						tp, w = "follow_up", wave
					}
					completed := day.AddDate(0, 0, 7*wave).Format(time.DateOnly)
					sent := bench.Body(r, child, tp, w, completed)
					id := crashUUID(r)
					if tp == "baseline" {
						mu.Lock()
						baselines++
						mu.Unlock()
					}
					status, b, err := send("PUT", "/api/v1/responses/"+id, sent)
					if err != nil || status/100 != 2 {
						if err == nil {
							fault("PUT %s (%s wave %d): %d %s", id, tp, w, status, b)
						}
						break // a follow-up needs the wave before it
					}
					var req struct {
						Answers any `json:"answers"`
					}
					_ = json.Unmarshal(sent, &req)
					mu.Lock()
					acked = append(acked, crashAck{id: id, child: child, timepoint: tp, wave: w, completedOn: completed, answers: req.Answers})
					mu.Unlock()
					think(ctx, r)
				}
			}
		}()
	}
	time.Sleep(delay)
	// Kill mid-request: wait (briefly) for a moment when several requests
	// are open, as clients pause between them.
	for wait := time.Now().Add(time.Second); sending.Load() < 2 && time.Now().Before(wait); {
		time.Sleep(time.Millisecond)
	}
	inFlight = int(sending.Load())
	if kill {
		p.kill(t)
	}
	cancel()
	wg.Wait()
	if len(faults) > 0 {
		t.Errorf("round %d: requests refused while the server was up:\n%s", round, strings.Join(faults, "\n"))
	}
	return acked, baselines, inFlight
}

// think pauses a client for 100 to 300 ms, or until ctx ends.
func think(ctx context.Context, r *rand.Rand) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Duration(100+r.IntN(200)) * time.Millisecond):
	}
}

// verify checks that every acknowledged submission is present and intact.
func (p *crashProc) verify(t *testing.T, tokens crashTokens, acked []crashAck) {
	t.Helper()
	jobs := make(chan crashAck)
	var (
		mu       sync.Mutex
		problems []string
		wg       sync.WaitGroup
	)
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	client := &http.Client{Timeout: 20 * time.Second}
	defer client.CloseIdleConnections()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range jobs {
				status, b, err := crashSend(context.Background(), client, p.base, "GET", "/api/v1/responses/"+a.id, tokens["coord"], nil)
				if err != nil {
					problem("GET %s: %v", a.id, err)
					continue
				}
				if status != http.StatusOK {
					problem("acknowledged %s (%s %s wave %d) is lost: GET gives %d %s", a.id, a.child, a.timepoint, a.wave, status, b)
					continue
				}
				if diff := crashCompare(a, b); diff != "" {
					problem("acknowledged %s (%s %s wave %d) is not as sent: %s", a.id, a.child, a.timepoint, a.wave, diff)
				}
			}
		}()
	}
	for _, a := range acked {
		jobs <- a
	}
	close(jobs)
	wg.Wait()
	slices.Sort(problems)
	if n := len(problems); n > 0 {
		t.Fatalf("%d of %d acknowledged submissions are missing or changed after a kill:\n%s",
			n, len(acked), strings.Join(problems[:min(n, 20)], "\n"))
	}
}

// checkSummaries checks that the sums kept in memory equal a rebuild from
// the responses, and that the baseline summary counts every acknowledged
// baseline.
func (p *crashProc) checkSummaries(t *testing.T, tokens crashTokens, acked []crashAck, attemptedBaselines int) {
	t.Helper()
	// The check recounts from the store and then compares with the sums;
	// a write the server is still finishing (its client gone) can land
	// between the two and show as a difference for that response alone.
	// A difference that stays is a fault.
	var check struct {
		Agree       bool     `json:"agree"`
		Differences []string `json:"differences"`
	}
	var first []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		status, b := p.call(t, "GET", "/api/v1/admin/summaries/check", tokens["admin"], "")
		if status != http.StatusOK || json.Unmarshal(b, &check) != nil {
			t.Fatalf("summaries check: %d %s", status, b)
		}
		if check.Agree {
			break
		}
		if first == nil {
			first = check.Differences
		}
		if time.Now().After(deadline) {
			t.Fatalf("the summaries kept in memory differ from a rebuild for 5s: %s", strings.Join(check.Differences, ", "))
		}
	}
	if first != nil {
		t.Logf("the summaries check agreed once in-flight writes had finished; first it said: %s", strings.Join(first, ", "))
	}

	ackedBaselines := crashBaselines(acked)
	status, b := p.call(t, "GET", "/api/v1/summaries/sct?timepoint=baseline", tokens["eval"], "")
	var sum struct {
		Respondents int `json:"respondents"`
	}
	if status != http.StatusOK || json.Unmarshal(b, &sum) != nil {
		t.Fatalf("baseline summary: %d %s", status, b)
	}
	// Baselines the kill cut off after their commit count too, but never more
	// than were sent.
	if sum.Respondents < ackedBaselines || sum.Respondents > attemptedBaselines {
		t.Fatalf("baseline respondents %d; want between %d acknowledged and %d sent", sum.Respondents, ackedBaselines, attemptedBaselines)
	}
}

// crashCompare says how a stored response differs from what was sent ("" if
// it does not). Answers are compared whole, after the server's own
// normalisation (nulls dropped, text trimmed), which these bodies do not need.
func crashCompare(a crashAck, body []byte) string {
	var got struct {
		ChildID     string `json:"child_id"`
		Timepoint   string `json:"timepoint"`
		Wave        int    `json:"wave"`
		CompletedOn string `json:"completed_on"`
		Status      string `json:"status"`
		Revision    int    `json:"revision"`
		Answers     any    `json:"answers"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		return fmt.Sprintf("unreadable: %v", err)
	}
	var diffs []string
	if got.ChildID != a.child || got.Timepoint != a.timepoint || got.Wave != a.wave || got.CompletedOn != a.completedOn {
		diffs = append(diffs, fmt.Sprintf("is %s %s wave %d on %s", got.ChildID, got.Timepoint, got.Wave, got.CompletedOn))
	}
	if got.Status != "submitted" || got.Revision != 1 {
		diffs = append(diffs, fmt.Sprintf("status %s revision %d, want submitted revision 1", got.Status, got.Revision))
	}
	if want, have := crashCanonical(a.answers), crashCanonical(got.Answers); !reflect.DeepEqual(want, have) {
		w, _ := json.Marshal(want)
		h, _ := json.Marshal(have)
		diffs = append(diffs, fmt.Sprintf("answers\n  sent   %s\n  stored %s", w, h))
	}
	return strings.Join(diffs, "; ")
}

// crashCanonical drops nulls and trims text, as the server does.
func crashCanonical(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if e != nil {
				out[k] = crashCanonical(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = crashCanonical(e)
		}
		return out
	case string:
		return strings.TrimSpace(x)
	}
	return v
}

// crashUUID makes a version 4 UUID, as a client would.
func crashUUID(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

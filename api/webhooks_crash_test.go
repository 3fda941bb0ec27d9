package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/store/storetest"
)

// The server binary is killed (SIGKILL) while deliveries are under way and
// right after a commit it acknowledged: started again, it delivers every
// event, each revision after the one before it, and the one whose attempt
// was cut short again under the same webhook-id.
func TestWebhooks_Kill9BetweenCommitAndDeliveryLosesNothing(t *testing.T) {
	storetest.Once(t)
	if testing.Short() {
		t.Skip("builds the server and kills it")
	}
	bin := buildServerBinary(t)
	data, logs := t.TempDir(), t.TempDir()
	env := []string{"SCT_WEBHOOK_ALLOW=127.0.0.1"}
	p := startCrashProc(t, bin, data, filepath.Join(logs, "first.log"), env...)
	p.setUp(t)
	tokens := p.signIn(t)

	rec := newHookReceiver(t)
	rec.hold = make(chan struct{}) // the receiver takes requests and does not answer
	st, b := p.call(t, "POST", "/api/v1/webhooks", tokens["admin"],
		fmt.Sprintf(`{"url":%q,"events":["response.submitted","response.revised"]}`, rec.srv.URL+"/hook"))
	if st != http.StatusCreated {
		t.Fatalf("register: %d %s", st, b)
	}
	var hook struct{ ID, Secret string }
	_ = json.Unmarshal(b, &hook)
	rec.setSecret(hook.Secret)

	var want []string
	put := func(id, child string, revise bool) {
		t.Helper()
		body := sctRequest(child, "baseline", "2019-06-14", "submitted", hookAnswers)
		status := http.StatusCreated
		if revise {
			body, status = strings.Replace(body, `"let_down":1`, `"let_down":2`, 1), http.StatusOK
		}
		if st, b := p.call(t, "PUT", "/api/v1/responses/"+id, tokens["coord"], body); st != status {
			t.Fatalf("PUT %s: %d %s", id, st, b)
		}
	}
	for i := range 4 {
		child, id := fmt.Sprintf("K%d", i), fmt.Sprintf("c0c0c0c0-0000-4000-8000-%012d", i)
		if st, b := p.call(t, "POST", "/api/v1/children", tokens["coord"], fmt.Sprintf(`{"id":%q,"site":%q,"group":"lifelong_links"}`, child, crashSite)); st != 201 {
			t.Fatalf("child: %d %s", st, b)
		}
		put(id, child, false)
		want = append(want, id+"#1")
	}
	// Deliveries are under way (held by the receiver) ...
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, b := p.call(t, "GET", "/api/v1/webhooks/"+hook.ID+"/deliveries", tokens["admin"], "")
		if st == 200 && strings.Count(string(b), `"id":"msg_`) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deliveries were not recorded: %d %s", st, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // requests reach the receiver
	// ... and two revisions are committed, the kill coming as soon as the
	// second is acknowledged.
	put("c0c0c0c0-0000-4000-8000-000000000000", "K0", true)
	put("c0c0c0c0-0000-4000-8000-000000000001", "K1", true)
	p.kill(t)
	want = append(want, "c0c0c0c0-0000-4000-8000-000000000000#2", "c0c0c0c0-0000-4000-8000-000000000001#2")
	rec.mu.Lock()
	close(rec.hold) // what was held is answered, to a server no longer there
	rec.hold = nil
	rec.mu.Unlock()
	heldBefore := len(rec.got())

	p = startCrashProc(t, bin, data, filepath.Join(logs, "second.log"), env...)
	calls := rec.waitForKeys(t, 30*time.Second, want...)
	time.Sleep(500 * time.Millisecond)
	calls = rec.got()
	var after []string
	for _, c := range calls[heldBefore:] {
		if c.Err != nil {
			t.Errorf("%s: %v", c.key(), c.Err)
		}
		after = append(after, c.key())
	}
	for _, id := range []string{"c0c0c0c0-0000-4000-8000-000000000000", "c0c0c0c0-0000-4000-8000-000000000001"} {
		var order []string
		for _, c := range calls {
			if strings.HasPrefix(c.key(), id) {
				order = append(order, c.key())
			}
		}
		if i, j := slices.Index(order, id+"#1"), slices.Index(order, id+"#2"); i < 0 || j < 0 || i > j {
			t.Errorf("%s: sent as %v, want the submission before the revision", id, order)
		}
	}
	// The attempts cut short by the kill were made again under their ids.
	ids := map[string]string{}
	for _, c := range calls {
		if prev, ok := ids[c.key()]; ok && prev != c.ID {
			t.Errorf("%s sent under two ids: %s and %s", c.key(), prev, c.ID)
		}
		ids[c.key()] = c.ID
	}
	t.Logf("held at the kill: %d; sent after the restart: %v", heldBefore, after)
	tokens = p.signIn(t)
	st, b = p.call(t, "GET", "/api/v1/webhooks/"+hook.ID+"/deliveries", tokens["admin"], "")
	if st != 200 || strings.Count(string(b), `"status":"delivered"`) != len(want) {
		t.Fatalf("deliveries after the restart: %d %s", st, b)
	}
}

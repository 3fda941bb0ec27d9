package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/lifelong-links/sct/internal/config"
	sctserver "github.com/lifelong-links/sct/internal/server"
)

const (
	chromiumPath  = "/usr/bin/chromium"
	adminEmail    = "admin@example.org"
	adminPassword = "correct horse battery"
	userPassword  = "a long enough password"
	coordEmail    = "coord@example.org"
	evalEmail     = "evaluator@example.org"

	// The phone the young people use: the CSS pixels of a common handset.
	phoneWidth, phoneHeight = 390, 844

	// testTimeout bounds each test, browser and server included.
	testTimeout = 100 * time.Second
	// stepTimeout bounds a single wait inside a test.
	stepTimeout = 15 * time.Second
)

// ---- the server -------------------------------------------------------------

// server is the fully wired server on the embedded store, on a free port,
// with site A, a coordinator of it and an evaluator signed in over HTTP.
type server struct {
	base   string
	tokens map[string]string // access tokens by user name
}

func startServer(t *testing.T) *server {
	t.Helper()
	settings := config.Defaults()
	settings.Addr = "127.0.0.1:0"
	settings.DataDir = t.TempDir()
	settings.ShutdownTimeout = 5 * time.Second
	settings.BootstrapAdminEmail, settings.BootstrapAdminPassword = adminEmail, adminPassword
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- sctserver.Serve(ctx, settings, log, func(addr string) { ready <- addr }) }()
	var s *server
	select {
	case addr := <-ready:
		s = &server{base: "http://" + addr, tokens: map[string]string{}}
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("server did not start within 60s")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})

	s.login(t, "admin", adminEmail, adminPassword)
	s.mustDo(t, "POST", "/api/v1/sites", `{"code":"A","name":"Site A"}`, "admin", 201)
	for _, u := range []struct{ name, email, role, sites string }{
		{"coord", coordEmail, "coordinator", `["A"]`},
		{"evaluator", evalEmail, "evaluator", `[]`},
	} {
		s.mustDo(t, "POST", "/api/v1/users",
			fmt.Sprintf(`{"email":%q,"role":%q,"sites":%s,"password":%q}`, u.email, u.role, u.sites, userPassword), "admin", 201)
		s.login(t, u.name, u.email, userPassword)
	}
	return s
}

// do sends a request as the signed-in user named as ("" for nobody).
func (s *server) do(t *testing.T, method, path, body, as string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if as != "" {
		req.Header.Set("Authorization", "Bearer "+s.tokens[as])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// mustDo is do that fails the test unless the status is want.
func (s *server) mustDo(t *testing.T, method, path, body, as string, want int) []byte {
	t.Helper()
	status, b := s.do(t, method, path, body, as)
	if status != want {
		t.Fatalf("%s %s as %q: %d %s; want %d", method, path, as, status, b, want)
	}
	return b
}

// getJSON decodes the answer to a GET into out.
func (s *server) getJSON(t *testing.T, path, as string, out any) {
	t.Helper()
	b := s.mustDo(t, "GET", path, "", as, 200)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, b)
	}
}

func (s *server) login(t *testing.T, name, email, password string) {
	t.Helper()
	b := s.mustDo(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password), "", 200)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.AccessToken == "" {
		t.Fatalf("login %s: %v %s", email, err, b)
	}
	s.tokens[name] = out.AccessToken
}

func (s *server) createChild(t *testing.T, id, group string) {
	t.Helper()
	s.mustDo(t, "POST", "/api/v1/children", fmt.Sprintf(`{"id":%q,"site":"A","group":%q}`, id, group), "coord", 201)
}

// link is what the coordinator gets for a young person's phone.
type link struct {
	Code       string `json:"code"`
	Link       string `json:"link"`
	ResponseID string `json:"response_id"`
	QRPNG      string `json:"qr_png"`
}

func (s *server) openLink(t *testing.T, child string) link {
	t.Helper()
	b := s.mustDo(t, "POST", "/api/v1/children/"+child+"/sessions", `{}`, "coord", 201)
	var l link
	if err := json.Unmarshal(b, &l); err != nil || l.Code == "" || l.ResponseID == "" {
		t.Fatalf("session for %s: %v %s", child, err, b)
	}
	if !strings.HasPrefix(l.Link, s.base+"/#join=") {
		t.Fatalf("link %q, want it on %s with #join=", l.Link, s.base)
	}
	return l
}

// ---- what the API holds -----------------------------------------------------

type nominee struct {
	Name         string `json:"name"`
	Relationship string `json:"relationship"`
	OtherText    string `json:"other_text,omitempty"`
}

type keyPerson struct {
	Nominee      *int           `json:"nominee,omitempty"`
	Name         string         `json:"name,omitempty"`
	Relationship string         `json:"relationship,omitempty"`
	Reason       string         `json:"reason"`
	Support      map[string]int `json:"support,omitempty"`
	LetDown      *int           `json:"let_down,omitempty"`
}

type answers struct {
	Nominees  []nominee      `json:"nominees"`
	KeyPeople []keyPerson    `json:"key_people"`
	Adequacy  map[string]int `json:"adequacy"`
}

type response struct {
	ID          string  `json:"id"`
	Form        string  `json:"form"`
	Version     string  `json:"version"`
	ChildID     string  `json:"child_id"`
	Timepoint   string  `json:"timepoint"`
	Wave        int     `json:"wave"`
	CompletedOn string  `json:"completed_on"`
	Mode        string  `json:"mode"`
	Language    string  `json:"language"`
	Status      string  `json:"status"`
	Revision    int     `json:"revision"`
	Answers     answers `json:"answers"`
}

// responseInfo is one response in a site's list of children, without answers.
type responseInfo struct {
	ID        string `json:"id"`
	Form      string `json:"form"`
	Status    string `json:"status"`
	Mode      string `json:"mode"`
	Timepoint string `json:"timepoint"`
	Revision  int    `json:"revision"`
}

// childResponses lists what the server holds for a child, as its coordinator
// sees it in the site's list.
func (s *server) childResponses(t *testing.T, child string) []responseInfo {
	t.Helper()
	var list struct {
		Children []struct {
			ID        string         `json:"id"`
			Responses []responseInfo `json:"responses"`
		} `json:"children"`
	}
	s.getJSON(t, "/api/v1/children?site=A", "coord", &list)
	for _, c := range list.Children {
		if c.ID == child {
			return c.Responses
		}
	}
	t.Fatalf("child %s is not in site A's list", child)
	return nil
}

func (s *server) response(t *testing.T, id string) response {
	t.Helper()
	var r response
	s.getJSON(t, "/api/v1/responses/"+id, "coord", &r)
	return r
}

func intp(v int) *int { return &v }

// ---- the browser ------------------------------------------------------------

// phone is one headless Chromium tab at the phone viewport, with a folder
// for its screenshots.
type phone struct {
	t     *testing.T
	ctx   context.Context
	shots string
	n     int
	// What a person has done so far: taps, and how far they scrolled to
	// bring what they tapped into view (CSS pixels).
	taps     int
	scrolled float64
	width    int64 // the screen's width now: phoneWidth, or narrowWidth with large text
}

// narrowWidth is the narrowest phone the pages are made for; it is checked
// with text at 200%, as a person who needs larger text sets it.
// commonWidth is the width of many small Android phones, checked as well.
const narrowWidth, commonWidth = 320, 360

// setLarge turns the phone into the narrowest one with text at 200% (the
// browser's default text size doubled), or back.
func (p *phone) setLarge(on bool) {
	p.t.Helper()
	width, size := int64(phoneWidth), int64(16)
	if on {
		width, size = narrowWidth, 32
	}
	p.width = width
	p.do(fmt.Sprintf("screen %dpx, text %dpx", width, size), viewport(width, phoneHeight), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.SetFontSizes, page.SetFontSizesParams{FontSizes: &page.FontSizes{Standard: size}})
		return err
	}))
}

// reach scrolls the element js names into view as a person would (the least
// distance that shows it whole), counts the tap and the scrolling, and
// returns nothing: the tap itself follows.
func (p *phone) reach(js string) {
	p.t.Helper()
	p.taps++
	p.scrolled += eval[float64](p, `(() => {
		const el = `+js+`;
		if (!el) return 0;
		// What stays on screen (a bar stuck to the top or bottom) hides
		// what lies under it, unless the element is in it.
		const inset = (sel) => { const b = document.querySelector(sel); return b && !b.contains(el) && getComputedStyle(b).position === 'sticky' ? b.getBoundingClientRect().height : 0; };
		const top = inset('.sticky-top'), bottom = innerHeight - inset('.sticky-nav');
		const r = el.getBoundingClientRect(), margin = 16;
		let d = 0;
		if (r.bottom > bottom) d = Math.min(r.bottom - bottom + margin, r.top - top - margin);
		else if (r.top < top) d = r.top - top - margin;
		window.scrollBy(0, d);
		return Math.abs(d);
	})()`)
}

// newPhone starts a fresh Chromium (its own profile) for the test. Without
// Chromium the test is skipped on a workstation and fails in CI, which
// installs it.
func newPhone(ctx context.Context, t *testing.T) *phone {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s is missing (%v): install Debian's chromium", chromiumPath, err)
		}
		t.Skipf("%s is missing (%v): apt-get install chromium to run the browser tests", chromiumPath, err)
	}
	profile, err := os.MkdirTemp("", "sct-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Chromium's helpers can still write for a moment after it stops.
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })

	// The first action starts the browser and ties it to the context it
	// gets: the tab's own, never a step's shorter one.
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	p := &phone{t: t, ctx: tabCtx, shots: shotDir(t), width: phoneWidth}
	p.do("start the phone", phoneViewport(phoneHeight))
	// Keep the page's own complaints in the test log: an uncaught error in a
	// module is otherwise silent. (Failed requests are left out: the tests
	// make some on purpose, and the API answers are checked directly.)
	messages := chromedp.Console(tabCtx)
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || (m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning) && !strings.HasPrefix(m.Text, "Failed to load resource") {
				t.Logf("page console %s: %s (%s)", m.Type, m.Text, m.URL)
			}
		}
	}()
	t.Cleanup(func() { cancelTab(); <-logged })
	return p
}

// phoneViewport is the phone's screen, made taller for a whole-page
// screenshot.
func phoneViewport(height int64) chromedp.Action[chromedp.Void] {
	return viewport(phoneWidth, height)
}

// viewport is a phone's screen of the given size.
func viewport(width, height int64) chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(width, height,
		chromedp.EmulateScale(1), chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch)
}

// shotDir is the test's screenshot folder: $SCT_SCREENSHOTS or
// <repo>/testout/screenshots, then the test's name.
func shotDir(t *testing.T) string {
	root := os.Getenv("SCT_SCREENSHOTS")
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		repo := wd
		for {
			if _, err := os.Stat(filepath.Join(repo, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(repo)
			if parent == repo {
				t.Fatalf("no go.mod above %s", wd)
			}
			repo = parent
		}
		root = filepath.Join(repo, "testout", "screenshots")
	}
	dir := filepath.Join(root, regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_"))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// do runs browser actions; what names the step in a failure.
func (p *phone) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.shot("failed-" + what)
		p.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](p *phone, js string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor waits until the JavaScript expression is truthy.
func (p *phone) waitFor(what, js string) {
	p.t.Helper()
	p.waitForWithin(what, js, stepTimeout)
}

func (p *phone) waitForWithin(what, js string, d time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js,
		chromedp.WithPollingTimeout(d), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		p.shot("failed-" + what)
		p.t.Fatalf("waiting for %s (%s): %v\npage says: %s", what, js, err, p.mainText())
	}
}

// mainText is what the page shows, for failure messages.
func (p *phone) mainText() string {
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// heading waits until the page's h1 contains text.
func (p *phone) heading(text string) {
	p.t.Helper()
	p.waitFor("heading "+text, fmt.Sprintf(`(document.querySelector('main h1')?.textContent || '').includes(%q)`, text))
}

// click clicks the first element the CSS selector matches.
func (p *phone) click(sel string) {
	p.t.Helper()
	p.reach(fmt.Sprintf("document.querySelector(%q)", sel))
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// focus moves the keyboard focus to the element the CSS selector matches.
func (p *phone) focus(sel string) {
	p.t.Helper()
	p.do("focus "+sel, chromedp.Focus(chromedp.CSS(sel)))
}

// tap taps (touch) the first element the CSS selector matches.
func (p *phone) tap(sel string) {
	p.t.Helper()
	p.reach(fmt.Sprintf("document.querySelector(%q)", sel))
	p.do("tap "+sel, chromedp.Tap(chromedp.CSS(sel)))
}

// clickButton clicks the button whose text is text.
func (p *phone) clickButton(text string) {
	p.t.Helper()
	js := fmt.Sprintf(`[...document.querySelectorAll('main button, main .button, main summary')].find((b) => b.textContent.trim() === %q)`, text)
	p.reach(js)
	p.do("click the button "+text, chromedp.Click(chromedp.JSPath(js)))
}

// typeIn types text into the element the CSS selector matches; a person
// taps the box first unless it has the focus already.
func (p *phone) typeIn(sel, text string) {
	p.t.Helper()
	if !eval[bool](p, fmt.Sprintf("document.activeElement === document.querySelector(%q)", sel)) {
		p.reach(fmt.Sprintf("document.querySelector(%q)", sel))
	}
	p.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// keys sends key presses to whatever has the focus.
func (p *phone) keys(what, keys string) {
	p.t.Helper()
	p.do(what, chromedp.KeyEvent(keys))
}

// open loads a URL and waits for the page to settle.
func (p *phone) open(url string) {
	p.t.Helper()
	p.do("open "+url, chromedp.Navigate(url))
}

// setLatency makes every request of the tab wait ms milliseconds for its
// answer, as on a slow phone connection (0: no delay).
func (p *phone) setLatency(ms float64) {
	p.t.Helper()
	conditions := []*network.Conditions{}
	if ms > 0 {
		conditions = append(conditions, &network.Conditions{Latency: ms, DownloadThroughput: -1, UploadThroughput: -1})
	}
	p.do(fmt.Sprintf("set latency %vms", ms), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: new(false), MatchedNetworkConditions: conditions,
		})
		return err
	}))
}

// checkLaptop checks the page as it is now on a 1366x768 laptop screen
// (screenshot, no sideways scrolling), then goes back to the phone.
func (p *phone) checkLaptop(step string) {
	p.t.Helper()
	p.width = 1366
	p.do("a laptop's screen", viewport(1366, 768))
	p.shot(step + "-1366px")
	if problem := p.sideways(); problem != "" {
		p.t.Errorf("%s on a laptop: %s", step, problem)
	}
	p.width = phoneWidth
	p.do("the phone's screen again", phoneViewport(phoneHeight))
}

// newTab opens another tab of the same phone (the same browser profile, so
// the same storage and service worker), as a person does after closing one.
func (p *phone) newTab() *phone {
	p.t.Helper()
	ctx, cancel := chromedp.NewContext(p.ctx)
	p.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		p.t.Fatalf("open a new tab: %v", err)
	}
	q := &phone{t: p.t, ctx: ctx, shots: p.shots, n: p.n, width: phoneWidth}
	q.do("size the new tab", phoneViewport(phoneHeight))
	return q
}

// shot saves a full-page screenshot named by the test and the step.
func (p *phone) shot(step string) {
	p.n++
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	// The whole page, as Puppeteer's fullPage does it: a viewport as tall as
	// the page for the capture (Chromium paints beyond the viewport poorly),
	// then the phone again.
	png, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		height, err := chromedp.Evaluate[int](`Math.ceil(document.documentElement.scrollHeight)`)(ctx, t)
		if err != nil {
			return nil, err
		}
		if height > phoneHeight {
			if _, err := viewport(p.width, int64(height))(ctx, t); err != nil {
				return nil, err
			}
			defer func() { _, _ = viewport(p.width, phoneHeight)(ctx, t) }()
		}
		return chromedp.CaptureScreenshot()(ctx, t)
	})
	if err != nil {
		p.t.Logf("screenshot %s: %v", step, err)
		return
	}
	name := fmt.Sprintf("%02d-%s.png", p.n, regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(step, "-"))
	if err := os.WriteFile(filepath.Join(p.shots, name), png, 0o644); err != nil {
		p.t.Errorf("screenshot %s: %v", step, err)
	}
}

// setOffline cuts the tab off the network, or joins it again: requests fail,
// and navigator.onLine and the online/offline events follow.
func (p *phone) setOffline(offline bool) {
	p.t.Helper()
	conditions := []*network.Conditions{}
	if offline {
		conditions = append(conditions, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
	}
	p.do(fmt.Sprintf("set offline %v", offline), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: new(offline), MatchedNetworkConditions: conditions,
		}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: offline, DownloadThroughput: -1, UploadThroughput: -1,
		})
		return err
	}))
	p.waitFor("navigator.onLine to follow", fmt.Sprintf(`navigator.onLine === %v`, !offline))
}

// sideways says how the page is wider than the phone, or "" when it is not.
func (p *phone) sideways() string {
	p.t.Helper()
	w := eval[int](p, `document.documentElement.scrollWidth`)
	if int64(w) <= p.width {
		return ""
	}
	wide := eval[string](p, `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5 && !e.parentElement.closest('.scroll')).slice(0, 5).map((e) => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join('; ')`)
	spill := eval[string](p, `[...document.querySelectorAll('body *')].filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible' && !e.closest('.scroll') && e.clientWidth > 0).slice(0, 5).map((e) => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ' ' + e.scrollWidth + '>' + e.clientWidth).join('; ')`)
	return fmt.Sprintf("the page is %dpx wide on a %dpx phone (scrolls sideways); widest: %s; spilling: %s", w, p.width, wide, spill)
}

// smallTargets lists the controls a person taps (buttons, the menu bar's
// links, a details' summary, answer tiles) that are less than 44 CSS pixels
// high, or wide, on screen ("" when none is).
func (p *phone) smallTargets() string {
	p.t.Helper()
	return eval[string](p, `[...document.querySelectorAll('button, .button, summary, .bar a, label.tile, a.who')].filter((e) => {
		const r = e.getBoundingClientRect();
		return r.width > 0 && r.height > 0 && (r.height < 43.5 || r.width < 43.5) && !e.closest('[hidden]');
	}).slice(0, 5).map((e) => e.tagName + (e.id ? '#' + e.id : '') + ' "' + e.textContent.trim().slice(0, 20) + '" ' +
		Math.round(e.getBoundingClientRect().width) + 'x' + Math.round(e.getBoundingClientRect().height)).join('; ')`)
}

// unnamedControls lists the inputs, selects, textareas, buttons and links a
// person can reach that have no accessible name, as Chromium's own
// accessibility tree computes it (label, aria-label or text).
func (p *phone) unnamedControls() []string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("input, select, textarea, button, summary, a[href]"), chromedp.AtLeast(0)))
	if err != nil {
		p.t.Fatalf("listing the controls: %v", err)
	}
	if len(nodes) == 0 {
		return []string{"(no controls at all)"}
	}
	var unnamed []string
	for _, n := range nodes {
		res, err := cdp.Call(ctx, chromedp.FromContext(ctx).Target, accessibility.GetPartialAXTree,
			accessibility.GetPartialAXTreeParams{BackendNodeID: n.BackendNodeID, FetchRelatives: new(false)})
		if err != nil {
			p.t.Fatalf("accessibility of %s: %v", n.FullXPath(), err)
		}
		if len(res.Nodes) == 0 || res.Nodes[0].Ignored {
			continue // hidden: nobody reaches it
		}
		var name string
		if v := res.Nodes[0].Name; v != nil {
			_ = json.Unmarshal(v.Value, &name)
		}
		if strings.TrimSpace(name) == "" {
			unnamed = append(unnamed, n.FullXPath()+" "+fmt.Sprint(n.Attributes))
		}
	}
	return unnamed
}

// check saves a screenshot of the page as it is now and fails the test when
// the page scrolls sideways on the phone or a control has no name.
func (p *phone) check(step string) {
	p.t.Helper()
	p.shot(step)
	if problem := p.sideways(); problem != "" {
		p.t.Errorf("%s: %s", step, problem)
	}
	// The same page on a common small phone, 360px wide.
	p.width = commonWidth
	p.do(fmt.Sprintf("screen %dpx", commonWidth), viewport(commonWidth, phoneHeight))
	if problem := p.sideways(); problem != "" {
		p.shot(step + "-360px")
		p.t.Errorf("%s at %dpx: %s", step, commonWidth, problem)
	}
	// The same page on a 320px phone with text at 200%.
	p.setLarge(true)
	p.shot(step + "-320px-200pc")
	if problem := p.sideways(); problem != "" {
		p.t.Errorf("%s at 320px with text at 200%%: %s", step, problem)
	}
	p.setLarge(false)
	if small := p.smallTargets(); small != "" {
		p.t.Errorf("%s: controls smaller than 44px to tap: %s", step, small)
	}
	if unnamed := p.unnamedControls(); len(unnamed) > 0 {
		p.t.Errorf("%s: controls without an accessible name:\n  %s", step, strings.Join(unnamed, "\n  "))
	}
}

// eventually polls f (an API check) until it returns nil or the time is up.
func eventually(ctx context.Context, d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func compact(b []byte) string {
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return string(b)
	}
	return out.String()
}

// The layout checks must be able to fail: on a page built to break both
// rules they report it, and on a tidy page they do not.
func TestBrowser_LayoutChecksCatchProblems(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	p := newPhone(ctx, t)

	p.open(`data:text/html,<meta name="viewport" content="width=device-width"><input id="x"><button></button><div style="width:600px">wide</div>`)
	if problem := p.sideways(); !strings.Contains(problem, "600px wide") && !strings.Contains(problem, "wide on a 390px phone") {
		t.Errorf("a 600px-wide page: sideways() = %q, want a complaint", problem)
	}
	if unnamed := p.unnamedControls(); len(unnamed) != 2 {
		t.Errorf("an unlabelled input and an empty button: unnamedControls() = %q, want both", unnamed)
	}

	p.open(`data:text/html,<meta name="viewport" content="width=device-width"><label for="x">Name</label><input id="x"><label><input type="radio" name="r"> Yes</label><button aria-label="Read aloud"></button><button>Go</button>`)
	if problem := p.sideways(); problem != "" {
		t.Errorf("a tidy page: sideways() = %q, want nothing", problem)
	}
	if unnamed := p.unnamedControls(); len(unnamed) != 0 {
		t.Errorf("a tidy page: unnamedControls() = %q, want none", unnamed)
	}
}

// answerDialogs answers every question the page asks with confirm() (yes
// when accept) until the returned stop is called, and sends each question's
// words on the channel (dropped when nobody reads them).
func (p *phone) answerDialogs(accept bool) (asked <-chan string, stop func()) {
	ctx, cancel := context.WithCancel(p.ctx)
	words := make(chan string, 1)
	opening := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range opening {
			if err != nil {
				return
			}
			select {
			case words <- ev.Message:
			default:
			}
			// Answered from another goroutine than the one the events come on.
			go func() {
				_ = chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept})
					return err
				}))
			}()
		}
	}()
	return words, cancel
}

package serve

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"cdp/internal/sqltest"
)

const chromiumPath = "/usr/bin/chromium"

// The console in a real headless Chromium: log in, open each page, find
// the warehouse's figures in the DOM; the analyst's pages hold no full ID
// number. With CDP_CONSOLE_SCREENSHOTS=DIR it saves a screenshot of each
// page there (docs/images holds the ones the docs show).
func TestConsole_InAHeadlessChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the console's browser test runs the real Chromium, not found at %s: apt-get install chromium (.ci/run does)", chromiumPath)
	}
	b, base := consoleDaemon(t, nil)
	var party string
	sqltest.Row(t, b.W.DB(), `SELECT party_id FROM mart.signals ORDER BY party_id LIMIT 1`).Scan(&party)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browser, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first run starts the browser and must not carry a timeout; the
	// rest run under one, so that a page that never shows fails the test.
	if err := chromedp.Do(browser, chromedp.Navigate(base+"/console/")); err != nil {
		t.Fatalf("the browser: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(browser, 90*time.Second)
	defer cancelTimeout()
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("the browser: %v", err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("the browser: text of %s: %v", sel, err)
		}
		return s
	}
	shots := os.Getenv("CDP_CONSOLE_SCREENSHOTS")
	shoot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(50))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(shots, "console-"+name+".jpeg"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	do(chromedp.WaitVisible(chromedp.ID("login")))
	login := text("body")
	do(chromedp.SendKeys(chromedp.ID("user"), "ana"), chromedp.SendKeys(chromedp.ID("password"), "ana-pw"),
		chromedp.Click(chromedp.ID("login")), chromedp.WaitVisible(chromedp.ID("runs")),
		// The charts are drawn by the embedded ECharts, as SVG.
		chromedp.WaitVisible(chromedp.CSS(`#durations[data-drawn="true"] svg`)))
	runs := text("#runs")
	shoot("runs")
	do(chromedp.Navigate(base+"/console/loads"), chromedp.WaitVisible(chromedp.ID("loads")),
		chromedp.WaitVisible(chromedp.CSS(`#loads-chart[data-drawn="true"] svg`)))
	loads := text("main")
	shoot("loads")
	do(chromedp.Navigate(base+"/console/outbox"), chromedp.WaitVisible(chromedp.ID("outbox")))
	outboxPage := text("#outbox")
	do(chromedp.Navigate(base+"/console/identity"), chromedp.WaitVisible(chromedp.CSS(`#tier-chart[data-drawn="true"] svg`)))
	shoot("identity")
	do(chromedp.Navigate(base+"/console/customer"), chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), party), chromedp.Click(chromedp.ID("search")), chromedp.WaitVisible(chromedp.ID("party")))
	card := text("main")
	shoot("customer")
	do(chromedp.Navigate(base+"/console/funnel"), chromedp.WaitVisible(chromedp.CSS(`#funnel-chart[data-drawn="true"] svg`)))
	funnelPage := text("#funnel-total")
	shoot("funnel")
	do(chromedp.Navigate(base+"/console/keyaccounts"), chromedp.WaitVisible(chromedp.CSS(`#tier-chart[data-drawn="true"] svg`)),
		chromedp.WaitVisible(chromedp.CSS(`#curve-chart[data-drawn="true"] svg`)))
	mixPage := text("#tier-mix")
	shoot("keyaccounts")
	if !strings.Contains(mixPage, "战略核心 core") {
		t.Errorf("the key accounts' tier mix: %q", mixPage)
	}
	if !strings.Contains(login, "cdp console") {
		t.Errorf("the login page: %q", login)
	}
	if !strings.Contains(runs, "describe") || !strings.Contains(runs, "success") {
		t.Errorf("the runs table: %q", runs)
	}
	if !strings.Contains(loads, "credit") || !strings.Contains(loads, "bad_date") {
		t.Errorf("the loads page: %q", loads)
	}
	if !strings.Contains(outboxPage, "waiting") {
		t.Errorf("the outbox page: %q", outboxPage)
	}
	if !strings.Contains(funnelPage, "total") {
		t.Errorf("the funnel's total row: %q", funnelPage)
	}
	if !strings.Contains(card, party) || !strings.Contains(card, "Signals") {
		t.Errorf("the customer card: %q", card)
	}
	if m := regexp.MustCompile(`\b\d{17}[\dXx]\b`).FindString(loads + card); m != "" {
		t.Errorf("a full ID number on the analyst's pages: %s", m)
	}
}

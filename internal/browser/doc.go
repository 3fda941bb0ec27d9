// Package browser holds the end-to-end tests of the phone pages: the fully
// wired server on the embedded store, driven through headless Chromium at a
// 390×844 phone viewport with chromedp. It has no code of its own; the tests
// are in the _test.go files, and they save a screenshot of every step under
// testout/screenshots (or $SCT_SCREENSHOTS) for a person to look at.
package browser

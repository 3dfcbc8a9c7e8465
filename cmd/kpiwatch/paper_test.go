package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// a4PrintableWidth is the width, in CSS pixels, that the briefing's @page
// leaves for content: A4's 210 mm less its 12 mm margins each side, at 96
// pixels to the inch.
const a4PrintableWidth = (210 - 2*12) * 96 / 25.4

// measureOverflow, run in the page, lists every table wider than the
// printable width with its width, and the widest cell that pushes it, in
// the body's data-overflow attribute; "none" when every table fits.
const measureOverflow = `<script>
(function () {
  var limit = %f, out = [];
  document.querySelectorAll("table").forEach(function (t) {
    var w = t.getBoundingClientRect().width;
    if (w <= limit + 0.5) return;
    var widest = "", cw = 0;
    t.querySelectorAll("th,td").forEach(function (c) {
      var r = c.getBoundingClientRect().width;
      if (r > cw) { cw = r; widest = c.textContent.trim().slice(0, 40); }
    });
    out.push((t.id || "table") + " " + Math.round(w) + "px (widest cell " + Math.round(cw) + "px: " + widest + ")");
  });
  document.body.setAttribute("data-overflow", out.length ? out.join("; ") : "none");
})();
</script>`

var overflowAttr = regexp.MustCompile(`data-overflow="([^"]*)"`)

// The briefing is read on paper: every table of it, in both languages, fits
// A4's printable width as printed (its print styles applied), so no column
// (target, deadline, days left) is cut off at the right edge.
func TestBriefingFitsA4(t *testing.T) {
	b := newBrowser(t)
	for _, lang := range []string{"vi", "en"} {
		t.Run(lang, func(t *testing.T) {
			var out, stderr strings.Builder
			if code := run(context.Background(), []string{"report", "--period", "2026-10", "--lang", lang}, &out, &stderr); code != 0 {
				t.Fatalf("report: exit %d\n%s", code, stderr.String())
			}
			checkFitsA4(t, b, out.String(), "briefing-"+lang)
		})
	}
}

// checkFitsA4 opens the briefing page in Chromium as printed (its print
// styles applied, the window as wide as A4's printable area) and fails the
// test for every table wider than the paper.
func checkFitsA4(t *testing.T, b *browser, page, name string) {
	t.Helper()
	if !strings.Contains(page, "@media print{") || !strings.Contains(page, "</body>") {
		t.Fatalf("%s has no print styles or no body to measure:\n%.300s", name, page)
	}
	page = strings.Replace(page, "@media print{", "@media all{", 1)
	page = strings.Replace(page, "</body>", fmt.Sprintf(measureOverflow, a4PrintableWidth)+"</body>", 1)
	file := filepath.Join(t.TempDir(), name+".html")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := b.run(fmt.Sprintf("--window-size=%.0f,1200", a4PrintableWidth), "--dump-dom", "file://"+file)
	m := overflowAttr.FindStringSubmatch(dom)
	switch {
	case m == nil:
		t.Fatalf("the measuring script did not run on %s:\n%.500s", name, dom)
	case m[1] != "none":
		t.Errorf("%s: tables wider than A4's printable width (%.0fpx): %s", name, a4PrintableWidth, m[1])
	}
}

package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
)

// readmeBlock is the first fenced block of language lang after the line
// after in the repository's README.
func readmeBlock(t *testing.T, after, lang string) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "\n"+after+"\n")
	if i < 0 {
		t.Fatalf("README.md has no line %q", after)
	}
	m := regexp.MustCompile("(?s)\n```" + lang + "\n(.*?)\n```\n").FindStringSubmatch(text[i:])
	if m == nil {
		t.Fatalf("README.md has no %s block after %q", lang, after)
	}
	return m[1] + "\n"
}

// TestReadmeCatalogue loads the README's catalogue example, so that it
// cannot drift from what the loader accepts.
func TestReadmeCatalogue(t *testing.T) {
	cat, err := catalogue.Parse("README.md", []byte(readmeBlock(t, "## The catalogue", "yaml")), fstest.MapFS{}, collectors.Check)
	if err != nil {
		t.Fatalf("the README's catalogue example does not load:\n%v", err)
	}
	if w := append(cat.Warnings, collectors.Warnings(cat)...); len(w) > 0 {
		t.Errorf("the README's catalogue example warns:\n%v", w)
	}
	if len(cat.KPIs) == 0 || len(cat.Sources) == 0 || cat.Metadata.Locale != catalogue.LocaleVI {
		t.Errorf("the example lost its substance: %d KPIs, %d sources, locale %q", len(cat.KPIs), len(cat.Sources), cat.Metadata.Locale)
	}
}

// TestOperatorWalkthrough runs the README's operator walkthrough, line by
// line, with the kpiwatch binary built into a temp dir, in an empty temp
// dir: init, an edit, validate, generate, check, serve.
func TestOperatorWalkthrough(t *testing.T) {
	realserver.Binary(t, "promtool", "prometheus")
	realserver.Binary(t, "amtool", "prometheus-alertmanager")
	bin := filepath.Join(t.TempDir(), "kpiwatch")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	var steps []string
	for _, line := range strings.Split(strings.TrimSpace(readmeBlock(t, "## Your own catalogue, step by step", "sh")), "\n") {
		line, _, _ = strings.Cut(line, "#")
		args := strings.Fields(line)
		if len(args) == 0 {
			continue
		}
		switch {
		case args[0] == "$EDITOR":
			steps = append(steps, "edit")
			editStarter(t, filepath.Join(work, args[1]))
		case args[0] != "kpiwatch":
			t.Fatalf("the walkthrough runs %q, not kpiwatch", line)
		case args[1] == "serve":
			steps = append(steps, "serve")
			serveWalkthrough(t, bin, work, args[2:])
		default:
			steps = append(steps, args[1])
			cmd := exec.Command(bin, args[1:]...)
			cmd.Dir = work
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", line, err, out)
			}
			t.Logf("%s\n%s", line, out)
			checkStep(t, args[1], string(out))
		}
	}
	if got := strings.Join(steps, ", "); got != "init, edit, validate, generate, check, serve" {
		t.Errorf("the walkthrough's steps are %s", got)
	}
}

// editStarter makes the starter its operator's: a target of their own for
// Hà Nội, and their own month of data.
func editStarter(t *testing.T, cfg string) {
	t.Helper()
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), `      - {by: 2026-12-31, value: 1, decision: "Starter target"}
  - id: vneid_level2_accounts`, `      - {by: 2026-12-31, value: 1, decision: "Starter target"}
      - {by: 2026-12-31, value: 0.95, unit: {province: Hà Nội}, decision: "Ha Noi's own plan"}
  - id: vneid_level2_accounts`, 1)
	if edited == string(data) {
		t.Fatal("test broken: the starter's ratio KPI target is not where the edit expects it")
	}
	write(t, filepath.Dir(cfg), filepath.Base(cfg), edited)
	reports := filepath.Join(filepath.Dir(cfg), "data", "bao-cao-tinh.csv")
	f, err := os.OpenFile(reports, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("TP. Hà Nội;11/2026;190.206;205.440\n"); err != nil {
		t.Fatal(err)
	}
}

func checkStep(t *testing.T, step, out string) {
	t.Helper()
	want := map[string][]string{
		"init":     {"wrote ops/kpis.yaml"},
		"validate": {"source provinces_monthly (csv): ok", "rows: 14 read, 13 accepted, 1 skipped, 0 rejected", `social_benefit_paid_by_bank{province="Ha Noi"}: 4 report(s), latest 2026-11-01 = 0.9258 (190206/205440)`},
		"generate": {"under ops/generated/alerts", "under ops/generated/dashboards"},
		"check":    {"ops/generated/alerts: rules, rule tests and Alertmanager configuration pass"},
	}[step]
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q", step, w)
		}
	}
}

// serveWalkthrough starts `kpiwatch serve` as the README does, on a free
// loopback port, scrapes it once every source is read, and stops it by PID.
func serveWalkthrough(t *testing.T, bin, work string, args []string) {
	t.Helper()
	base := serveBinary(t, bin, work, args...)
	want := []string{
		`kpi_rollup_numerator{kpi="social_benefit_paid_by_bank",level="province",province="Ho Chi Minh"} 1.14492e+06`,
		`kpi_rollup_numerator{kpi="social_benefit_paid_by_bank",level="province",province="Ha Noi"} 190206`,
		`kpi_target{kpi="social_benefit_paid_by_bank",province="Ha Noi"} 0.95`,
		`kpi_value{kpi="vneid_level2_accounts"} 7.0118442e+07`,
		`kpi_value{kpi="population_database_connected"} 1`,
		`kpi_collector_success{collector="csv",source="national_monthly"} 1`,
		`kpi_collector_success{collector="csv",source="provinces_monthly"} 1`,
	}
	// Ready says every source was read; the page follows a moment later.
	var missing []string
	deadline := time.Now().Add(time.Minute)
	for {
		var body []byte
		for _, path := range []string{"/metrics", conventions.UnitsPath} {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = append(body, b...)
		}
		missing = missing[:0]
		for _, w := range want {
			if !strings.Contains(string(body), w) {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, w := range missing {
		t.Errorf("/metrics lacks %s", w)
	}
}

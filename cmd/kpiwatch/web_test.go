package main

import (
	"context"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/internal/htmlcheck"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
	"github.com/kpiwatch/kpiwatch/web"
)

// browser runs Debian's headless Chromium; a test without it fails and
// names the package.
type browser struct {
	t   *testing.T
	bin string
	out string // where screenshots and the PDF are kept
}

// asRoot is true where Chromium refuses its sandbox: a test run as root
// (CI's container) runs it with --no-sandbox; any other runs it sandboxed,
// as production does.
func asRoot() bool { return os.Geteuid() == 0 }

// noSandboxFlag is what kpiwatch report needs to print a PDF here.
func noSandboxFlag() []string {
	if asRoot() {
		return []string{"--web.chromium-no-sandbox"}
	}
	return nil
}

func newBrowser(t *testing.T) *browser {
	bin, err := web.Chromium()
	if err != nil {
		t.Fatalf("%v", err)
	}
	out := os.Getenv("KPIWATCH_ARTEFACTS")
	if out == "" {
		out = t.TempDir()
	} else if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, bin: bin, out: out}
}

func (b *browser) run(args ...string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.bin, web.ChromiumArgs(b.t.TempDir(), asRoot(), args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		b.t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

// page loads url in Chromium, keeps a screenshot of it as name.png, and
// returns the DOM as the browser built it.
func (b *browser) page(url, name string) string {
	b.t.Helper()
	shot := filepath.Join(b.out, name+".png")
	b.run("--window-size=1400,2000", "--screenshot="+shot, url)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
		b.t.Errorf("no screenshot of %s: %v", url, err)
	}
	return b.run("--dump-dom", url)
}

// exposition indexes /metrics and the units endpoint, as Prometheus
// stores them: each family's samples with their labels.
type exposition map[string]*dto.MetricFamily

func scrapeMetrics(t *testing.T, base string) exposition {
	out := exposition{}
	for _, path := range []string{"/metrics", conventions.UnitsPath} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := parser.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for name, mf := range mfs {
			if out[name] != nil {
				t.Fatalf("%s is served on both endpoints", name)
			}
			out[name] = mf
		}
	}
	return out
}

// find returns the samples of a family whose labels include want.
func (e exposition) find(name string, want map[string]string) []*dto.Metric {
	var out []*dto.Metric
	mf := e[name]
	if mf == nil {
		return nil
	}
	for _, m := range mf.Metric {
		ok := true
		for k, v := range want {
			if label(m, k) != v {
				ok = false
			}
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// only is the value of the one sample whose labels are exactly want.
func (e exposition) only(name string, want map[string]string) (float64, bool) {
	for _, m := range e.find(name, want) {
		if len(m.Label) == len(want) {
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// statuses are the statuses the briefing's summary counts KPIs by.
var statuses = []string{conventions.StatusMissed, conventions.StatusAtRisk, conventions.StatusOnTrack, conventions.StatusAchieved, conventions.StatusStale, conventions.StatusNoData}

func near(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

func parseNum(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// TestPagesInChromium loads the scorecard, a KPI page, a province page and
// the briefing of the embedded default in headless Chromium from the running
// server, and checks each page's statuses and figures against /metrics;
// the briefing for the sample's last period is printed to PDF and its pages
// counted. Screenshots are kept in $KPIWATCH_ARTEFACTS (a temporary folder
// without it).
func TestPagesInChromium(t *testing.T) {
	b := newBrowser(t)
	base := "http://" + serve(t)
	m := settled(t, base)

	// The scorecard: every KPI, its worst status, national figure, plan
	// and target as /metrics has them.
	doc, err := htmlcheck.Parse(b.page(base+"/", "scorecard"))
	if err != nil {
		t.Fatal(err)
	}
	if p := htmlcheck.Accessibility(doc, "vi"); len(p) > 0 {
		t.Errorf("scorecard: %v", p)
	}
	for _, href := range htmlcheck.Links(doc) {
		if strings.HasPrefix(href, "/") {
			if code, _ := get(t, http.DefaultClient, base+href); code != http.StatusOK {
				t.Errorf("the scorecard links to %s: %d", href, code)
			}
		}
	}
	kpis := htmlcheck.Rows(doc, "kpis")
	if len(kpis) != len(m[conventions.KPIInfo].GetMetric()) || len(kpis) == 0 {
		t.Fatalf("the scorecard shows %d KPIs, /metrics has %d", len(kpis), len(m[conventions.KPIInfo].GetMetric()))
	}
	for _, r := range kpis {
		checkWhole(t, m, "the scorecard", r, "vi")
	}

	// A KPI page of each kind: its whole as /metrics serves it.
	kinds := map[string]bool{}
	for _, info := range m[conventions.KPIInfo].GetMetric() {
		id, kind := label(info, conventions.LabelKPI), label(info, conventions.LabelKind)
		if kinds[kind] {
			continue
		}
		kinds[kind] = true
		_, body := get(t, http.DefaultClient, base+"/kpi/"+id)
		doc, err := htmlcheck.Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		rows := htmlcheck.Rows(doc, "kpi")
		if len(rows) != 1 {
			t.Fatalf("the page of %s has %d summary rows", id, len(rows))
		}
		checkWhole(t, m, "the page of a "+kind, rows[0], "vi")
	}
	if len(kinds) != 4 {
		t.Errorf("the embedded catalogue has KPIs of %d kinds, want all 4", len(kinds))
	}

	// A KPI page, in English: every province with its status, reason,
	// value and forecast.
	const kpiID = "social_benefit_paid_by_bank"
	doc, err = htmlcheck.Parse(b.page(base+"/kpi/"+kpiID+"?lang=en", "kpi"))
	if err != nil {
		t.Fatal(err)
	}
	if p := htmlcheck.Accessibility(doc, "en"); len(p) > 0 {
		t.Errorf("KPI page: %v", p)
	}
	for _, r := range htmlcheck.Rows(doc, "kpi") {
		checkWhole(t, m, "the KPI page", r, "en")
	}
	units := htmlcheck.Rows(doc, "units")
	if len(units) != 34 {
		t.Errorf("the KPI page ranks %d provinces, want 34", len(units))
	}
	for _, r := range units {
		checkSeries(t, m, map[string]string{conventions.LabelKPI: kpiID, conventions.LabelProvince: r.Data["province"]}, r, "en")
	}

	// A province page: every KPI in Ha Noi.
	doc, err = htmlcheck.Parse(b.page(base+"/province/01", "province"))
	if err != nil {
		t.Fatal(err)
	}
	rows := htmlcheck.Rows(doc, "kpis")
	if len(rows) == 0 {
		t.Error("the province page shows no KPI")
	}
	for _, r := range rows {
		checkSeries(t, m, map[string]string{conventions.LabelKPI: r.Data["kpi"], conventions.LabelProvince: "Ha Noi"}, r, "vi")
	}

	// The briefing on the sample's last month, on screen and in print.
	period := lastMonthlyPeriod(t, m)
	doc, err = htmlcheck.Parse(b.page(base+"/report?period="+period, "briefing"))
	if err != nil {
		t.Fatal(err)
	}
	if len(htmlcheck.Rows(doc, "summary")) != len(statuses) {
		t.Error("the briefing has no summary by status")
	}
	// The briefing on the month under way is judged now, as /metrics is:
	// its KPIs missed and at risk are the wholes /metrics has so.
	doc, err = htmlcheck.Parse(b.page(base+"/report?period="+time.Now().UTC().Format("2006-01"), "briefing-now"))
	if err != nil {
		t.Fatal(err)
	}
	lagging := htmlcheck.Rows(doc, "lagging")
	for _, r := range lagging {
		checkWhole(t, m, "the briefing", r, "vi")
	}
	if want := len(m.find(conventions.RollupStatus, map[string]string{conventions.LabelLevel: conventions.LevelWhole, conventions.LabelStatus: conventions.StatusMissed})) +
		len(m.find(conventions.RollupStatus, map[string]string{conventions.LabelLevel: conventions.LevelWhole, conventions.LabelStatus: conventions.StatusAtRisk})); len(lagging) != want || want == 0 {
		t.Errorf("the briefing lists %d KPIs missed or at risk, /metrics %d", len(lagging), want)
	}
	pdf := filepath.Join(b.out, "briefing-"+period+".pdf")
	var stderr strings.Builder
	if code := run(context.Background(), append([]string{"report", "--period", period, "--out", pdf}, noSandboxFlag()...), io.Discard, &stderr); code != 0 {
		t.Fatalf("kpiwatch report: exit %d\n%s", code, stderr.String())
	}
	data, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(data, -1))
	if pages < 2 || pages > 30 {
		t.Errorf("the briefing prints on %d pages, want a few", pages)
	}
	if !regexp.MustCompile(`/MediaBox\s*\[\s*0 0 59[45]\.\d+ 84[12]\.\d+\s*\]`).Match(data) {
		t.Error("the briefing is not printed on A4")
	}
	if after := scrapeMetrics(t, base); !sameStatuses(m, after) {
		t.Error("the judgement changed while the pages were checked")
	}
	t.Logf("briefing %s: %d A4 pages; screenshots and PDF in %s", period, pages, b.out)
}

// settled waits until the server is ready, that is serving the exposition
// rendered from every source's first refresh (the sample data's sources
// refresh hourly, so it stays as it is through the test), and returns it.
func settled(t *testing.T, base string) exposition {
	realserver.WaitFor(t, time.Minute, "ready", func() bool { code, _ := get(t, http.DefaultClient, base+"/-/ready"); return code == 200 })
	return scrapeMetrics(t, base)
}

func sameStatuses(a, b exposition) bool {
	return a[conventions.KPIStatus].String() == b[conventions.KPIStatus].String() && a[conventions.KPIValue].String() == b[conventions.KPIValue].String() &&
		a[conventions.RollupStatus].String() == b[conventions.RollupStatus].String()
}

// checkWhole checks a page's row for a KPI as a whole against the served
// roll-up of its whole: status and reason, figure, plan and target, each
// absent from the page where /metrics serves none.
func checkWhole(t *testing.T, m exposition, where string, r htmlcheck.Row, lang string) {
	t.Helper()
	id := r.Data["kpi"]
	whole := map[string]string{conventions.LabelKPI: id, conventions.LabelLevel: conventions.LevelWhole}
	st := m.find(conventions.RollupStatus, whole)
	if len(st) != 1 {
		t.Errorf("%s: %d whole statuses in /metrics", id, len(st))
		return
	}
	status := label(st[0], conventions.LabelStatus)
	if r.Data["status"] != status {
		t.Errorf("%s: status %q on %s, %q in /metrics", id, r.Data["status"], where, status)
	} else if word := web.StatusWord(lang, status); !strings.Contains(r.Text, word) {
		t.Errorf("%s: the row on %s does not say %q: %s", id, where, word, r.Text)
	}
	if reason := label(st[0], conventions.LabelReason); reason != "" && !strings.Contains(r.Text, web.ReasonWord(lang, reason)) {
		t.Errorf("%s: the row on %s does not give the reason %q: %s", id, where, reason, r.Text)
	}
	for _, f := range []struct{ family, attr string }{{conventions.RollupValue, "value"}, {conventions.RollupPlan, "plan"}, {conventions.RollupTarget, "target"}} {
		v, ok := m.only(f.family, whole)
		if shown := parseNum(r.Data[f.attr]); ok != !math.IsNaN(shown) || (ok && !near(v, shown)) {
			t.Errorf("%s: %s %q on %s, %v (served %v) in /metrics", id, f.attr, r.Data[f.attr], where, v, ok)
		}
	}
}

// checkSeries checks a page's row for one series against /metrics.
func checkSeries(t *testing.T, m exposition, series map[string]string, r htmlcheck.Row, lang string) {
	t.Helper()
	st := m.find(conventions.KPIStatus, series)
	if len(st) != 1 {
		t.Errorf("%v: %d statuses in /metrics", series, len(st))
		return
	}
	status, reason := label(st[0], conventions.LabelStatus), label(st[0], conventions.LabelReason)
	if r.Data["status"] != status || r.Data["reason"] != reason {
		t.Errorf("%v: %s (%s) on the page, %s (%s) in /metrics", series, r.Data["status"], r.Data["reason"], status, reason)
	}
	if !strings.Contains(r.Text, web.StatusWord(lang, status)) {
		t.Errorf("%v: the row does not say %q", series, web.StatusWord(lang, status))
	}
	v, ok := m.only(conventions.KPIValue, series)
	if ok != (r.Data["value"] != "") || (ok && !near(v, parseNum(r.Data["value"]))) {
		t.Errorf("%v: value %q on the page, %v in /metrics", series, r.Data["value"], v)
	}
	if f, ok := m.only(conventions.KPIForecast, series); ok != (r.Data["forecast"] != "") || (ok && !near(f, parseNum(r.Data["forecast"]))) {
		t.Errorf("%v: forecast %q on the page, %v in /metrics", series, r.Data["forecast"], f)
	}
}

// lastMonthlyPeriod is the latest month any monthly KPI reported, YYYY-MM.
func lastMonthlyPeriod(t *testing.T, m exposition) string {
	var last float64
	for _, info := range m.find(conventions.KPIInfo, map[string]string{conventions.LabelCadence: "monthly"}) {
		for _, p := range m.find(conventions.KPIReportPeriod, map[string]string{conventions.LabelKPI: label(info, conventions.LabelKPI)}) {
			last = max(last, p.GetGauge().GetValue())
		}
	}
	if last == 0 {
		t.Fatal("no monthly report in /metrics")
	}
	return time.Unix(int64(last), 0).UTC().Format("2006-01")
}

// TestReportCommand writes the briefing as HTML: to standard output, to an
// .html file, and, with no Chromium on the PATH, beside a requested .pdf.
func TestReportCommand(t *testing.T) {
	var out, stderr strings.Builder
	if code := run(context.Background(), []string{"report", "--period", "2026-10", "--lang", "en"}, &out, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(out.String(), `<html lang="en">`) || !strings.Contains(out.String(), "Monthly briefing, 2026-10") {
		t.Errorf("the briefing on standard output:\n%.300s", out.String())
	}
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	pdf := filepath.Join(dir, "briefing.pdf")
	stderr.Reset()
	if code := run(context.Background(), []string{"report", "--period", "2026-10", "--out", pdf}, io.Discard, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "apt-get install -y chromium") {
		t.Errorf("without Chromium the command does not say what to install:\n%s", stderr.String())
	}
	if b, err := os.ReadFile(filepath.Join(dir, "briefing.html")); err != nil || !strings.Contains(string(b), "Báo cáo tháng 10/2026") {
		t.Errorf("without Chromium the briefing is not written as HTML: %v", err)
	}
	if code := run(context.Background(), []string{"report", "--period", "10/2026"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("a bad period: exit %d, want 2", code)
	}
	stderr.Reset()
	out.Reset()
	if code := run(context.Background(), []string{"report", "--period", "9999-12"}, &out, &stderr); code != 2 || out.Len() > 0 ||
		!strings.Contains(stderr.String(), `kpiwatch report: --period: the month "9999-12" has not begun`) {
		t.Errorf("a month not begun: exit %d, %d bytes written, stderr:\n%s", code, out.Len(), stderr.String())
	}
}

// TestReportChromiumSandbox: kpiwatch report runs Chromium in its sandbox
// unless --web.chromium-no-sandbox says otherwise (a stand-in chromium on
// the PATH records how it was run), writes the PDF it printed whole, and,
// run as root without the flag, fails saying which flag to pass (the real
// Chromium refuses its sandbox to root).
func TestReportChromiumSandbox(t *testing.T) {
	real, realErr := web.Chromium()
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	script := "#!/bin/sh\necho \"$@\" > " + args + "\nfor a; do case $a in --print-to-pdf=*) printf '%%PDF-1.4 stand-in' > \"${a#--print-to-pdf=}\";; esac; done\n"
	if err := os.WriteFile(filepath.Join(dir, "chromium"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	pdf := filepath.Join(dir, "briefing.pdf")
	for _, flags := range [][]string{nil, {"--web.chromium-no-sandbox"}} {
		var stderr strings.Builder
		if code := run(context.Background(), append([]string{"report", "--period", "2026-10", "--out", pdf}, flags...), io.Discard, &stderr); code != 0 {
			t.Fatalf("%v: exit %d\n%s", flags, code, stderr.String())
		}
		got, _ := os.ReadFile(args)
		if sandboxed := !strings.Contains(string(got), "--no-sandbox"); sandboxed != (flags == nil) {
			t.Errorf("%v: chromium ran with %s", flags, got)
		}
		if b, err := os.ReadFile(pdf); err != nil || string(b) != "%PDF-1.4 stand-in" {
			t.Errorf("%v: the PDF is %q, %v", flags, b, err)
		}
	}
	if !asRoot() {
		return
	}
	if realErr != nil {
		t.Fatal(realErr)
	}
	t.Setenv("PATH", filepath.Dir(real))
	out := filepath.Join(t.TempDir(), "briefing.pdf")
	var stderr strings.Builder
	if code := run(context.Background(), []string{"report", "--period", "2026-10", "--out", out}, io.Discard, &stderr); code == 0 {
		t.Fatal("as root without --web.chromium-no-sandbox, the report was printed: Chromium ran without its sandbox")
	}
	if !strings.Contains(stderr.String(), "--web.chromium-no-sandbox") {
		t.Errorf("the failure does not name the flag:\n%s", stderr.String())
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed print left a PDF")
	}
}

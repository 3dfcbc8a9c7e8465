package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	for _, c := range []struct {
		expr string
		want time.Duration
	}{
		{`kpi_status{status="at_risk"} == 1`, 0},
		{`max by (kpi) (kpi_value) / on (kpi) group_left kpi_target`, 0},
		{`deriv(kpi_value[90d])`, 90 * 24 * time.Hour},
		{`changes(kpi_value[1h]) > 0 and deriv(kpi_value[2d]) < 0`, 48 * time.Hour},
		{`max_over_time(kpi_value[5m])`, 5 * time.Minute},
		{`max_over_time(rate(x[5m])[1h:1m])`, time.Hour + 5*time.Minute},
		{`min_over_time((kpi_value > 0)[1d:])`, 24 * time.Hour},
		{`kpi_value offset 1w`, 0},
	} {
		got, err := Window(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got != c.want {
			t.Errorf("Window(%s) = %s, want %s", c.expr, got, c.want)
		}
	}
	if _, err := Window(`sum(`); err == nil {
		t.Error("a broken expression gave no error")
	}
}

func TestReadRules(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.rules.yml")
	if err := os.WriteFile(good, []byte(`groups:
  - name: a
    rules:
      - record: kpi:x
        expr: sum by (kpi) (kpi_value)
      - alert: Slow
        expr: deriv(kpi_value[90d]) < 0
  - name: b
    rules:
      - record: kpi:y
        expr: max_over_time(kpi_value[1h])
`), 0o644); err != nil {
		t.Fatal(err)
	}
	rules, err := ReadRules(good)
	if err != nil {
		t.Fatal(err)
	}
	widest, groups := Widest(rules)
	if len(rules) != 3 || groups != 2 || widest.Name != "Slow" || widest.Group != "a" {
		t.Fatalf("rules %d, groups %d, widest %+v", len(rules), groups, widest)
	}
	if got := widest.SamplesPerSeries(time.Minute); got != 129601 {
		t.Errorf("90d at a 1m scrape: %d samples, want 129601", got)
	}
	if got := rules[0].SamplesPerSeries(time.Minute); got != 1 {
		t.Errorf("an instant selector reads %d samples, want 1", got)
	}
	bad := filepath.Join(dir, "bad.rules.yml")
	if err := os.WriteFile(bad, []byte("groups: [{name: a, rules: [{record: r, expr: x}, {alert: A, expr: 'rate(x[5m]'}]}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRules(bad); err == nil || !strings.Contains(err.Error(), "bad.rules.yml: groups[0].rules[1].expr") {
		t.Errorf("a broken rule: error %v, want one naming the file and the rule", err)
	}
}

func TestProject(t *testing.T) {
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(b)) }
	// 50 MiB fixed plus 1 KiB a series.
	xs, ys := []float64{1e4, 1e5}, []float64{50<<20 + 1e4*1024, 50<<20 + 1e5*1024}
	if got, want := Project(xs, ys, 1e6), float64(50<<20+1e6*1024); !near(got, want) {
		t.Errorf("along the line: %g, want %g", got, want)
	}
	// A falling line (noise) projects in proportion to the largest size.
	if got := Project([]float64{1e4, 1e5}, []float64{3, 2}, 1e6); !near(got, 20) {
		t.Errorf("falling: %g, want 20", got)
	}
	// A line that would start below zero (a cost growing faster than the
	// series) is projected in proportion too, never below it.
	if got := Project([]float64{1e4, 1e5}, []float64{1, 100}, 1e6); !near(got, 1000) {
		t.Errorf("steep: %g, want 1000", got)
	}
	if got := Project([]float64{1e3}, []float64{5}, 1e6); !near(got, 5000) {
		t.Errorf("one size: %g, want 5000", got)
	}
	if !math.IsNaN(Project(nil, nil, 1e6)) {
		t.Error("no sizes projected to a number")
	}
}

func TestWriteTable(t *testing.T) {
	results := []Result{
		{Prom: true, Observed: 10000, PromHeadSeries: 40000, PromRSS: 100 << 20, PromRuleSeconds: 3, Rules: 12, Groups: 3, MaxSamples: 1, Exposition: 4 << 20, ReloadPeak: 8 << 20},
		{Prom: true, Observed: 100000, PromHeadSeries: 400000, PromRSS: 1000 << 20, PromRuleSeconds: 30, Rules: 12, Groups: 3, MaxSamples: 1, Exposition: 40 << 20, ReloadPeak: 80 << 20},
	}
	var b bytes.Buffer
	Write(&b, results, time.Minute, 1e6)
	out := b.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "| ") || !strings.Contains(lines[0], "10,000 series") || !strings.Contains(lines[0], "1,000,000 projected") {
		t.Fatalf("header: %q", lines[0])
	}
	cells := func(label string) []string {
		for _, l := range lines {
			f := strings.Split(l, "|")
			if len(f) > 2 && strings.TrimSpace(f[1]) == label {
				var out []string
				for _, c := range f[2 : len(f)-1] {
					out = append(out, strings.TrimSpace(c))
				}
				return out
			}
		}
		t.Fatalf("no row %q in\n%s", label, out)
		return nil
	}
	if got := cells("Prometheus head series"); strings.Join(got, ";") != "40,000;400,000;4,000,000" {
		t.Errorf("head series row: %q", got)
	}
	if got := cells("Prometheus rule evaluation: Σ group wall time / interval"); strings.Join(got, ";") != "5.0% of a core;50.0% of a core;500.0% of a core" {
		t.Errorf("rule evaluation row: %q", got)
	}
	if got := cells("Prometheus RSS"); got[2] != "9.77 GiB" {
		t.Errorf("projected RSS %q, want 9.77 GiB", got[2])
	}
	if got := cells("rules / groups"); strings.Join(got, ";") != "12 / 3;12 / 3;" {
		t.Errorf("rules row: %q", got)
	}
	if got := cells("… / plain exposition"); strings.Join(got, ";") != "2.00;2.00;2.00" {
		t.Errorf("reload peak over exposition: %q", got)
	}
	if strings.Contains(out, "VictoriaMetrics") {
		t.Errorf("rows of a stack not run:\n%s", out)
	}
	// Every row has a cell per size and the projection.
	for _, l := range lines {
		if n := strings.Count(l, "|"); n != 5 {
			t.Errorf("%d bars in %q", n, l)
		}
	}
}

func TestMachine(t *testing.T) {
	for _, c := range []struct {
		cores, rss float64
		want       string
	}{
		{0.1, 100 << 20, "1 cores, 1 GiB"},
		{1.2, 5 << 30, "3 cores, 16 GiB"},
		{7.5, 32 << 30, "15 cores, 64 GiB"},
	} {
		if got := Machine(c.cores, c.rss); got != c.want {
			t.Errorf("Machine(%g, %g) = %q, want %q", c.cores, c.rss, got, c.want)
		}
	}
}

func TestCount(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 129601: "129,601", 1e6: "1,000,000", -12345: "-12,345", math.NaN(): "—"} {
		if got := count(v); got != want {
			t.Errorf("count(%g) = %q, want %q", v, got, want)
		}
	}
}

func TestStatCPU(t *testing.T) {
	// Fields 14 and 15 (utime, stime) after a command name with a space
	// and a parenthesis.
	stat := "4242 (vm (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 12 0 100 0 0"
	if got := statCPU(stat); got != 3.8 {
		t.Errorf("statCPU = %g, want 3.8", got)
	}
}

func TestExpositionSums(t *testing.T) {
	vmalert := `vmalert_iteration_duration_seconds{group="a",quantile="0.5"} 0.5
vmalert_iteration_duration_seconds_sum{group="a"} 3
vmalert_iteration_duration_seconds_count{group="a"} 4
vmalert_iteration_duration_seconds_sum{group="b"} 1
vmalert_iteration_duration_seconds_count{group="b"} 10
vmalert_iteration_duration_seconds_sum{group="c"} 0
vmalert_iteration_duration_seconds_count{group="c"} 0
`
	got, longest, err := meanIterations(strings.NewReader(vmalert))
	if err != nil || math.Abs(got-0.85) > 1e-9 || longest != 0.75 {
		t.Errorf("meanIterations = %g, %g, %v; want 0.85 (0.75 + 0.1) and 0.75", got, longest, err)
	}
	prom := `# HELP prometheus_rule_group_last_duration_seconds x
# TYPE prometheus_rule_group_last_duration_seconds gauge
prometheus_rule_group_last_duration_seconds{rule_group="a"} 1.5
prometheus_rule_group_last_duration_seconds{rule_group="b"} 0.25
# TYPE kpi_collector_series gauge
kpi_collector_series{source="communes"} 10000
`
	if got, err := sumFamily(strings.NewReader(prom), "prometheus_rule_group_last_duration_seconds"); err != nil || got != 1.75 {
		t.Errorf("sumFamily = %g, %v; want 1.75", got, err)
	}
	if got, err := maxFamily(strings.NewReader(prom), "prometheus_rule_group_last_duration_seconds"); err != nil || got != 1.5 {
		t.Errorf("maxFamily = %g, %v; want 1.5", got, err)
	}
	// Of a large exposition only the family's own lines are kept: not a
	// family whose name it begins, nor a label value that holds it.
	lines, err := familyLines(strings.NewReader(prom+"kpi_collector_series_total 3\nx{a=\"kpi_collector_series\"} 1\n"), "kpi_collector_series")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(lines)
	if want := "# TYPE kpi_collector_series gauge\nkpi_collector_series{source=\"communes\"} 10000\n"; string(b) != want {
		t.Errorf("familyLines kept %q, want %q", b, want)
	}
	if _, err := sumFamily(strings.NewReader(prom), "prometheus_tsdb_head_series"); err == nil {
		t.Error("a missing family summed without error")
	}
}

// TestTinyStack runs the whole harness on a thousand series with a 15 s
// cycle: every server starts, every reading is taken, the missed target
// reaches the webhook through both evaluators, and every server is stopped
// and its directory removed.
func TestTinyStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts seven servers for about three minutes")
	}
	// Every directory the harness and its servers make goes under tmp,
	// which the machine's other users do not write to.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var out, log bytes.Buffer
	res, err := Run(context.Background(), Config{
		Sizes: []int{1000}, Interval: 15 * time.Second, UnitsInterval: 30 * time.Second, Warmup: 1, Cycles: 1,
		Stacks: []string{StackPrometheus, StackVictoriaMetrics}, Deliver: 4 * time.Minute, FirstScrape: time.Minute, MissedAlert: "KPITargetMissed",
		HistoryDays: 1, HistoryStep: time.Hour, HistoryMax: 1000, Target: 1e6,
	}, &out, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	r := res[0]
	if r.Observed != 1000 {
		t.Errorf("observed %g series, want 1000", r.Observed)
	}
	if r.PromHeadSeries < r.Observed || r.VMSeries < r.Observed {
		t.Errorf("Prometheus holds %g series, VictoriaMetrics %g: fewer than the %g observed", r.PromHeadSeries, r.VMSeries, r.Observed)
	}
	if r.Rules == 0 || r.MaxSamples < 1 || !(r.SamplesRead >= r.Observed) {
		t.Errorf("%d rules, at most %d samples a series, %g samples read in a cycle", r.Rules, r.MaxSamples, r.SamplesRead)
	}
	for name, v := range map[string]float64{"Prometheus": r.PromRSS, "Alertmanager": r.AMRSS, "VictoriaMetrics": r.VMRSS, "vmalert": r.VMAlertRSS, "kpiwatch": r.ExporterRSS, "vmalert's Alertmanager": r.VMAMRSS} {
		if v < 1<<20 {
			t.Errorf("%s resident memory %g bytes", name, v)
		}
	}
	if r.ReloadPeak < r.Exposition || r.PromRuleSeconds <= 0 || r.VMAlertSeconds <= 0 || r.PromLongestGroup <= 0 || r.VMAlertLongestGroup <= 0 {
		t.Errorf("reload peak %g for an exposition of %g; rule evaluation %g s (Prometheus), %g s (vmalert)", r.ReloadPeak, r.Exposition, r.PromRuleSeconds, r.VMAlertSeconds)
	}
	// Alertmanager waits 30 s (group_wait) before its first notification.
	for name, d := range map[string]float64{"Prometheus": r.PromDelivery, "vmalert": r.VMDelivery} {
		if !(d > 0 && d < (4*time.Minute).Seconds()) {
			t.Errorf("the missed target reached the webhook through %s after %g s", name, d)
		}
	}
	if r.PromQueries == 0 || r.VMQueries == 0 || r.PromQueryErrors+r.VMQueryErrors > 0 {
		t.Errorf("board queries: Prometheus %g (%g errors), VictoriaMetrics %g (%g errors)", r.PromQueries, r.PromQueryErrors, r.VMQueries, r.VMQueryErrors)
	}
	if r.PromScrape <= 0 || r.VMScrape <= 0 || r.PromAppended <= 0 || r.VMAppended <= 0 || r.PromStackRSS <= r.PromRSS || r.VMStackCPU <= 0 {
		t.Errorf("longest scrapes %g s and %g s, samples a minute %g and %g, stack RSS %g, stack CPU %g",
			r.PromScrape, r.VMScrape, r.PromAppended, r.VMAppended, r.PromStackRSS, r.VMStackCPU)
	}
	for _, want := range []string{"| 1,000 series", "backfilled 1 days at 1h", "machine at 1,000,000 observed series"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("left behind in %s: %v", tmp, left)
	}
}

func TestBoardQueries(t *testing.T) {
	dir := t.TempDir()
	board := `{"panels": [
	  {"targets": [{"expr": "sum by (kpi) (kpi_value{kpi=\"$kpi\", province=~\"${province}\", block=~\"$block\"})"}]},
	  {"panels": [{"targets": [{"expr": "rate(x[$__rate_interval])", "instant": true}, {"expr": "kpi_info{kpi=\"$kpi\"}"}]}]},
	  {"targets": [{"expr": "sum by (kpi) (kpi_value{kpi=\"$kpi\", province=~\"${province}\", block=~\"$block\"})"}]}
	]}`
	if err := os.WriteFile(filepath.Join(dir, "b.json"), []byte(board), 0o644); err != nil {
		t.Fatal(err)
	}
	qs, err := boardQueries(dir, map[string]string{"kpi": "k1", "province": "Ha Noi", "block": ".*", "__rate_interval": "5m"})
	if err != nil {
		t.Fatal(err)
	}
	want := []boardQuery{
		{expr: `sum by (kpi) (kpi_value{kpi="k1", province=~"Ha Noi", block=~".*"})`},
		{expr: "rate(x[5m])", instant: true},
		{expr: `kpi_info{kpi="k1"}`},
	}
	if len(qs) != len(want) {
		t.Fatalf("queries %+v, want %+v", qs, want)
	}
	for i := range want {
		if qs[i] != want[i] {
			t.Errorf("query %d: %+v, want %+v", i, qs[i], want[i])
		}
	}
	if _, err := boardQueries(t.TempDir(), nil); err == nil {
		t.Error("no boards, no error")
	}
}

func TestScrapeConfigs(t *testing.T) {
	cfg := Config{Interval: time.Minute, UnitsInterval: 10 * time.Minute}
	got := scrapeConfigs(scrapeJobs(cfg, true), "127.0.0.1:9", true)
	want := `scrape_configs:
  - {job_name: "kpiwatch", metrics_path: "/metrics", scrape_interval: 1m, scrape_timeout: 1m, static_configs: [{targets: ["127.0.0.1:9"]}], stream_parse: true}
  - {job_name: "kpiwatch_units", metrics_path: "/metrics/units", scrape_interval: 10m, scrape_timeout: 5m, static_configs: [{targets: ["127.0.0.1:9"]}], stream_parse: true}
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := scrapeConfigs(scrapeJobs(cfg, false), "h:1", false); strings.Contains(got, "units") || strings.Contains(got, "stream_parse") {
		t.Errorf("without a unit endpoint nor stream parsing:\n%s", got)
	}
}

// TestVMFlagsAreDeployed keeps the flags the bench runs VictoriaMetrics
// with and those deploy/ gives it the same.
func TestVMFlagsAreDeployed(t *testing.T) {
	for _, f := range []string{"../../deploy/systemd/victoria-metrics.default", "../../deploy/docker-compose.yml", "../../deploy/victoriametrics-cluster/docker-compose.yml", "../../deploy/README.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, flag := range VMFlags {
			name, _, _ := strings.Cut(flag, "=")
			if strings.Contains(f, "cluster") {
				// vmselect and vminsert take the flags that concern them.
				if !strings.Contains(string(b), name) {
					t.Errorf("%s does not set %s", f, name)
				}
				continue
			}
			if !strings.Contains(string(b), flag) {
				t.Errorf("%s does not set %s", f, flag)
			}
		}
	}
	for _, f := range []string{"../../deploy/victoriametrics-cluster/docker-compose.yml", "../../deploy/README.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, flag := range VMAlertFlags {
			if !strings.Contains(string(b), flag) {
				t.Errorf("%s does not give vmalert %s", f, flag)
			}
		}
	}
}

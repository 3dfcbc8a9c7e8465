package exporter

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
	"github.com/kpiwatch/kpiwatch/model"
)

const testCatalogue = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: test}
owners:
  - {id: mps, name: Ministry of Public Security, name_vi: Bộ Công an, block: government}
sources:
  - id: provinces
    collector: csv
    interval: 1h
    config:
      path: provinces.csv
      mapping:
        kpi_column: kpi
        date: period
        value: value
        numerator: num
        denominator: den
        dimensions: {province: province}
  - id: national
    collector: scripted
    interval: 1h
    config: {}
kpis:
  - id: paid_by_bank
    name: Paid by bank
    name_vi: Chi trả qua ngân hàng
    unit: ratio
    kind: ratio
    direction: higher_is_better
    owner: mps
    dimensions: [province]
    cadence: {period: monthly, due_day: 15, grace: 5d}
    source: provinces
    baseline: {date: 2025-01-01, value: 0}
    targets:
      - {by: 2026-12-31, value: 1, decision: "Decision 1"}
      - {by: 2026-12-31, value: 0.8, unit: {province: Hue}}
    unit_baselines:
      - {unit: {province: Huế}, date: 2025-01-01, value: 0.5}
  - id: accounts
    name: Accounts
    unit: accounts
    kind: count
    direction: higher_is_better
    owner: mps
    cadence: {period: monthly, due_day: 15, grace: 5d}
    source: national
    baseline: {date: 2022-01-01, value: 0}
    targets: [{by: 2024-12-31, value: 40000000}]
`

// provincesCSV has Bac Giang and the former Bac Ninh reporting separately
// before the merger, and the merged Bac Ninh after it.
const provincesCSV = `province,kpi,period,value,num,den
Bắc Giang,paid_by_bank,2025-06,,90,100
Bắc Ninh,paid_by_bank,2025-06,,10,100
Tỉnh Bắc Ninh,paid_by_bank,2025-10,,500,2000
Huế,paid_by_bank,2025-10,,70,100
TP. Hồ Chí Minh,paid_by_bank,2025-10,,100,100
`

// scripted is a collector whose next result the test decides.
type scripted struct {
	mu     sync.Mutex
	obs    []collectors.Observation
	tasks  []collectors.Task
	err    error
	block  chan struct{} // when set, Collect hangs until it is closed, ignoring ctx
	closed int
	// started, when set, counts the calls of Collect.
	started *atomic.Int32
}

// Close counts the times a reload released the collector.
func (s *scripted) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed++
	return nil
}

var script = &scripted{}

func init() {
	collectors.Register("scripted", func(*yaml.Node, collectors.Env) (collectors.Collector, []catalogue.FieldError) {
		return script, nil
	})
}

func (s *scripted) set(obs []collectors.Observation, err error, block chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.obs, s.err, s.block = obs, err, block
}

func (s *scripted) Collect(ctx context.Context, m *collectors.Mapper) (*collectors.Batch, error) {
	s.mu.Lock()
	obs, tasks, err, block := s.obs, s.tasks, s.err, s.block
	if s.started != nil {
		s.started.Add(1)
	}
	s.mu.Unlock()
	if block != nil {
		<-block
	}
	return &collectors.Batch{Observations: obs, Tasks: tasks}, err
}

var now = time.Date(2025, 11, 22, 0, 0, 0, 0, time.UTC)

func newTestExporter(t *testing.T, files map[string]string) *Exporter {
	t.Helper()
	fsys := fstest.MapFS{}
	for n, d := range files {
		fsys[n] = &fstest.MapFile{Data: []byte(d)}
	}
	cat, err := catalogue.Parse("kpis.yaml", []byte(testCatalogue), fsys, collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cat, fsys, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// hangAndTimeOut makes the scripted source's next refreshes hang until
// release is closed, and cuts its timeout to a moment: they time out because
// the collector hangs, whatever the load. Other tests keep the default
// timeout, which only a hang reaches.
func hangAndTimeOut(e *Exporter, release chan struct{}) {
	script.set(accounts(7), nil, release)
	for _, s := range e.rt.sources {
		if s.cfg.ID == "national" {
			s.cfg.Timeout = catalogue.Duration(10 * time.Millisecond)
		}
	}
}

func accounts(v float64) []collectors.Observation {
	return []collectors.Observation{{KPI: 1, Labels: []string{}, Period: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC), Value: v}}
}

// scrape reads /metrics with the self-metrics.
func scrape(t *testing.T, e *Exporter, header http.Header) (string, http.Header) {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.Collector())
	return get(t, e.Handler(reg), "/metrics", header)
}

// scrapeUnits reads the units endpoint.
func scrapeUnits(t *testing.T, e *Exporter) string {
	t.Helper()
	text, _ := get(t, e.Handler(prometheus.NewRegistry()), conventions.UnitsPath, nil)
	return text
}

func get(t *testing.T, h http.Handler, path string, header http.Header) (string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	h.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	if rec.Header().Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return string(body), rec.Header()
}

// samples parses a text exposition into "name{labels}" -> value.
func samples(t *testing.T, text string) map[string]float64 {
	t.Helper()
	p := expfmt.NewTextParser(pmodel.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, text)
	}
	out := map[string]float64{}
	for name, mf := range mfs {
		for _, m := range mf.Metric {
			ls := pmodel.LabelSet{}
			for _, l := range m.Label {
				ls[pmodel.LabelName(l.GetName())] = pmodel.LabelValue(l.GetValue())
			}
			key := name
			if len(ls) > 0 {
				key += ls.String()
			}
			out[key] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return out
}

func TestExposition(t *testing.T) {
	script.set(accounts(55250000), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.RefreshAll(context.Background())
	text, hdr := scrape(t, e, nil)
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q", ct)
	}
	units := scrapeUnits(t, e)
	for _, f := range []string{conventions.KPIValue, conventions.KPIStatus, conventions.KPIReportPeriod} {
		if strings.Contains(text, "\n"+f+"{") || !strings.Contains(units, "\n"+f+"{") {
			t.Errorf("%s is served on /metrics, or not on %s", f, conventions.UnitsPath)
		}
	}
	// A unit's parts of a ratio are the roll-ups' only.
	for _, f := range []string{"kpi_numerator", "kpi_denominator"} {
		if strings.Contains(text+units, "\n"+f+"{") {
			t.Errorf("%s is served", f)
		}
	}
	if strings.Contains(units, "kpi_rollup_") || strings.Contains(units, conventions.KPIInfo) {
		t.Errorf("%s serves more than the observed series", conventions.UnitsPath)
	}
	got := samples(t, text+units)
	planNow := float64(now.Sub(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))) / float64(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC).Sub(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)))
	want := map[string]float64{
		// Bac Ninh's October report stands; its June figure was the roll-up
		// of Bac Giang and the former Bac Ninh (100 of 200).
		`kpi_value{kpi="paid_by_bank", province="Bac Ninh"}`:                                0.25,
		`kpi_rollup_numerator{kpi="paid_by_bank", level="province", province="Bac Ninh"}`:   500,
		`kpi_rollup_denominator{kpi="paid_by_bank", level="province", province="Bac Ninh"}`: 2000,
		`kpi_report_period_timestamp_seconds{kpi="paid_by_bank", province="Bac Ninh"}`:      float64(time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC).Unix()),
		`kpi_status{kpi="paid_by_bank", province="Ho Chi Minh", status="achieved"}`:         1,
		`kpi_status{kpi="paid_by_bank", province="Hue", status="on_track"}`:                 1,
		`kpi_status{kpi="paid_by_bank", province="Ha Noi", status="no_data"}`:               1,
		`kpi_status{kpi="accounts", status="achieved"}`:                                     1,
		`kpi_value{kpi="accounts"}`:                                 55250000,
		`kpi_target{kpi="paid_by_bank"}`:                            1,
		`kpi_target{kpi="paid_by_bank", province="Hue"}`:            0.8,
		`kpi_target_deadline_timestamp_seconds{kpi="paid_by_bank"}`: float64(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Unix()),
		`kpi_plan{kpi="paid_by_bank"}`:                              planNow,
		`kpi_baseline{kpi="paid_by_bank", province="Hue"}`:          0.5,
		`kpi_baseline{kpi="accounts"}`:                              0,
		`kpi_tolerance_ratio{kpi="accounts"}`:                       0.1,
		`kpi_info{block="government", cadence="monthly", direction="higher_is_better", kind="ratio", kpi="paid_by_bank", name="Paid by bank", name_vi="Chi trả qua ngân hàng", owner="mps", source="provinces", unit="ratio"}`: 1,
		`kpi_owner_info{block="government", name="Ministry of Public Security", name_vi="Bộ Công an", owner="mps"}`:                                                                                                            1,
		`kpi_province_info{code="79", name_vi="Thành phố Hồ Chí Minh", province="Ho Chi Minh"}`:                                                                                                                                1,
		`kpi_collector_success{collector="csv", source="provinces"}`:                                                                                                                                                           1,
		`kpi_collector_series{collector="csv", source="provinces"}`:                                                                                                                                                            3,
		`kpi_collector_rejected_rows{collector="csv", source="provinces"}`:                                                                                                                                                     0,
		`kpi_catalogue_reload_success`: 1,
		// The whole: October's reports, Bac Ninh's 500 of 2,000, Hue's 70
		// of 100 and Ho Chi Minh City's 100 of 100, against the whole's
		// target; its units by status, the 31 silent provinces included.
		`kpi_rollup_numerator{kpi="paid_by_bank", level="whole"}`:                                      670,
		`kpi_rollup_denominator{kpi="paid_by_bank", level="whole"}`:                                    2200,
		`kpi_rollup_value{kpi="paid_by_bank", level="whole"}`:                                          670.0 / 2200,
		`kpi_rollup_target{kpi="paid_by_bank", level="whole"}`:                                         1,
		`kpi_rollup_plan{kpi="paid_by_bank", level="whole"}`:                                           planNow,
		`kpi_rollup_attainment{kpi="paid_by_bank", level="whole"}`:                                     670.0 / 2200,
		`kpi_rollup_status{kpi="paid_by_bank", level="whole", reason="behind_plan", status="at_risk"}`: 1,
		`kpi_rollup_units{kpi="paid_by_bank", level="whole", status="at_risk"}`:                        1,
		`kpi_rollup_units{kpi="paid_by_bank", level="whole", status="achieved"}`:                       1,
		`kpi_rollup_units{kpi="paid_by_bank", level="whole", status="on_track"}`:                       1,
		`kpi_rollup_units{kpi="paid_by_bank", level="whole", status="no_data"}`:                        31,
		`kpi_rollup_report_period_timestamp_seconds{kpi="paid_by_bank", level="whole"}`:                float64(time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC).Unix()),
		`kpi_rollup_value{kpi="accounts", level="whole"}`:                                              55250000,
		`kpi_rollup_status{kpi="accounts", level="whole", status="achieved"}`:                          1,
		`kpi_rollup_units{kpi="accounts", level="whole", status="achieved"}`:                           1,
	}
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("missing %s", k)
		} else if abs(g-v) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
	// Bac Ninh's October figure, 0.25, is further behind its plan for the
	// end of October (about 0.45) than the tolerance, a tenth of the way
	// from baseline to target.
	if got[`kpi_status{kpi="paid_by_bank", province="Bac Ninh", reason="behind_plan", status="at_risk"}`] != 1 {
		t.Errorf("Bac Ninh at 0.25 against a plan of about 0.45 should be at risk for being behind plan")
	}
	// The same judgement's figures: the gap to the plan for the end of
	// October, and where the trend from June (0.5) to October (0.25) leads
	// by the deadline, the end of 2026-12-31.
	jan25, nov25 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	planOct := float64(nov25.Sub(jan25)) / float64(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC).Sub(jan25))
	slope := (0.25 - 0.5) / float64(time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC).Sub(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)))
	for key, want := range map[string]float64{
		`kpi_rollup_plan_gap{kpi="paid_by_bank", level="province", province="Bac Ninh"}`: planOct - 0.25,
		`kpi_forecast{kpi="paid_by_bank", province="Bac Ninh"}`:                          0.25 + slope*float64(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Sub(nov25)),
	} {
		if g, ok := got[key]; !ok || abs(g-want) > 1e-9 {
			t.Errorf("%s = %v (served %v), want %v", key, g, ok, want)
		}
	}
	// Hue is ahead of its own plan and has no trend; the national count has
	// met its target: no gap and no forecast to serve for either. No unit
	// has missed: no count of missed units is served.
	for _, key := range []string{`kpi_rollup_plan_gap{kpi="paid_by_bank", level="province", province="Hue"}`, `kpi_forecast{kpi="paid_by_bank", province="Hue"}`,
		`kpi_rollup_units{kpi="paid_by_bank", level="whole", status="missed"}`,
		`kpi_rollup_plan_gap{kpi="accounts", level="whole"}`, `kpi_forecast{kpi="accounts"}`} {
		if _, ok := got[key]; ok {
			t.Errorf("%s is served", key)
		}
	}
	// One status series per observed series, and one per silent province.
	statuses := 0
	for k := range got {
		if strings.HasPrefix(k, "kpi_status{") {
			statuses++
		}
	}
	if statuses != 34+1 {
		t.Errorf("%d status series, want 35 (34 provinces and the national KPI)", statuses)
	}
	for k := range got {
		if strings.Contains(k, `province="Bac Giang"`) {
			t.Errorf("a former province leaked into the labels: %s", k)
		}
	}
	if strings.Contains(text, "kpi_value{kpi=\"paid_by_bank\",province=\"Ha Noi\"}") {
		t.Error("a unit with no data has no value series")
	}
}

func TestRepeatedRowIsRejectedNotSummed(t *testing.T) {
	script.set(accounts(1), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV + "Huế,paid_by_bank,2025-10,,1,100\nTP HCM,paid_by_bank,2025-10,,1,100\n"})
	e.RefreshAll(context.Background())
	got := samples(t, mustScrape(t, e))
	// Hue twice, and Ho Chi Minh City spelled another way: both repeats.
	if got[`kpi_collector_rejected_rows{collector="csv", source="provinces"}`] != 2 {
		t.Errorf("the repeated rows should be rejected: %v", got[`kpi_collector_rejected_rows{collector="csv", source="provinces"}`])
	}
	if got[`kpi_value{kpi="paid_by_bank", province="Hue"}`] != 0.7 {
		t.Errorf("the first Hue row stands: %v", got[`kpi_value{kpi="paid_by_bank", province="Hue"}`])
	}
}

// mustScrape reads both endpoints, as Prometheus stores them.
func mustScrape(t *testing.T, e *Exporter) string {
	text, _ := scrape(t, e, nil)
	return text + scrapeUnits(t, e)
}

func TestFailingSourceKeepsLastGoodData(t *testing.T) {
	script.set(accounts(42), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.RefreshAll(context.Background())
	script.set(accounts(7), errors.New("portal returned 503"), nil)
	e.RefreshAll(context.Background())
	got := samples(t, mustScrape(t, e))
	if got[`kpi_value{kpi="accounts"}`] != 42 {
		t.Errorf("after a failed refresh the last good value stays: %v", got[`kpi_value{kpi="accounts"}`])
	}
	if got[`kpi_collector_success{collector="scripted", source="national"}`] != 0 {
		t.Error("the failure shows in kpi_collector_success")
	}
	if got[`kpi_collector_last_success_timestamp_seconds{collector="scripted", source="national"}`] != float64(now.Unix()) {
		t.Error("last success is the earlier good refresh")
	}
	e.RefreshAll(context.Background())
	failures := `kpi_collector_consecutive_failures{collector="scripted", source="national"}`
	if got := samples(t, mustScrape(t, e))[failures]; got != 2 {
		t.Errorf("two failed refreshes in a row: %s = %v", failures, got)
	}
	script.set(accounts(7), nil, nil)
	e.RefreshAll(context.Background())
	if got := samples(t, mustScrape(t, e))[failures]; got != 0 {
		t.Errorf("a success resets the count: %s = %v", failures, got)
	}
}

func TestHungSourceNeverBlocksAScrape(t *testing.T) {
	script.set(accounts(42), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.RefreshAll(context.Background())
	release := make(chan struct{})
	defer close(release)
	hangAndTimeOut(e, release)
	refreshed := make(chan struct{})
	go func() { e.RefreshAll(context.Background()); close(refreshed) }()
	// While the source hangs, scrapes are answered from the last good data.
	got := samples(t, mustScrape(t, e))
	if got[`kpi_value{kpi="accounts"}`] != 42 {
		t.Errorf("during a hung refresh the last good value is served: %v", got[`kpi_value{kpi="accounts"}`])
	}
	// The refresh gives up at the source's timeout, though the collector
	// never returns.
	<-refreshed
	got = samples(t, mustScrape(t, e))
	if got[`kpi_collector_success{collector="scripted", source="national"}`] != 0 || got[`kpi_value{kpi="accounts"}`] != 42 {
		t.Errorf("a timed-out refresh fails and keeps the last good data: %v", got[`kpi_value{kpi="accounts"}`])
	}
}

func TestMaxSeriesRejectsTheRefresh(t *testing.T) {
	script.set(accounts(1), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.RefreshAll(context.Background())
	e.rt.sources[0].cfg.MaxSeries = 2
	e.RefreshAll(context.Background())
	got := samples(t, mustScrape(t, e))
	if got[`kpi_collector_success{collector="csv", source="provinces"}`] != 0 || got[`kpi_collector_series{collector="csv", source="provinces"}`] != 3 {
		t.Error("a refresh over max_series is refused and the last good series stay")
	}
}

func TestOpenMetricsAndGzip(t *testing.T) {
	script.set(accounts(1), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.RefreshAll(context.Background())
	plain, _ := scrape(t, e, nil)
	zipped, hdr := scrape(t, e, http.Header{"Accept-Encoding": {"gzip"}})
	if hdr.Get("Content-Encoding") != "gzip" || zipped != plain {
		t.Error("the gzipped scrape must decode to the plain one")
	}
	om, hdr := scrape(t, e, http.Header{
		"Accept":          {"application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"},
		"Accept-Encoding": {"gzip"},
	})
	if !strings.HasPrefix(hdr.Get("Content-Type"), "application/openmetrics-text") {
		t.Fatalf("Content-Type = %q", hdr.Get("Content-Type"))
	}
	if !strings.HasSuffix(om, "# EOF\n") || strings.Count(om, "# EOF") != 1 {
		t.Error("OpenMetrics ends with exactly one # EOF")
	}
	if got := samples(t, strings.TrimSuffix(om, "# EOF\n")); got[`kpi_rollup_value{kpi="accounts", level="whole"}`] != 1 {
		t.Error("OpenMetrics body lacks the KPI series")
	}
	// A client asking for protobuf first still gets text, which it accepts.
	_, hdr = scrape(t, e, http.Header{"Accept": {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.9,text/plain;version=0.0.4;q=0.5"}})
	if !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Errorf("protobuf is not served: Content-Type = %q", hdr.Get("Content-Type"))
	}
}

func TestReloadRefusedKeepsTheRunningCatalogue(t *testing.T) {
	script.set(accounts(42), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.RefreshAll(context.Background())
	broken := *e.Catalogue()
	broken.Sources = append([]catalogue.Source(nil), broken.Sources...)
	broken.Sources[0].Collector = "missing"
	if err := e.Reload(context.Background(), &broken, fstest.MapFS{}); err == nil {
		t.Fatal("a catalogue whose collector does not exist must be refused")
	}
	got := samples(t, mustScrape(t, e))
	if got[`kpi_value{kpi="accounts"}`] != 42 || got["kpi_catalogue_reload_success"] != 0 {
		t.Errorf("after a refused reload the old data is served and the failure shown")
	}
	// A good reload swaps the catalogue and reads its sources first.
	script.set(accounts(43), nil, nil)
	script.mu.Lock()
	script.closed = 0
	script.mu.Unlock()
	if err := e.Reload(context.Background(), e.Catalogue(), fstest.MapFS{"provinces.csv": {Data: []byte(provincesCSV)}}); err != nil {
		t.Fatal(err)
	}
	got = samples(t, mustScrape(t, e))
	if got[`kpi_value{kpi="accounts"}`] != 43 || got["kpi_catalogue_reload_success"] != 1 {
		t.Errorf("a good reload serves fresh data")
	}
	script.mu.Lock()
	closed := script.closed
	script.mu.Unlock()
	if closed != 1 {
		t.Errorf("the replaced collector was closed %d times, want once (the refused reload closes nothing)", closed)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestAggregateRollsUpFormerProvinces(t *testing.T) {
	script.set(accounts(1), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	src := e.rt.sources[0]
	b, err := src.collector.Collect(context.Background(), collectors.NewMapper(e.Catalogue(), "provinces"))
	if err != nil {
		t.Fatal(err)
	}
	series, rejected := Aggregate(e.Catalogue(), b.Observations)
	if len(rejected) != 0 {
		t.Fatal(rejected)
	}
	var bacNinh *model.Series
	for i := range series {
		if series[i].Labels[0] == "Bac Ninh" {
			bacNinh = &series[i]
		}
	}
	if bacNinh == nil || len(bacNinh.History) != 2 {
		t.Fatalf("Bac Ninh should have June (rolled up) and October: %+v", bacNinh)
	}
	june := bacNinh.History[0]
	// Bac Giang 90 of 100 and the former Bac Ninh 10 of 100: 100 of 200,
	// which happens to equal the average here; the numerator and
	// denominator show it was summed.
	if june.Num != 100 || june.Den != 200 || june.Value != 0.5 {
		t.Errorf("June roll-up = %v/%v = %v, want 100/200", june.Num, june.Den, june.Value)
	}
	if e, ok := bacNinh.Earlier("monthly"); !ok || !e.Period.Equal(june.Period) {
		t.Errorf("the trend of Bac Ninh starts from June: %+v", e)
	}
}

// TestPromtoolCheckMetrics lints the whole exposition, self-metrics, the
// judgement and an overdue task included, with the real promtool.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := realserver.Binary(t, "promtool", "prometheus")
	script.set(accounts(1), nil, nil)
	script.mu.Lock()
	script.tasks = []collectors.Task{{ID: "T1", Owner: "mps", Block: "government", Status: collectors.TaskInProgress, Due: now.AddDate(0, -1, 0)}}
	script.mu.Unlock()
	defer func() { script.mu.Lock(); script.tasks = nil; script.mu.Unlock() }()
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.RefreshAll(context.Background())
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(mustScrape(t, e))
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestTasks(t *testing.T) {
	script.set(accounts(1), nil, nil)
	due := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	script.mu.Lock()
	script.tasks = []collectors.Task{
		{ID: "T1", Owner: "mps", Block: "government", Status: collectors.TaskInProgress, Due: due("2025-11-01")},
		{ID: "T2", Owner: "mps", Block: "government", Status: collectors.TaskDone, Due: due("2025-06-30"), Done: due("2025-07-15")},
		{ID: "T3", Owner: "mps", Block: "government", Status: collectors.TaskNotStarted, Due: due("2026-03-31")},
	}
	script.mu.Unlock()
	defer func() { script.mu.Lock(); script.tasks = nil; script.mu.Unlock() }()
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.RefreshAll(context.Background())
	got := samples(t, mustScrape(t, e))
	want := map[string]float64{
		`kpi_tasks{block="government", owner="mps", task_status="in_progress"}`: 1,
		`kpi_tasks{block="government", owner="mps", task_status="done"}`:        1,
		`kpi_tasks_overdue{block="government", owner="mps"}`:                    1,
		`kpi_tasks_done_late{block="government", owner="mps"}`:                  1,
		// Due on 1 November, 21 days before now.
		`kpi_task_due_timestamp_seconds{block="government", owner="mps", task="T1"}`: float64(now.AddDate(0, 0, -21).Unix()),
		`kpi_collector_series{collector="scripted", source="national"}`:              1 + 3, // a series and three tasks
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// Package contract writes, for tests, the exposition docs/one-model.md
// describes (the exporter's main endpoint with its kpi_rollup_* roll-ups,
// and its unit endpoint), from the real exporter's series and roll-ups
// written here: the rules and the boards are checked against the contract
// whether or not the exporter serves it yet.
package contract

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/exporter"
	kpimodel "github.com/kpiwatch/kpiwatch/model"
)

// Serve serves, on a loopback test server, the contract's exposition for
// cat and the data in fsys: the exporter's series less any roll-up of its
// own, with the roll-ups of rollups, on /metrics, and the observed series
// on c.UnitsPath. It returns the server's host:port.
func Serve(t testing.TB, cat *catalogue.Catalogue, fsys fs.FS) string {
	t.Helper()
	main, unitSeries := exporterFamilies(t, cat, fsys)
	main += rollups(cat, time.Now())
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, main) })
	mux.HandleFunc(c.UnitsPath, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, unitSeries) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// ServeExporter serves the real exporter with cat and the data in fsys,
// refreshed once, on a loopback test server (both endpoints), and returns
// the server's address.
func ServeExporter(t testing.TB, cat *catalogue.Catalogue, fsys fs.FS, opts exporter.Options) *httptest.Server {
	t.Helper()
	e, err := exporter.New(cat, fsys, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.RefreshAll(t.Context())
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.Collector())
	srv := httptest.NewServer(e.Handler(reg))
	t.Cleanup(srv.Close)
	return srv
}

// unitFamilies are what the unit endpoint serves (docs/one-model.md).
var unitFamilies = []string{c.KPIValue, c.KPIReportPeriod, c.KPIStatus, c.KPIForecast, c.KPIDataSuspect}

// exporterFamilies is what the real exporter serves on the sample data,
// split between the main endpoint and the unit endpoint as the contract
// says, its own roll-ups (if it serves any yet) left out.
func exporterFamilies(t testing.TB, cat *catalogue.Catalogue, fsys fs.FS) (main, unitSeries string) {
	t.Helper()
	srv := ServeExporter(t, cat, fsys, exporter.Options{})
	var mainText, unitText bytes.Buffer
	seen := map[string]bool{}
	for _, path := range []string{"/metrics", c.UnitsPath} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			continue // no unit endpoint yet: the unit families are on /metrics
		}
		parser := expfmt.NewTextParser(model.LegacyValidation)
		mfs, err := parser.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for name, mf := range mfs {
			if seen[name] || strings.HasPrefix(name, "kpi_rollup_") {
				continue
			}
			seen[name] = true
			out := &mainText
			if slices.Contains(unitFamilies, name) {
				out = &unitText
			}
			if _, err := expfmt.MetricFamilyToText(out, mf); err != nil {
				t.Fatal(err)
			}
		}
	}
	return mainText.String(), unitText.String()
}

// rollups writes the kpi_rollup_* families for every KPI of cat, at the
// whole and, for a KPI broken down by province, for two provinces, each in
// a status in turn, and for a KPI broken down by ministry, for two
// ministries other than its owner, missed; with their figures: a gap while
// behind plan, a forecast while at risk of missing or on track, a deadline
// passed for a missed target.
func rollups(cat *catalogue.Catalogue, now time.Time) string {
	families := map[string][]string{}
	add := func(name string, v float64, labels ...string) {
		pairs := make([]string, 0, len(labels)/2)
		for i := 0; i+1 < len(labels); i += 2 {
			pairs = append(pairs, fmt.Sprintf("%s=%q", labels[i], labels[i+1]))
		}
		families[name] = append(families[name], fmt.Sprintf("%s{%s} %g", name, strings.Join(pairs, ","), v))
	}
	states := []struct{ status, reason string }{
		{c.StatusOnTrack, ""}, {c.StatusAtRisk, c.ReasonBehindPlan}, {c.StatusMissed, ""},
		{c.StatusAchieved, ""}, {c.StatusAtRisk, c.ReasonForecastMiss}, {c.StatusStale, ""},
	}
	n := 0
	for i := range cat.KPIs {
		k := &cat.KPIs[i]
		levels := [][]string{{c.LabelKPI, k.ID, c.LabelLevel, c.LevelWhole}}
		if l := cat.UnitLevel(catalogue.DimProvince); l != nil && k.HasDimension(catalogue.DimProvince) {
			for _, p := range l.Current()[:2] {
				levels = append(levels, []string{c.LabelKPI, k.ID, c.LabelLevel, catalogue.DimProvince, c.LabelProvince, p.Name})
			}
		}
		var ministries [][]string
		if k.HasDimension(catalogue.DimMinistry) {
			for _, o := range cat.Owners {
				if o.ID != k.Owner && len(ministries) < 2 {
					ministries = append(ministries, []string{c.LabelKPI, k.ID, c.LabelLevel, catalogue.DimMinistry, c.LabelMinistry, o.ID})
				}
			}
		}
		for j, l := range append(levels, ministries...) {
			st := states[n%len(states)]
			n++
			if j >= len(levels) {
				st = states[2] // missed
			}
			target, value := 100.0, 60.0
			if k.Kind == catalogue.KindRatio || k.Kind == catalogue.KindMilestone {
				target, value = 1, 0.6
			}
			deadline := now.Add(90 * 24 * time.Hour)
			if st.status == c.StatusMissed {
				deadline = now.Add(-30 * 24 * time.Hour)
			}
			add(c.RollupValue, value, l...)
			if k.Kind == catalogue.KindRatio {
				add(c.RollupNumerator, value*1000, l...)
				add(c.RollupDenominator, 1000, l...)
			}
			add(c.RollupTarget, target, l...)
			add(c.RollupPlan, 0.7*target, l...)
			add(c.RollupAttainment, value/target, l...)
			add(c.RollupTargetDeadline, float64(deadline.Unix()), l...)
			add(c.RollupReportPeriod, float64(now.Add(-45*24*time.Hour).Unix()), l...)
			status := append(slices.Clone(l), c.LabelStatus, st.status)
			if st.reason != "" {
				status = append(status, c.LabelReason, st.reason)
			}
			add(c.RollupStatus, 1, status...)
			for _, s := range c.Statuses {
				units := 0.0
				if s == st.status {
					units = 3
				}
				add(c.RollupUnits, units, append(slices.Clone(l), c.LabelStatus, s)...)
			}
			if st.reason == c.ReasonBehindPlan {
				add(c.RollupPlanGap, 0.1*target, l...)
			}
			if st.reason == c.ReasonForecastMiss || st.status == c.StatusOnTrack {
				add(c.RollupForecast, 0.8*target, l...)
			}
			if j == 0 && len(levels) > 1 && slices.Contains(kpimodel.NamedStatuses, st.status) {
				// The whole names its provinces where the exporter would
				// name its worst: the contract ranks nothing, the alerts
				// only print what is served.
				var names []string
				for _, p := range levels[1:] {
					names = append(names, kpimodel.UnitName(cat, catalogue.DimProvince, p[len(p)-1]))
				}
				add(c.RollupWorstUnits, 1, append(slices.Clone(l), c.LabelStatus, st.status, c.LabelUnits, strings.Join(names, ", "))...)
			}
		}
	}
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(families)) {
		fmt.Fprintf(&b, "# TYPE %s gauge\n%s\n", name, strings.Join(families[name], "\n"))
	}
	return b.String()
}

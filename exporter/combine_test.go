package exporter

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-kit/log"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/model"
)

// twoSources reads one KPI from last year's file and this year's, in that
// order; both give December 2025 for Hà Nội.
const twoSources = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: test}
owners:
  - {id: mps, name: Ministry of Public Security, block: government}
sources:
  - id: file_2025
    collector: csv
    interval: 1h
    config:
      path: 2025.csv
      mapping: {kpi: accounts, date: period, value: value, dimensions: {province: province}}
  - id: file_2026
    collector: csv
    interval: 1h
    config:
      path: 2026.csv
      mapping: {kpi: accounts, date: period, value: value, dimensions: {province: province}}
kpis:
  - id: accounts
    name: Accounts
    kind: count
    direction: higher_is_better
    owner: mps
    dimensions: [province]
    cadence: {period: monthly, due_day: 15}
    sources: [file_2025, file_2026]
    baseline: {date: 2025-01-01, value: 0}
    targets: [{by: 2026-12-31, value: 1000}]
`

// A KPI read from two sources is served as one series: each period from
// whichever source gives it, and a period both give from the one listed
// later, the other's figure logged once as a warning naming both places.
// Listed the other way round, the other figure wins.
func TestSeveralSourcesForOneKPI(t *testing.T) {
	fsys := fstest.MapFS{
		"2025.csv": {Data: []byte("province,period,value\nHà Nội,2025-11,100\nHà Nội,2025-12,200\nHuế,2025-12,50\n")},
		"2026.csv": {Data: []byte("province,period,value\nHà Nội,2025-12,210\nHà Nội,2026-01,300\n")},
	}
	for _, c := range []struct {
		order   string
		dec     float64
		warning string
	}{
		{"[file_2025, file_2026]", 210, `accounts{province="Ha Noi"} 2025-12-01: served 210 from source file_2026: 2026.csv: row 2 over 200 from source file_2025: 2025.csv: row 3`},
		{"[file_2026, file_2025]", 200, `served 200 from source file_2025: 2025.csv: row 3 over 210 from source file_2026: 2026.csv: row 2`},
	} {
		cat, err := catalogue.Parse("kpis.yaml", []byte(strings.Replace(twoSources, "[file_2025, file_2026]", c.order, 1)), fsys, collectors.Check)
		if err != nil {
			t.Fatal(err)
		}
		var logged bytes.Buffer
		e, err := New(cat, fsys, Options{Now: func() time.Time { return now }, Logger: log.NewLogfmtLogger(log.NewSyncWriter(&logged))})
		if err != nil {
			t.Fatal(err)
		}
		e.RefreshAll(t.Context())
		e.RefreshAll(t.Context()) // a second render logs nothing new
		got := map[string]map[string]float64{}
		for _, s := range e.Snapshot().KPIs[0].Series {
			if s.History == nil {
				continue
			}
			got[s.Labels[0]] = map[string]float64{}
			for _, p := range s.History {
				got[s.Labels[0]][p.Period.Format("2006-01")] = p.Value
			}
		}
		if h := got["Ha Noi"]; len(h) != 3 || h["2025-11"] != 100 || h["2025-12"] != c.dec || h["2026-01"] != 300 || got["Hue"]["2025-12"] != 50 {
			t.Errorf("%s: served %v", c.order, got)
		}
		if n := strings.Count(logged.String(), "a period given by two sources"); n != 1 || !strings.Contains(logged.String(), strings.ReplaceAll(c.warning, `"`, `\"`)) {
			t.Errorf("%s: logged %d overlap warnings, want 1 with %q:\n%s", c.order, n, c.warning, logged.String())
		}
	}
}

// With three sources giving one period, the last listed is served and
// each of the others is named against it, not against the one between.
func TestCombineThreeSources(t *testing.T) {
	cat := &catalogue.Catalogue{KPIs: []catalogue.KPI{{ID: "k", Sources: []string{"a", "b", "c"}}}}
	dec := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	read := func(id string, v float64) Sourced {
		return Sourced{ID: id, Series: []model.Series{{KPI: 0, History: []model.Point{{Period: dec, Value: v}}}}}
	}
	series, overlaps := Combine(cat, []Sourced{read("c", 3), read("a", 1), read("b", 2)})
	var served []model.Series
	for _, s := range series {
		served = append(served, s...)
	}
	if len(served) != 1 || len(served[0].History) != 1 || served[0].History[0].Value != 3 {
		t.Errorf("served %+v", served)
	}
	var got []string
	for _, o := range overlaps {
		got = append(got, o.String())
	}
	want := []string{
		"k 2025-12-01: served 3 from source c over 1 from source a (the later of the KPI's sources wins)",
		"k 2025-12-01: served 3 from source c over 2 from source b (the later of the KPI's sources wins)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("overlaps\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

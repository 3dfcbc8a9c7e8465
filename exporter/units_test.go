package exporter

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/units/unitstest"
)

const communeCatalogue = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: tay-ninh, units: units.yaml}
owners: [{id: sct, name: Department of Industry and Trade, block: government}]
sources:
  - id: communes
    collector: csv
    config:
      path: r.csv
      mapping: {kpi: dossiers, date: period, value: value, dimensions: {commune: commune}}
kpis:
  - id: dossiers
    name: Dossiers filed online
    kind: count
    direction: higher_is_better
    owner: sct
    dimensions: [commune]
    cadence: {period: monthly, due_day: 15}
    source: communes
    baseline: {date: 2025-01-01, value: 0}
    targets: [{by: 2026-12-31, value: 1000, scope: each}]
`

func communeExporter(t *testing.T, rows string) *Exporter {
	t.Helper()
	fsys := unitstest.Files()
	fsys["r.csv"] = &fstest.MapFile{Data: []byte("commune,period,value\n" + rows)}
	cat, err := catalogue.Parse("kpis.yaml", []byte(communeCatalogue), fsys, collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cat, fsys, Options{Now: func() time.Time { return time.Date(2025, 8, 20, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	e.RefreshAll(context.Background())
	return e
}

// Every commune in force is served as kpi_unit_info with its Vietnamese
// name and province; former communes are not, nor are provinces, which this
// deployment does not list.
func TestUnitInfoServed(t *testing.T) {
	e := communeExporter(t, "Phước Vinh,2025-07,5\n")
	text, _ := scrape(t, e, nil)
	got := samples(t, text)
	if v, ok := got[`kpi_unit_info{level="commune", name_vi="Xã Phước Vinh", parent="Tay Ninh", unit="Phuoc Vinh"}`]; !ok || v != 1 {
		t.Errorf("no kpi_unit_info for Phuoc Vinh:\n%s", grep(text, "kpi_unit_info"))
	}
	n := 0
	for k := range got {
		switch {
		case strings.HasPrefix(k, "kpi_unit_info{"):
			n++
			if strings.Contains(k, "Long Thuan") {
				t.Errorf("a former commune is served: %s", k)
			}
		case strings.HasPrefix(k, "kpi_province_info{"):
			t.Errorf("a province is served by a deployment listing communes only: %s", k)
		}
	}
	if n != 5 {
		t.Errorf("%d kpi_unit_info series, want the 5 communes in force", n)
	}
}

// Two former communes' reports for a month before their merger roll up
// into their successor's one figure.
func TestFormerCommunesRollUp(t *testing.T) {
	e := communeExporter(t, "Long Thuận,2025-06,10\nXã Long Giang,2025-06,20\nBến Cầu,2025-07,40\n")
	var history []string
	for _, s := range e.Snapshot().KPIs[0].Series {
		for _, p := range s.History {
			history = append(history, fmt.Sprintf("%s %s %g", s.Labels[0], p.Period.Format("2006-01"), p.Value))
		}
	}
	if strings.Join(history, "; ") != "Ben Cau 2025-06 30; Ben Cau 2025-07 40" {
		t.Errorf("history %q, want Ben Cau's June of 30 and July of 40", history)
	}
}

func grep(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

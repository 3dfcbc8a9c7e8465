package exporter

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
)

// A dimension the catalogue declares is served as a label of its own, and
// the source's max_series bounds the series it makes.
func TestDeclaredDimensionServedAsLabel(t *testing.T) {
	script.set(accounts(1), nil, nil)
	src := strings.Replace(testCatalogue, "kpis:\n", "dimensions:\n  - {name: service_type, name_en: Service type, name_vi: Loại dịch vụ, values: [Khám chữa bệnh, Tiêm chủng]}\nkpis:\n", 1)
	src = strings.Replace(src, "dimensions: {province: province}", "dimensions: {province: province, service_type: service}", 1)
	src = strings.Replace(src, "    owner: mps\n    dimensions: [province]\n", "    owner: mps\n    dimensions: [province, service_type]\n", 1)
	fsys := fstest.MapFS{"provinces.csv": {Data: []byte("province,service,kpi,period,value,num,den\n" +
		"Huế,tiêm chủng,paid_by_bank,2025-10,,70,100\n" +
		"Huế,Khám chữa bệnh,paid_by_bank,2025-10,,30,100\n" +
		"Huế,Xét nghiệm,paid_by_bank,2025-10,,1,100\n")}}
	load := func(src string) *Exporter {
		cat, err := catalogue.Parse("kpis.yaml", []byte(src), fsys, collectors.Check)
		if err != nil {
			t.Fatal(err)
		}
		e, err := New(cat, fsys, Options{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		e.RefreshAll(context.Background())
		return e
	}
	got := samples(t, mustScrape(t, load(src)))
	for name, want := range map[string]float64{
		`kpi_value{kpi="paid_by_bank", province="Hue", service_type="Tiêm chủng"}`:     0.7,
		`kpi_value{kpi="paid_by_bank", province="Hue", service_type="Khám chữa bệnh"}`: 0.3,
		`kpi_collector_rejected_rows{collector="csv", source="provinces"}`:             1,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (served %v), want %v", name, v, ok, want)
		}
	}
	got = samples(t, mustScrape(t, load(strings.Replace(src, "    interval: 1h\n    config:\n      path: provinces.csv", "    interval: 1h\n    max_series: 1\n    config:\n      path: provinces.csv", 1))))
	if got[`kpi_collector_success{collector="csv", source="provinces"}`] != 0 {
		t.Error("two series from a source with max_series 1 accepted")
	}
	if got[`kpi_collector_failures_total{collector="csv", reason="max_series", source="provinces"}`] != 1 {
		t.Error("a read stopped at max_series is not counted as a max_series failure")
	}
	if _, ok := got[`kpi_value{kpi="paid_by_bank", province="Hue", service_type="Tiêm chủng"}`]; ok {
		t.Error("served beyond max_series")
	}
}

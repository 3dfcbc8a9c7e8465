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

// A source reading a folder serves how many files it read and rejected;
// the good files' data is served beside the bad one's rejection.
func TestFolderSourceServesFileCounts(t *testing.T) {
	script.set(accounts(1), nil, nil)
	fsys := fstest.MapFS{
		"reports/hue.csv":    {Data: []byte("province,kpi,period,value,num,den\nHuế,paid_by_bank,2025-10,,70,100\n")},
		"reports/hcm.csv":    {Data: []byte("province,kpi,period,value,num,den\nTP. Hồ Chí Minh,paid_by_bank,2025-10,,100,100\n")},
		"reports/broken.csv": {Data: []byte("tinh;so\nHuế;1\n")},
	}
	cat, err := catalogue.Parse("kpis.yaml", []byte(strings.Replace(testCatalogue, "path: provinces.csv", "path: reports", 1)), fsys, collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cat, fsys, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	e.RefreshAll(context.Background())
	got := samples(t, mustScrape(t, e))
	for name, want := range map[string]float64{
		`kpi_collector_files_read{collector="csv", source="provinces"}`:     2,
		`kpi_collector_files_rejected{collector="csv", source="provinces"}`: 1,
		`kpi_collector_success{collector="csv", source="provinces"}`:        1,
		`kpi_value{kpi="paid_by_bank", province="Hue"}`:                     0.7,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (served %v), want %v", name, v, ok, want)
		}
	}
	if _, ok := got[`kpi_collector_files_read{collector="scripted", source="national"}`]; ok {
		t.Error("a source that reads no files serves file counts")
	}
}

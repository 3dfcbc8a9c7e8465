package exporter

import (
	"context"
	"io/fs"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
)

// touchingFS is a MapFS where reading provinces.csv, once armed, gives the
// file a new modification time: another process saving it during the read.
type touchingFS struct {
	fstest.MapFS
	armed *bool
}

func (t touchingFS) Open(name string) (fs.File, error) {
	f, err := t.MapFS.Open(name)
	if err != nil || name != "provinces.csv" || !*t.armed {
		return f, err
	}
	return touchingFile{f, t}, nil
}

type touchingFile struct {
	fs.File
	fsys touchingFS
}

func (f touchingFile) Read(p []byte) (int, error) {
	f.fsys.MapFS["provinces.csv"].ModTime = now.Add(time.Hour)
	return f.File.Read(p)
}

// TestFileChangedWhileReadKeepsLastGoodData: a refresh during which its
// file changed fails with reason file_changed and serves what the last
// good one read.
func TestFileChangedWhileReadKeepsLastGoodData(t *testing.T) {
	script.set(accounts(1), nil, nil)
	armed := false
	fsys := touchingFS{fstest.MapFS{"provinces.csv": {Data: []byte(provincesCSV), ModTime: now}}, &armed}
	cat, err := catalogue.Parse("kpis.yaml", []byte(testCatalogue), fsys, collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cat, fsys, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	e.RefreshAll(context.Background())
	before := samples(t, mustScrape(t, e))[`kpi_collector_series{collector="csv", source="provinces"}`]
	armed = true
	e.RefreshAll(context.Background())
	got := samples(t, mustScrape(t, e))
	if got[`kpi_collector_success{collector="csv", source="provinces"}`] != 0 ||
		got[`kpi_collector_failures_total{collector="csv", reason="file_changed", source="provinces"}`] != 1 {
		t.Errorf("a refresh whose file changed during the read: success %v, file_changed failures %v",
			got[`kpi_collector_success{collector="csv", source="provinces"}`], got[`kpi_collector_failures_total{collector="csv", reason="file_changed", source="provinces"}`])
	}
	if before == 0 || got[`kpi_collector_series{collector="csv", source="provinces"}`] != before {
		t.Errorf("the last good series are not kept: %v, then %v", before, got[`kpi_collector_series{collector="csv", source="provinces"}`])
	}
}

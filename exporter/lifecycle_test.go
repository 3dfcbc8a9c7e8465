package exporter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
)

// A reload of an unchanged catalogue keeps the data of a source that is
// failing at that moment, and reads no source again: a hundred reloads make
// no upstream call.
func TestReloadCarriesOverAFailingSource(t *testing.T) {
	var calls, failing atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		if failing.Load() == 1 {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		serveRows(w, 34)
	}))
	defer srv.Close()
	text := fmt.Sprintf(hostileCatalogue, fmt.Sprintf(jsonSource, srv.URL))
	load := func(text string) *catalogue.Catalogue {
		cat, err := catalogue.Parse("kpis.yaml", []byte(text), os.DirFS("."), collectors.Check)
		if err != nil {
			t.Fatal(err)
		}
		return cat
	}
	e, err := New(load(text), os.DirFS("."), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	e.RefreshAll(context.Background())
	failing.Store(1)
	e.RefreshAll(context.Background())
	before, page := calls.Load(), e.page.Load()
	for range 100 {
		if err := e.Reload(context.Background(), load(text), os.DirFS(".")); err != nil {
			t.Fatal(err)
		}
	}
	got := samples(t, mustScrape(t, e))
	if n := countPrefix(got, "kpi_value{"); n != 34 {
		t.Errorf("%d series after reloads, want the last good 34", n)
	}
	if got[`kpi_collector_success{collector="json", source="s"}`] != 0 || got[`kpi_collector_failures_total{collector="json", reason="error", source="s"}`] != 1 {
		t.Errorf("the source's failure is carried over too: %v", got)
	}
	if n := calls.Load() - before; n != 0 {
		t.Errorf("100 reloads of an unchanged catalogue made %d upstream calls, want 0", n)
	}
	if e.page.Load() != page {
		t.Error("a reload of an unchanged catalogue rendered the exposition again")
	}
	// A KPI renamed elsewhere in the catalogue leaves the source as it was;
	// a change to the source reads it again.
	if err := e.Reload(context.Background(), load(strings.Replace(text, "name: Accounts", "name: Accounts opened", 1)), os.DirFS(".")); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load() - before; n != 1 {
		t.Errorf("a changed KPI of the source should read it once: %d calls", n)
	}
}

func countPrefix(m map[string]float64, prefix string) int {
	n := 0
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// A collector still running after its timeout is not started a second
// time: the next refresh fails as busy, and the collector runs once.
func TestNoSecondCopyOfARunningCollector(t *testing.T) {
	script.set(accounts(42), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.RefreshAll(context.Background())
	release := make(chan struct{})
	var started atomic.Int32
	script.mu.Lock()
	script.started = &started
	script.mu.Unlock()
	defer func() {
		script.mu.Lock()
		script.started = nil
		script.mu.Unlock()
	}()
	hangAndTimeOut(e, release)
	e.RefreshAll(context.Background()) // times out, the collector still hangs
	e.RefreshAll(context.Background()) // must not start another
	close(release)
	got := samples(t, mustScrape(t, e))
	if n := started.Load(); n != 1 {
		t.Errorf("the hung collector was started %d times, want once", n)
	}
	if got[`kpi_collector_failures_total{collector="scripted", reason="timeout", source="national"}`] != 1 ||
		got[`kpi_collector_failures_total{collector="scripted", reason="busy", source="national"}`] != 1 {
		t.Errorf("one timeout then one busy refresh: %v", got)
	}
	if got[`kpi_value{kpi="accounts"}`] != 42 {
		t.Error("the last good data stays")
	}
}

// Ready only once an exposition holding every source's first refresh is
// served: a scrape right after a restart is not empty.
func TestReadyOnlyOnceRendered(t *testing.T) {
	script.set(accounts(42), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.refreshSources(context.Background(), e.rt.sources)
	if e.Ready() {
		t.Error("ready with every source read but nothing rendered")
	}
	e.render()
	if !e.Ready() || samples(t, mustScrape(t, e))[`kpi_value{kpi="accounts"}`] != 42 {
		t.Error("not ready, or not serving, once rendered")
	}
}

package exporter

import (
	"context"
	"io/fs"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
)

// openCounter counts the opens of one file, that is the reads of a CSV
// source.
type openCounter struct {
	fstest.MapFS
	name  string
	opens atomic.Int32
}

func (c *openCounter) Open(name string) (fs.File, error) {
	if name == c.name {
		c.opens.Add(1)
	}
	return c.MapFS.Open(name)
}

// A reload carries over the sources whose definition did not change and
// reads the others once, before swapping the catalogue in: at a million rows
// a second read straight after would double the cost of the reload and the
// memory it holds.
func TestReloadReadsEachSourceOnce(t *testing.T) {
	script.set(accounts(1), nil, nil)
	fsys := &openCounter{MapFS: fstest.MapFS{"provinces.csv": {Data: []byte(provincesCSV)}}, name: "provinces.csv"}
	cat, err := catalogue.Parse("kpis.yaml", []byte(testCatalogue), fsys, collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cat, fsys, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	// Each refresh loop says when it waits for its interval: after its
	// refresh, or after skipping the first one (the reload read it).
	waiting := make(chan struct{}, 2*len(cat.Sources))
	e.waiting = func() { waiting <- struct{}{} }
	loopsWaiting := func() {
		t.Helper()
		for range cat.Sources {
			select {
			case <-waiting:
			case <-time.After(time.Minute):
				t.Fatal("a refresh loop did not reach its wait within a minute")
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	loopsWaiting()
	if n := fsys.opens.Load(); n != 1 {
		t.Fatalf("the CSV was read %d times at start, want once", n)
	}
	// An unchanged catalogue leaves the running sources and their loops as
	// they are: nothing is started that could read.
	rt := e.rt
	if err := e.Reload(ctx, cat, fsys); err != nil {
		t.Fatal(err)
	}
	if e.rt != rt {
		t.Error("a reload of an unchanged catalogue replaced the running sources")
	}
	if n := fsys.opens.Load(); n != 1 {
		t.Errorf("the CSV was read %d times, want once: an unchanged source is carried over", n)
	}
	// A changed source is read by the reload; the loops started after it
	// do not read it again.
	changed, err := catalogue.Parse("kpis.yaml", []byte(strings.Replace(testCatalogue, "interval: 1h", "interval: 2h", 1)), fsys, collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Reload(ctx, changed, fsys); err != nil {
		t.Fatal(err)
	}
	loopsWaiting()
	if n := fsys.opens.Load(); n != 2 {
		t.Errorf("the CSV was read %d times, want twice: at start and when its source changed", n)
	}
}

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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	for deadline := time.Now().Add(10 * time.Second); !e.Ready(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not ready after 10s")
		}
	}
	if err := e.Reload(ctx, cat, fsys); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // time enough for a needless read
	if n := fsys.opens.Load(); n != 1 {
		t.Errorf("the CSV was read %d times, want once: an unchanged source is carried over", n)
	}
	changed, err := catalogue.Parse("kpis.yaml", []byte(strings.Replace(testCatalogue, "interval: 1h", "interval: 2h", 1)), fsys, collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Reload(ctx, changed, fsys); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if n := fsys.opens.Load(); n != 2 {
		t.Errorf("the CSV was read %d times, want twice: at start and when its source changed", n)
	}
}

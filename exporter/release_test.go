package exporter

import (
	"context"
	"sync/atomic"
	"testing"
)

// countFrees replaces freeOSMemory, for the test, by a counter of its calls.
func countFrees(t *testing.T) *atomic.Int32 {
	var n atomic.Int32
	saved := freeOSMemory
	freeOSMemory = func() { n.Add(1) }
	t.Cleanup(func() { freeOSMemory = saved })
	return &n
}

// A scrape still writing out an exposition that a render has replaced
// keeps it alive; when that scrape ends, the exposition must go back to the
// system (a forced collection), or it stays resident until the next
// collection, which an exporter that only serves bytes may not reach for
// long.
func TestLastScrapeOfAReplacedExpositionFreesIt(t *testing.T) {
	defer func(v int) { releaseAbove = v }(releaseAbove)
	releaseAbove = 0 // the test's exposition is small
	frees := countFrees(t)
	script.set(accounts(1), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.RefreshAll(context.Background())
	// The render after the refresh replaced both endpoints' expositions,
	// which no scrape reads.
	if n := frees.Load(); n != 2 {
		t.Fatalf("the render after the refresh replaced expositions no scrape reads: %d frees, want 2", n)
	}
	page := acquire(&e.page)
	e.render()
	if n := frees.Load(); n != 3 {
		t.Fatalf("want only the unit endpoint's replaced exposition freed, not the one a scrape still reads (%d frees, want 3)", n)
	}
	release(&e.page, page)
	if n := frees.Load(); n != 4 {
		t.Errorf("the replaced exposition was not returned after its last scrape (%d frees, want 4)", n)
	}
}

// Small expositions are left to the ordinary collector: rendering many of
// them (a backfill renders one per day of history) forces no collection.
func TestSmallExpositionsForceNoCollection(t *testing.T) {
	frees := countFrees(t)
	script.set(accounts(1), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.RefreshAll(context.Background())
	for range 20 {
		e.render()
		release(&e.page, acquire(&e.page))
	}
	if n := frees.Load(); n != 0 {
		t.Errorf("%d forced collections for small expositions", n)
	}
}

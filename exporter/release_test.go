package exporter

import (
	"context"
	"runtime/metrics"
	"testing"
	"time"
)

func forcedCollections() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// A scrape still writing out an exposition that a render has replaced
// keeps it alive; when that scrape ends, the exposition must go back to the
// system (a forced collection), or it stays resident until the next
// collection, which an exporter that only serves bytes may not reach for
// long.
func TestLastScrapeOfAReplacedExpositionFreesIt(t *testing.T) {
	defer func(v int) { releaseAbove = v }(releaseAbove)
	releaseAbove = 0 // the test's exposition is small
	script.set(accounts(1), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.RefreshAll(context.Background())
	// Let the collections the refresh started finish.
	for n := forcedCollections(); ; n = forcedCollections() {
		time.Sleep(200 * time.Millisecond)
		if forcedCollections() == n {
			break
		}
	}
	page := acquire(&e.page)
	e.render()
	before := forcedCollections()
	release(&e.page, page)
	for deadline := time.Now().Add(5 * time.Second); forcedCollections() == before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the replaced exposition was not returned after its last scrape")
		}
	}
}

// Small expositions are left to the ordinary collector: rendering many of
// them (a backfill renders one per day of history) forces no collection.
func TestSmallExpositionsForceNoCollection(t *testing.T) {
	script.set(accounts(1), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.RefreshAll(context.Background())
	time.Sleep(200 * time.Millisecond)
	before := forcedCollections()
	for range 20 {
		e.render()
		release(&e.page, acquire(&e.page))
	}
	time.Sleep(200 * time.Millisecond)
	if n := forcedCollections() - before; n != 0 {
		t.Errorf("%d forced collections for small expositions", n)
	}
}

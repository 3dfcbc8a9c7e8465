package exporter

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kpiwatch/kpiwatch/bench/gen"
	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/conventions"
)

// benchSizes are the observed-series counts the benchmarks run at; a quick
// run passes -args -bench.sizes=10000.
var benchSizes = flag.String("bench.sizes", "10000,100000,1000000", "comma-separated series counts for the benchmarks")

// genExporter is an exporter over a generated catalogue of n series,
// refreshed once.
func genExporter(tb testing.TB, n int) *Exporter {
	tb.Helper()
	dir := tb.TempDir()
	path, err := gen.New(n).Write(dir)
	if err != nil {
		tb.Fatal(err)
	}
	cat, err := catalogue.LoadFile(path, collectors.Check)
	if err != nil {
		tb.Fatal(err)
	}
	e, err := New(cat, os.DirFS(dir), Options{Now: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	e.RefreshAll(context.Background())
	if got := e.rt.sources[0].series; len(got) != n || e.rt.sources[0].rejected != 0 {
		tb.Fatalf("generated %d series, exporter has %d (%d rows rejected)", n, len(got), e.rt.sources[0].rejected)
	}
	return e
}

// eachSize runs f as a sub-benchmark per size, with the exporter built
// outside the timed part.
func eachSize(b *testing.B, f func(b *testing.B, e *Exporter, n int)) {
	for _, s := range strings.Split(*benchSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			b.Fatalf("-bench.sizes: %v", err)
		}
		e := genExporter(b, n)
		b.Run("series="+strconv.Itoa(n), func(b *testing.B) { f(b, e, n) })
	}
}

func reportSeries(b *testing.B, e *Exporter, n int) {
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "series/s")
	b.ReportMetric(float64(e.page.Load().plainSize+e.unitsPage.Load().plainSize), "exposition-bytes")
}

// cpuTime is the CPU time the process has used, user and system: on a
// shared machine it says more about the cost of an operation than the
// wall clock does.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureCPU reports the CPU time per operation of the loop it wraps.
func measureCPU(b *testing.B, loop func()) {
	start := cpuTime(b)
	loop()
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkRefresh reads the CSV, maps and aggregates its rows, and renders.
func BenchmarkRefresh(b *testing.B) {
	eachSize(b, func(b *testing.B, e *Exporter, n int) {
		b.ReportAllocs()
		measureCPU(b, func() {
			for b.Loop() {
				e.RefreshAll(context.Background())
			}
		})
		reportSeries(b, e, n)
	})
}

// BenchmarkRender renders the exposition, plain and gzipped, from data in
// memory.
func BenchmarkRender(b *testing.B) {
	eachSize(b, func(b *testing.B, e *Exporter, n int) {
		b.ReportAllocs()
		measureCPU(b, func() {
			for b.Loop() {
				e.render()
			}
		})
		reportSeries(b, e, n)
	})
}

// BenchmarkServe scrapes each endpoint (/metrics, the roll-ups; the units
// endpoint, every observed series) over loopback HTTP, one client at a
// time and ten at once, plain and gzipped; a scrape reads the whole
// response.
func BenchmarkServe(b *testing.B) {
	eachSize(b, func(b *testing.B, e *Exporter, n int) {
		srv := httptest.NewServer(e.Handler(prometheus.NewRegistry()))
		defer srv.Close()
		for _, ep := range []struct{ name, path string }{{"metrics", "/metrics"}, {"units", conventions.UnitsPath}} {
			for _, enc := range []string{"identity", "gzip"} {
				for _, clients := range []int{1, 10} {
					b.Run(ep.name+"/"+enc+"/clients="+strconv.Itoa(clients), func(b *testing.B) {
						b.ReportAllocs()
						var size atomic.Int64
						measureCPU(b, func() {
							for b.Loop() {
								var wg sync.WaitGroup
								for range clients {
									wg.Add(1)
									go func() {
										defer wg.Done()
										size.Store(getAll(b, srv.URL+ep.path, enc))
									}()
								}
								wg.Wait()
							}
						})
						b.ReportMetric(float64(n)*float64(b.N)*float64(clients)/b.Elapsed().Seconds(), "series/s")
						b.ReportMetric(float64(size.Load()), "response-bytes")
					})
				}
			}
		}
	})
}

var benchClient = &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 10}}

// getAll GETs url with the given Accept-Encoding and returns the response's
// size, as sent (not decompressed).
func getAll(b *testing.B, url, enc string) int64 {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept-Encoding", enc)
	resp, err := benchClient.Do(req)
	if err != nil {
		b.Error(err)
		return 0
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Errorf("scrape: status %d, %v", resp.StatusCode, err)
	}
	return n
}

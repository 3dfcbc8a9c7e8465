package exporter

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kpiwatch/kpiwatch/bench/gen"
	"github.com/kpiwatch/kpiwatch/conventions"
)

// At national scale the exposition is rendered and compressed in segments
// (several per metric family): served one after the other, they must still
// make one exposition with each family whole, a gzip stream that decodes to
// it, and a Content-Length that matches what is sent.
func TestSegmentedExpositionIsOneExposition(t *testing.T) {
	g := gen.New(2*shardSeries + 1000) // two full shards per family and a short one
	n := g.Series()
	e := genExporter(t, n)
	if segs := len(e.unitsPage.Load().plain); segs < 5*3 {
		t.Fatalf("%d segments: the test needs several per family", segs)
	}
	get := func(header http.Header) (string, http.Header) {
		text, hdr := get(t, e.Handler(prometheus.NewRegistry()), conventions.UnitsPath, header)
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, conventions.UnitsPath, nil)
		req.Header = header
		e.Handler(prometheus.NewRegistry()).ServeHTTP(rec, req)
		if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(rec.Body.Len()) {
			t.Errorf("Content-Length %s, body %d bytes", cl, rec.Body.Len())
		}
		return text, hdr
	}
	plain, _ := get(http.Header{})
	zipped, hdr := get(http.Header{"Accept-Encoding": {"gzip"}})
	if hdr.Get("Content-Encoding") != "gzip" || zipped != plain {
		t.Fatal("the gzipped scrape must decode to the plain one")
	}
	for _, family := range []string{"kpi_value", "kpi_report_period_timestamp_seconds", "kpi_status"} {
		if c := strings.Count(plain, "\n# TYPE "+family+" gauge\n"); c != 1 {
			t.Errorf("%s has %d TYPE lines, want 1", family, c)
		}
	}
	perSeries := map[string]int{}
	for name := range samples(t, plain) {
		if i := strings.IndexByte(name, '{'); i > 0 && strings.Contains(name, "commune=") {
			perSeries[name[:i]]++
		}
	}
	want := map[string]int{"kpi_value": n, "kpi_report_period_timestamp_seconds": n, "kpi_status": n}
	for name, c := range want {
		if perSeries[name] != c {
			t.Errorf("%s: %d series, want %d", name, perSeries[name], c)
		}
	}
}

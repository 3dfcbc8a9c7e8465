package realserver

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// VictoriaMetrics is a started single-node VictoriaMetrics.
type VictoriaMetrics struct{ *Server }

// StartVictoriaMetrics starts Debian's victoria-metrics on loopback with its
// own storage. Points are searchable a second after they arrive (not 30 s),
// history of any age is kept, and samples of a series at the same
// millisecond are deduplicated, as an operator backfilling must configure
// it (see deploy/README.md).
func StartVictoriaMetrics(t testing.TB, extraArgs ...string) *VictoriaMetrics {
	t.Helper()
	return &VictoriaMetrics{Start(t, VictoriaMetricsSpec(extraArgs...))}
}

// VictoriaMetricsSpec says how to start Debian's victoria-metrics as
// StartVictoriaMetrics does, with extraArgs appended.
func VictoriaMetricsSpec(extraArgs ...string) Spec {
	return Spec{
		Name:    "victoria-metrics",
		Binary:  "victoria-metrics",
		Package: "victoria-metrics",
		Args: func(addr, dir string) []string {
			return append([]string{
				"-httpListenAddr=" + addr,
				"-storageDataPath=" + dir + "/data",
				"-retentionPeriod=100y",
				"-dedup.minScrapeInterval=1ms",
				"-search.latencyOffset=1s",
				"-loggerLevel=WARN",
			}, extraArgs...)
		},
		ReadyPath: "/health",
	}
}

// ImportURL is the text-format import endpoint that pushes and backfills use.
func (vm *VictoriaMetrics) ImportURL() string { return vm.URL() + "/api/v1/import/prometheus" }

// Flush makes everything received so far searchable at once.
func (vm *VictoriaMetrics) Flush(t testing.TB) {
	t.Helper()
	resp, err := http.Get(vm.URL() + "/internal/force_flush")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// Sample is one series' value from an instant query.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Query runs an instant PromQL/MetricsQL query at time at.
func (vm *VictoriaMetrics) Query(t testing.TB, expr string, at time.Time) []Sample {
	t.Helper()
	form := url.Values{"query": {expr}, "time": {strconv.FormatInt(at.Unix(), 10)}}
	var body struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	vm.getJSON(t, "/api/v1/query?"+form.Encode(), &body)
	if body.Status != "success" {
		t.Fatalf("query %s: %s", expr, body.Error)
	}
	out := make([]Sample, len(body.Data.Result))
	for i, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("query %s: value %v: %v", expr, r.Value[1], err)
		}
		out[i] = Sample{Labels: r.Metric, Value: v}
	}
	return out
}

// ExportedSamples counts the raw samples stored for the series matching
// match (e.g. {__name__=~"kpi_.*"}), as /api/v1/export returns them.
func (vm *VictoriaMetrics) ExportedSamples(t testing.TB, match string) int {
	t.Helper()
	resp, err := http.Get(vm.URL() + "/api/v1/export?" + url.Values{"match[]": {match}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("export %s: %s: %s", match, resp.Status, b)
	}
	n := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var line struct{ Timestamps []int64 }
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("export %s: %v", match, err)
		}
		n += len(line.Timestamps)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func (vm *VictoriaMetrics) getJSON(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(vm.URL() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %s: %v", path, resp.Status, err)
	}
}

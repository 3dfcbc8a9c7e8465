package backfill_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/backfill"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
	"github.com/kpiwatch/kpiwatch/push"
)

// TestVictoriaMetricsImportIsIdempotent imports the backfill into a real
// VictoriaMetrics twice: the values are there at their timestamps, and the
// second import changes neither the stored samples nor the answers. (Samples
// at the same millisecond are deduplicated because the server runs with
// -dedup.minScrapeInterval=1ms, as deploy/ tells operators to.)
func TestVictoriaMetricsImportIsIdempotent(t *testing.T) {
	vm := realserver.StartVictoriaMetrics(t)
	r := build(t, backfill.Options{})
	importAll := func() {
		t.Helper()
		if err := backfill.ImportVictoriaMetrics(context.Background(), http.DefaultClient, vm.ImportURL(), push.Auth{}, r); err != nil {
			t.Fatal(err)
		}
		vm.Flush(t)
	}
	importAll()
	all := `{__name__=~"kpi_.*"}`
	var stored int
	realserver.WaitFor(t, time.Minute, "the imported samples", func() bool { stored = vm.ExportedSamples(t, all); return stored == r.Samples })

	check := func() {
		t.Helper()
		// VictoriaMetrics answers nothing at a series' very first sample
		// (later ones it finds at their exact time): ask the day after.
		for at, want := range map[string]float64{"2025-02-02": 0.2, "2025-03-01": 0.3, "2025-04-01": 0.35} {
			got := vm.Query(t, conventions.KPIValue+`{province="Tuyen Quang",job="kpiwatch",instance="exporter:10606"}`, day(at))
			if len(got) != 1 || got[0].Value != want {
				t.Errorf("kpi_value of Tuyen Quang at %s = %v, want %v", at, got, want)
			}
		}
		got := vm.Query(t, `count_over_time(`+conventions.KPIValue+`{province="Tuyen Quang"}[200d])`, end)
		if want := float64(len(seriesOf(r, conventions.KPIValue, `province="Tuyen Quang"`).Times)); len(got) != 1 || got[0].Value != want {
			t.Errorf("Tuyen Quang has %v kpi_value samples, want %v", got, want)
		}
	}
	check()
	importAll()
	// A sample imported after the second import is searchable only once
	// that import is too: then a duplicate would show.
	marker := `{__name__="kpiwatch_test_marker"}`
	resp, err := http.Post(vm.ImportURL(), "text/plain", strings.NewReader(fmt.Sprintf("kpiwatch_test_marker 1 %d\n", end.UnixMilli())))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("importing the marker: %s", resp.Status)
	}
	vm.Flush(t)
	realserver.WaitFor(t, time.Minute, "the marker imported after the second import", func() bool { return vm.ExportedSamples(t, marker) == 1 })
	if again := vm.ExportedSamples(t, all); again != stored {
		t.Errorf("a second import changed the stored samples from %d to %d", stored, again)
	}
	check()
}

// TestPromtoolBlocksServedByPrometheus writes OpenMetrics, turns it into
// TSDB blocks with the real promtool, and queries them from a real
// Prometheus started on that data directory.
func TestPromtoolBlocksServedByPrometheus(t *testing.T) {
	r := build(t, backfill.Options{})
	dir := t.TempDir()
	om := filepath.Join(dir, "history.om")
	f, err := os.Create(om)
	if err != nil {
		t.Fatal(err)
	}
	if err := backfill.WriteOpenMetrics(f, r); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	tsdb := filepath.Join(dir, "data")
	promtool := realserver.Binary(t, "promtool", "prometheus")
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=4374h", om, tsdb).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}

	prom := realserver.Start(t, realserver.Spec{
		Name: "prometheus", Binary: "prometheus", Package: "prometheus",
		Args: func(addr, own string) []string {
			cfg := realserver.WriteFile(t, own, "prometheus.yml", []byte("global: {}\n"))
			return []string{"--config.file=" + cfg, "--web.listen-address=" + addr,
				"--storage.tsdb.path=" + tsdb, "--storage.tsdb.retention.time=100y"}
		},
		ReadyPath: "/-/ready",
	})
	for at, want := range map[string]float64{"2025-02-01": 0.2, "2025-03-15": 0.3, "2025-04-01": 0.35} {
		got := promQuery(t, prom.URL(), conventions.KPIValue+`{province="Tuyen Quang",job="kpiwatch"}`, day(at))
		if len(got) != 1 || got[0] != want {
			t.Errorf("Prometheus: kpi_value of Tuyen Quang at %s = %v, want [%v]", at, got, want)
		}
	}
	got := promQuery(t, prom.URL(), conventions.KPITarget+`{kpi="paid_by_bank"}`, day("2025-04-01"))
	if len(got) != 1 || got[0] != 0.9 {
		t.Errorf("Prometheus: kpi_target on 2025-04-01 = %v, want [0.9]", got)
	}
}

func seriesOf(r *backfill.Result, name string, labels ...string) backfill.Series {
	for _, s := range r.Series {
		if s.Name == name && hasLabels(s.Labels, labels) {
			return s
		}
	}
	return backfill.Series{}
}

// promQuery runs an instant query and returns the values.
func promQuery(t *testing.T, base, expr string, at time.Time) []float64 {
	t.Helper()
	q := url.Values{"query": {expr}, "time": {strconv.FormatInt(at.Unix(), 10)}}
	resp, err := http.Get(base + "/api/v1/query?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string
		Error  string
		Data   struct{ Result []struct{ Value [2]any } }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Status != "success" {
		t.Fatalf("query %s: %s", expr, body.Error)
	}
	var out []float64
	for _, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const backfillCatalogue = "../../backfill/testdata/catalogue.yaml"

func TestBackfillCommandWritesOpenMetricsAndASummary(t *testing.T) {
	out := filepath.Join(t.TempDir(), "history.om")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"backfill", "--config.file=" + backfillCatalogue,
		"--end=2025-03-01", "--output=" + out, "--extra-label=job=kpiwatch", "--log.level=warn"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(data, []byte("# EOF\n")) || !bytes.Contains(data, []byte(`kpi_value{kpi="paid_by_bank",province="Tuyen Quang",job="kpiwatch"} 0.2 1738368000`)) {
		t.Errorf("unexpected OpenMetrics:\n%.600s", data)
	}
	// 2025-02-01 to 2025-03-01, daily.
	if !strings.Contains(stderr.String(), "2025-02-01 to 2025-03-01 every 1d") || !strings.Contains(stderr.String(), "0 source rows rejected") {
		t.Errorf("summary: %s", stderr.String())
	}
	if strings.Contains(stderr.String(), "\r[") {
		t.Error("a progress bar was drawn on a stderr that is not a terminal")
	}
}

func TestBackfillCommandRefusesBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"backfill", "--format=vm"},
		{"backfill", "--start=2025/01/01"},
		{"backfill", "--extra-label=province=Ha Noi"},
		{"backfill", "--format=csv"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr.String())
		}
	}
}

func TestServeRefusesABadPushURL(t *testing.T) {
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code := run(ctx, []string{"serve", "--web.listen-address=127.0.0.1:0", "--push.url=victoriametrics:8428"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "push URL") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}

func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bar := progressBar(&b, func() time.Time { return clock })
	bar(1, 5)
	clock = clock.Add(99 * time.Millisecond)
	bar(2, 5) // within 100 ms of the last draw: skipped
	clock = clock.Add(time.Millisecond)
	bar(3, 5) // 100 ms after it: drawn
	bar(5, 5) // the last is always drawn
	if got := strings.Count(b.String(), "\r"); got != 3 {
		t.Errorf("%d redraws, want 3: %q", got, b.String())
	}
	if !strings.HasSuffix(b.String(), "] 100% 5/5 sample times") {
		t.Errorf("final line %q", b.String())
	}
	if isTerminal(&b) {
		t.Error("a buffer is not a terminal")
	}
}

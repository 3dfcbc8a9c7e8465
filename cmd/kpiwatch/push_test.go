package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
)

// TestServePushesKPIsAndSelfMetrics runs `kpiwatch serve --push.url=...`
// against a real VictoriaMetrics: the KPI series and the collectors'
// self-metrics arrive with the extra labels.
func TestServePushesKPIsAndSelfMetrics(t *testing.T) {
	vm := realserver.StartVictoriaMetrics(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stdout, stderr bytes.Buffer
	// The first push comes as soon as the exporter is ready; at a minute's
	// interval each push has the default 30s before it times out (a push's
	// time limit is at most the interval), which only a hang reaches.
	go func() {
		done <- run(ctx, []string{"serve", "--web.listen-address=" + realserver.FreeAddr(t),
			"--push.url=" + vm.ImportURL(), "--push.interval=1m", "--push.extra-label=instance=pushed"}, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	}()
	deadline := time.Now().Add(time.Minute)
	for _, metric := range []string{conventions.KPIValue, conventions.CollectorSuccess} {
		for {
			vm.Flush(t)
			if len(vm.Query(t, metric+`{instance="pushed"}`, time.Now())) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s pushed within a minute; serve logged:\n%s", metric, stderr.String())
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/internal/realserver"
)

// Without --web.enable-lifecycle, /-/reload is refused as Prometheus
// refuses it, whoever asks.
func TestReloadNeedsTheLifecycleFlag(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, dir, "kpis.yaml", testCatalogue)
	write(t, dir, "data.csv", "province,period,num,den\nHà Nội,2026-10,90,100\n")
	base := "http://" + serve(t, "--config.file="+cfg)
	realserver.WaitFor(t, time.Minute, "ready", func() bool { code, _ := get(t, http.DefaultClient, base+"/-/ready"); return code == 200 })
	resp, err := http.Post(base+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "--web.enable-lifecycle") {
		t.Errorf("POST /-/reload without the flag: %d %s", resp.StatusCode, body)
	}
}

// A URL that fails to parse is refused without its credentials or query
// values, by validate and in the body of a refused reload.
func TestBadURLIsRedactedEverywhere(t *testing.T) {
	dir := t.TempDir()
	good := write(t, dir, "kpis.yaml", testCatalogue)
	write(t, dir, "data.csv", "province,period,num,den\nHà Nội,2026-10,90,100\n")
	bad := strings.Replace(testCatalogue, `    collector: csv
    interval: 1h
    config:
      path: data.csv`, `    collector: json
    interval: 1h
    config:
      url: "https://leader:hunter2@portal.example:port/api?api_key=SECRETKEY&x=1"`, 1)
	var errOut bytes.Buffer
	if code := run(context.Background(), []string{"validate", write(t, dir, "bad.yaml", bad)}, io.Discard, &errOut); code != 1 {
		t.Fatalf("validate exit %d, want 1", code)
	}
	base := "http://" + serve(t, "--config.file="+good, "--web.enable-lifecycle")
	realserver.WaitFor(t, time.Minute, "ready", func() bool { code, _ := get(t, http.DefaultClient, base+"/-/ready"); return code == 200 })
	write(t, dir, "kpis.yaml", bad)
	resp, err := http.Post(base+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for what, text := range map[string]string{"validate": errOut.String(), "reload": string(body)} {
		if !strings.Contains(text, "config.url") || !strings.Contains(text, "portal.example") {
			t.Errorf("%s does not name the URL: %s", what, text)
		}
		for _, secret := range []string{"hunter2", "SECRETKEY", "leader"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows %q: %s", what, secret, text)
			}
		}
	}
}

// Reload requests that come while one runs share the next one: a burst of
// a hundred runs at most two reloads, one at a time, and each caller gets
// the result of a reload that started after it asked.
func TestReloadsCoalesce(t *testing.T) {
	var runs, running, overlap atomic.Int32
	started, gate := make(chan struct{}), make(chan struct{})
	c := newCoalescer(func() error {
		if running.Add(1) > 1 {
			overlap.Add(1)
		}
		defer running.Add(-1)
		if runs.Add(1) == 1 {
			close(started)
			<-gate
		}
		return nil
	})
	first := c.request()
	<-started
	// The burst comes while the first reload runs.
	burst := make([]*reloadCall, 100)
	for i := range burst {
		burst[i] = c.request()
	}
	close(gate)
	<-first.done
	for _, call := range burst {
		<-call.done
		if call != burst[0] || call == first {
			t.Fatal("a request of the burst did not share the one reload after the running one")
		}
	}
	if n := runs.Load(); n != 2 {
		t.Errorf("%d reloads for a burst of 100 behind a running one, want 2", n)
	}
	if overlap.Load() > 0 {
		t.Error("two reloads ran at once")
	}
}

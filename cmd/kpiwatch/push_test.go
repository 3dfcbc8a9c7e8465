package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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

// TestServePushesWithHTTPConfigFile pushes with --push.http-config.file:
// basic auth whose password file is relative to the http_config file,
// through a proxy that requires it, to a real VictoriaMetrics. The
// password shows in no log line.
func TestServePushesWithHTTPConfigFile(t *testing.T) {
	vm := realserver.StartVictoriaMetrics(t)
	target, err := url.Parse(vm.URL())
	if err != nil {
		t.Fatal(err)
	}
	relay := httputil.NewSingleHostReverseProxy(target)
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pw, ok := r.BasicAuth(); !ok || user != "province" || pw != "s3cret-pw" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		relay.ServeHTTP(w, r)
	}))
	defer gate.Close()
	importURL := gate.URL + "/api/v1/import/prometheus"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("s3cret-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	httpConfig := filepath.Join(dir, "push-http.yml")
	if err := os.WriteFile(httpConfig, []byte("basic_auth: {username: province, password_file: pw}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stdout, stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "--web.listen-address=" + realserver.FreeAddr(t), "--push.url=" + importURL,
			"--push.http-config.file=" + httpConfig, "--push.extra-label=instance=tls-province"}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		vm.Flush(t)
		if len(vm.Query(t, conventions.KPIValue+`{instance="tls-province"}`, time.Now())) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("nothing pushed within a minute; serve logged:\n%s", stderr.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d: %s", code, stderr.String())
	}
	if strings.Contains(stderr.String()+stdout.String(), "s3cret-pw") {
		t.Errorf("the password is logged:\n%s", stderr.String())
	}

	// A file that is not an http_config stops serve before it starts.
	if err := os.WriteFile(httpConfig, []byte("basic_auth: {usernme: province}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"serve", "--web.listen-address=" + realserver.FreeAddr(t), "--push.url=" + vm.ImportURL(),
		"--push.http-config.file=" + httpConfig}, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), "push.http-config.file") {
		t.Errorf("a bad http_config file: exit %d, %s", code, stderr.String())
	}
}

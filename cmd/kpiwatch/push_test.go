package main

import (
	"bytes"
	"context"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
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
// basic auth whose password file is relative to the http_config file and a
// tenant header from a file, through a proxy that requires both, to a real
// VictoriaMetrics. What arrives carries the extra label and the values
// serve serves; the password shows in no log line.
func TestServePushesWithHTTPConfigFile(t *testing.T) {
	vm := realserver.StartVictoriaMetrics(t)
	target, err := url.Parse(vm.URL())
	if err != nil {
		t.Fatal(err)
	}
	relay := httputil.NewSingleHostReverseProxy(target)
	var pushes atomic.Int64
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pw, ok := r.BasicAuth(); !ok || user != "province" || pw != "s3cret-pw" || r.Header.Get("X-Scope-OrgID") != "da-nang" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		pushes.Add(1)
		relay.ServeHTTP(w, r)
	}))
	defer gate.Close()
	importURL := gate.URL + "/api/v1/import/prometheus"
	dir := t.TempDir()
	for name, content := range map[string]string{
		"pw":            "s3cret-pw\n",
		"tenant":        "da-nang\n",
		"push-http.yml": "basic_auth: {username: province, password_file: pw}\nhttp_headers: {X-Scope-OrgID: {files: [tenant]}}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	httpConfig := filepath.Join(dir, "push-http.yml")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stdout, stderr bytes.Buffer
	web := realserver.FreeAddr(t)
	go func() {
		done <- run(ctx, []string{"serve", "--web.listen-address=" + web, "--push.url=" + importURL,
			"--push.http-config.file=" + httpConfig, "--push.extra-label=instance=tls-province"}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(time.Minute)
	var pushed []realserver.Sample
	for {
		vm.Flush(t)
		if pushed = vm.Query(t, conventions.KPIValue+`{instance="tls-province"}`, time.Now()); len(pushed) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("nothing pushed within a minute; serve logged:\n%s", stderr.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
	served := scrapeMetrics(t, "http://"+web)
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d: %s", code, stderr.String())
	}
	if pushes.Load() == 0 {
		t.Error("no push passed the gate")
	}
	if n := len(served.find(conventions.KPIValue, nil)); len(pushed) != n {
		t.Errorf("%d %s series pushed, %d served", len(pushed), conventions.KPIValue, n)
	}
	for _, s := range pushed {
		labels := maps.Clone(s.Labels)
		delete(labels, "instance")
		delete(labels, "__name__")
		m := served.find(conventions.KPIValue, labels)
		// VictoriaMetrics answers queries with 12 significant digits.
		if len(m) != 1 || math.Abs(m[0].GetGauge().GetValue()-s.Value) > 1e-11*max(1, math.Abs(s.Value)) {
			t.Errorf("pushed %v = %v; served %v", s.Labels, s.Value, m)
		}
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

// TestServeRefusesPushTLSConfig: a tls_config in --push.http-config.file
// stops serve at start-up, naming the file, the field and what works
// instead (VictoriaMetrics/metrics pushes with Go's default transport).
func TestServeRefusesPushTLSConfig(t *testing.T) {
	httpConfig := filepath.Join(t.TempDir(), "push-http.yml")
	if err := os.WriteFile(httpConfig, []byte("tls_config: {ca_file: ca.pem}\nbasic_auth: {username: province, password: s3cret-pw}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--web.listen-address=" + realserver.FreeAddr(t),
		"--push.url=http://127.0.0.1:1/api/v1/import/prometheus", "--push.http-config.file=" + httpConfig}, &stdout, &stderr)
	out := stderr.String()
	for _, want := range []string{"--push.http-config.file=" + httpConfig, "tls_config.ca_file: not supported", "Go's default transport", "SSL_CERT_FILE"} {
		if code == 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d, want an error with %q:\n%s", code, want, out)
		}
	}
	if strings.Contains(out, "s3cret-pw") {
		t.Errorf("the password is shown:\n%s", out)
	}
}

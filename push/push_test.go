package push_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/pem"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"

	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/exporter"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
	"github.com/kpiwatch/kpiwatch/project06"
	"github.com/kpiwatch/kpiwatch/push"
)

// servedExporter is the real exporter over the embedded catalogue and sample
// data, read once: what `kpiwatch serve` would push.
func servedExporter(t *testing.T) *exporter.Exporter {
	t.Helper()
	cat, err := project06.Load()
	if err != nil {
		t.Fatal(err)
	}
	exp, err := exporter.New(cat, project06.FS, exporter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	exp.RefreshAll(context.Background())
	return exp
}

func writeKPIs(exp *exporter.Exporter) func(io.Writer) {
	return func(w io.Writer) { _ = exp.WriteKPIMetrics(w) }
}

// servedCount counts the samples of metric in the exporter's exposition.
func servedCount(t *testing.T, exp *exporter.Exporter, metric string) int {
	t.Helper()
	var b bytes.Buffer
	if err := exp.WriteKPIMetrics(&b); err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(&b)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), metric+"{") {
			n++
		}
	}
	if n == 0 {
		t.Fatalf("the exporter serves no %s", metric)
	}
	return n
}

func TestPushArrivesWithExtraLabels(t *testing.T) {
	vm := realserver.StartVictoriaMetrics(t)
	exp := servedExporter(t)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := push.New(push.Config{
		URL:         vm.ImportURL(),
		Interval:    time.Minute,
		ExtraLabels: []string{"instance=da-nang-1", "job=kpiwatch"},
		Headers:     []string{"X-Scope-OrgID: provinces"},
		Auth:        push.Auth{BasicAuthUsername: "province", BasicAuthPasswordFile: pwFile},
	}, writeKPIs(exp), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	vm.Flush(t)

	want := servedCount(t, exp, conventions.KPIValue)
	var got []realserver.Sample
	realserver.WaitFor(t, time.Minute, "pushed series", func() bool {
		got = vm.Query(t, conventions.KPIValue+`{instance="da-nang-1",job="kpiwatch"}`, time.Now())
		return len(got) == want
	})
	for _, s := range got {
		if s.Labels[conventions.LabelKPI] == "" {
			t.Errorf("pushed series without its kpi label: %v", s.Labels)
		}
	}
	if n := len(vm.Query(t, conventions.KPIValue, time.Now())); n != want {
		t.Errorf("VictoriaMetrics holds %d kpi_value series, want only the %d pushed (all with the extra labels)", n, want)
	}
	if v := selfMetric(t, p, conventions.PushSuccess); v != 1 {
		t.Errorf("%s = %v after a delivered push", conventions.PushSuccess, v)
	}
}

// TestPushRetriedUntilVictoriaMetricsIsUp pushes to an address where nothing
// listens yet (VictoriaMetrics down: connection refused), then makes
// VictoriaMetrics reachable there: the retries deliver well before the next
// interval, and the failures show in the self-metrics. VictoriaMetrics is
// started first, so that its start-up, however slow, does not grow the
// backoff the delivery waits for.
func TestPushRetriedUntilVictoriaMetricsIsUp(t *testing.T) {
	exp := servedExporter(t)
	vm := realserver.StartVictoriaMetrics(t)
	addr := realserver.FreeAddr(t)
	p, err := push.New(push.Config{
		URL:         "http://" + addr + "/api/v1/import/prometheus",
		Interval:    time.Hour, // only a retry can deliver within the test
		ExtraLabels: []string{"instance=retry"},
		MinBackoff:  100 * time.Millisecond,
	}, writeKPIs(exp), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	realserver.WaitFor(t, time.Minute, "failed pushes", func() bool { return selfMetric(t, p, conventions.PushFailures) >= 3 })
	if v := selfMetric(t, p, conventions.PushSuccess); v != 0 {
		t.Errorf("%s = %v while nothing listens", conventions.PushSuccess, v)
	}

	up := time.Now().Truncate(time.Second)
	forward(t, addr, vm.Addr)
	want := servedCount(t, exp, conventions.KPIValue)
	realserver.WaitFor(t, 2*time.Minute, "the retried push to arrive", func() bool {
		vm.Flush(t)
		return len(vm.Query(t, conventions.KPIValue+`{instance="retry"}`, time.Now())) == want
	})
	realserver.WaitFor(t, time.Minute, "push success in self-metrics", func() bool {
		return selfMetric(t, p, conventions.PushSuccess) == 1
	})
	if v := selfMetric(t, p, conventions.PushLastSuccess); math.IsNaN(v) || time.Unix(int64(v), 0).Before(up) {
		t.Errorf("%s = %v after a push delivered since %s", conventions.PushLastSuccess, v, up)
	}
}

func TestPushFailureIsReportedNotFatal(t *testing.T) {
	vm := realserver.StartVictoriaMetrics(t, "-httpAuth.username=province", "-httpAuth.password=right")
	exp := servedExporter(t)
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte("wrong"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := push.New(push.Config{
		URL: vm.ImportURL(), Interval: time.Minute,
		Auth: push.Auth{BasicAuthUsername: "province", BasicAuthPasswordFile: pwFile},
	}, writeKPIs(exp), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Push(context.Background())
	if err == nil {
		t.Fatal("a push with the wrong password succeeded")
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the error shows the password: %v", err)
	}
	if v := selfMetric(t, p, conventions.PushFailures); v != 1 {
		t.Errorf("%s = %v after one refused push", conventions.PushFailures, v)
	}
	// A rotated password file is read on the next push.
	if err := os.WriteFile(pwFile, []byte("right"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.Push(context.Background()); err != nil {
		t.Fatalf("push after fixing the password file: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	write := func(io.Writer) {}
	for name, cfg := range map[string]push.Config{
		"no scheme":          {URL: "victoriametrics:8428/api/v1/import/prometheus", Interval: time.Minute},
		"no interval":        {URL: "http://vm:8428/api/v1/import/prometheus"},
		"label without =":    {URL: "http://vm:8428/x", Interval: time.Minute, ExtraLabels: []string{"instance"}},
		"bad label name":     {URL: "http://vm:8428/x", Interval: time.Minute, ExtraLabels: []string{"1x=y"}},
		"series' own label":  {URL: "http://vm:8428/x", Interval: time.Minute, ExtraLabels: []string{"province=Ha Noi"}},
		"header without :":   {URL: "http://vm:8428/x", Interval: time.Minute, Headers: []string{"Authorization Bearer abc"}},
		"two kinds of auth":  {URL: "http://vm:8428/x", Interval: time.Minute, Auth: push.Auth{BearerTokenFile: "t", BasicAuthUsername: "u", BasicAuthPasswordFile: "p"}},
		"user, no password":  {URL: "http://vm:8428/x", Interval: time.Minute, Auth: push.Auth{BasicAuthUsername: "u"}},
		"same label twice":   {URL: "http://vm:8428/x", Interval: time.Minute, ExtraLabels: []string{"a=1", "a=2"}},
		"reserved label __x": {URL: "http://vm:8428/x", Interval: time.Minute, ExtraLabels: []string{"__name__=x"}},
	} {
		_, err := push.New(cfg, write, nil)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "Bearer abc") {
			t.Errorf("%s: the error quotes a header value: %v", name, err)
		}
	}
}

func TestFormatLabelsEscapes(t *testing.T) {
	labels, err := push.ParseLabels([]string{`site=Hà Nội "HQ"`, `note=a\b`})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := push.FormatLabels(labels), `site="Hà Nội \"HQ\"",note="a\\b"`; got != want {
		t.Errorf("FormatLabels = %s, want %s", got, want)
	}
}

// selfMetric is the value of one of the pusher's self-metrics, NaN when it
// is not served.
func selfMetric(t *testing.T, p *push.Pusher, name string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		if m := mf.GetMetric()[0]; m.GetGauge() != nil {
			return m.GetGauge().GetValue()
		}
		return mf.GetMetric()[0].GetCounter().GetValue()
	}
	return math.NaN()
}

// forward accepts connections on addr and relays them to target, from now
// on, for the rest of the test.
func forward(t *testing.T, addr, target string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c) }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
}

// A push through http_config: TLS verified against a CA file, a bearer
// token read from its file at each push (a rotated one is picked up), the
// extra labels on every sample, gzipped. Errors name neither the token nor
// the URL's password.
func TestPushWithHTTPConfig(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("tok-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-2" || r.Header.Get("X-Scope-OrgID") != "provinces" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(zr)
		mu.Lock()
		got = string(body)
		mu.Unlock()
	}))
	defer srv.Close()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	httpCfg := config.DefaultHTTPClientConfig
	httpCfg.TLSConfig = config.TLSConfig{CAFile: caFile}
	httpCfg.Authorization = &config.Authorization{Type: "Bearer", CredentialsFile: tokenFile}
	p, err := push.New(push.Config{URL: srv.URL + "/api/v1/import/prometheus", Interval: time.Minute, ExtraLabels: []string{"instance=p"}, Headers: []string{"X-Scope-OrgID: provinces"}, HTTP: httpCfg},
		func(w io.Writer) { io.WriteString(w, "# HELP x X.\nx 1\ny{a=\"b\"} 2\nz{} 3\n") }, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Push(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "tok-1") {
		t.Errorf("a refused push: %v", err)
	}
	if err := os.WriteFile(tokenFile, []byte("tok-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.Push(context.Background()); err != nil {
		t.Fatalf("push with the rotated token: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "# HELP x X.\nx{instance=\"p\"} 1\ny{instance=\"p\",a=\"b\"} 2\nz{instance=\"p\"} 3\n"; got != want {
		t.Errorf("pushed\n%s\nwant\n%s", got, want)
	}

	// Without the CA the server's certificate is not trusted; the error
	// hides the URL's password.
	p, err = push.New(push.Config{URL: strings.Replace(srv.URL, "https://", "https://user:urlpass@", 1), Interval: time.Minute, HTTP: config.DefaultHTTPClientConfig}, func(io.Writer) {}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Push(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") || strings.Contains(err.Error(), "urlpass") {
		t.Errorf("a push to an untrusted server: %v", err)
	}
	// Credentials in both shapes are refused.
	httpCfg.Authorization = &config.Authorization{Type: "Bearer", CredentialsFile: tokenFile}
	if _, err := push.New(push.Config{URL: srv.URL, Interval: time.Minute, HTTP: httpCfg, Auth: push.Auth{BearerTokenFile: tokenFile}}, func(io.Writer) {}, nil); err == nil {
		t.Error("auth in the flags and in http_config: accepted")
	}
}

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
	"os/exec"
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

// A push through http_config: a bearer token read from its file at each
// push (a rotated one is picked up), http_headers from a value and a file,
// the extra labels on every sample and the values, gzipped, as they reach
// the server. Errors name neither the token nor the URL's password.
func TestPushWithHTTPConfig(t *testing.T) {
	dir := t.TempDir()
	tokenFile, tenantFile := filepath.Join(dir, "token"), filepath.Join(dir, "tenant")
	writeFile(t, tokenFile, "tok-1\n")
	writeFile(t, tenantFile, "provinces\n")
	var mu sync.Mutex
	var got string
	var gotHeader http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-2" {
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
		got, gotHeader = string(body), r.Header.Clone()
		mu.Unlock()
	}))
	defer srv.Close()
	httpCfg, err := config.LoadHTTPConfig(`
authorization: {credentials_file: ` + tokenFile + `}
http_headers:
  X-Scope-OrgID: {files: [` + tenantFile + `]}
  X-Province: {values: [da-nang]}
`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := push.New(push.Config{URL: srv.URL + "/api/v1/import/prometheus", Interval: time.Minute, ExtraLabels: []string{"instance=p"}, Headers: []string{"X-Flag: yes"}, HTTP: httpCfg},
		func(w io.Writer) { io.WriteString(w, "# HELP x X.\nx 1\ny{a=\"b\"} 2.5\n") }, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Push(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "tok-1") {
		t.Errorf("a refused push: %v", err)
	}
	writeFile(t, tokenFile, "tok-2\n")
	if err := p.Push(context.Background()); err != nil {
		t.Fatalf("push with the rotated token: %v", err)
	}
	mu.Lock()
	if want := "# HELP x X.\nx{instance=\"p\"} 1\ny{instance=\"p\",a=\"b\"} 2.5\n"; got != want {
		t.Errorf("pushed\n%s\nwant\n%s", got, want)
	}
	for name, want := range map[string]string{"X-Scope-OrgID": "provinces", "X-Province": "da-nang", "X-Flag": "yes", "Content-Encoding": "gzip"} {
		if v := gotHeader.Get(name); v != want {
			t.Errorf("header %s = %q, want %q", name, v, want)
		}
	}
	mu.Unlock()

	// A credential file gone fails the push, naming the file only.
	if err := os.Remove(tokenFile); err != nil {
		t.Fatal(err)
	}
	if err := p.Push(context.Background()); err == nil || !strings.Contains(err.Error(), tokenFile) {
		t.Errorf("a push without its token file: %v", err)
	}

	// Go's default transport does not trust an unknown CA; the error hides
	// the URL's password.
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer tlsSrv.Close()
	p, err = push.New(push.Config{URL: strings.Replace(tlsSrv.URL, "https://", "https://user:urlpass@", 1), Interval: time.Minute}, func(io.Writer) {}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Push(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") || strings.Contains(err.Error(), "urlpass") {
		t.Errorf("a push to an untrusted server: %v", err)
	}
	// Credentials in both shapes are refused.
	if _, err := push.New(push.Config{URL: srv.URL, Interval: time.Minute, HTTP: httpCfg, Auth: push.Auth{BearerTokenFile: tokenFile}}, func(io.Writer) {}, nil); err == nil {
		t.Error("auth in the flags and in http_config: accepted")
	}
}

// What Go's default transport cannot take is refused at start-up, naming
// the field as the file spells it and what to do instead; inline secrets
// show in no error.
func TestPushHTTPConfigRefusesTransportSettings(t *testing.T) {
	for yml, want := range map[string]string{
		"tls_config: {ca_file: ca.pem}":                  "tls_config.ca_file: not supported: VictoriaMetrics/metrics pushes with Go's default transport",
		"tls_config: {insecure_skip_verify: true}":       "tls_config.insecure_skip_verify",
		"proxy_url: http://proxy:3128":                   "proxy_url: not supported",
		"follow_redirects: false":                        "follow_redirects: false: not supported",
		"enable_http2: false":                            "GODEBUG=http2client=0",
		"basic_auth: {username: u, password_ref: vault}": "basic_auth.password_ref: not supported",
		"oauth2: {client_id: c, client_secret: s3cr, token_url: http://t/, tls_config: {cert_file: c.pem, key_file: k.pem}}": "oauth2.tls_config.cert_file",
		"oauth2: {client_id: c, client_secret: s3cr, token_url: http://t/, proxy_url: http://proxy:3128}":                    "oauth2.proxy_url",
	} {
		h, err := config.LoadHTTPConfig(yml)
		if err != nil {
			t.Fatalf("%s: %v", yml, err)
		}
		_, err = push.New(push.Config{URL: "http://vm:8428/x", Interval: time.Minute, HTTP: h, HTTPFrom: "push.yml"}, func(io.Writer) {}, nil)
		if err == nil || !strings.Contains(err.Error(), "push.yml: ") || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "s3cr") {
			t.Errorf("%s: %v, want an error with %q", yml, err, want)
		}
	}
	// An empty tls_config and the environment's proxy are what Go does anyway.
	h, err := config.LoadHTTPConfig("tls_config: {}\nproxy_from_environment: true\nfollow_redirects: true\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := push.New(push.Config{URL: "http://vm:8428/x", Interval: time.Minute, HTTP: h}, func(io.Writer) {}, nil); err != nil {
		t.Error(err)
	}
}

// OAuth 2 client credentials: the token is fetched once and sent as the
// push's Authorization until the client secret's file changes.
func TestPushWithHTTPConfigOAuth2(t *testing.T) {
	var mu sync.Mutex
	tokens, pushedAuth := 0, ""
	issuer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, _ := r.BasicAuth()
		if id != "kpiwatch" || r.FormValue("grant_type") != "client_credentials" || r.FormValue("scope") != "push" {
			http.Error(w, "bad client", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		tokens++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at-`+secret+`","token_type":"bearer","expires_in":3600}`)
	}))
	defer issuer.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		pushedAuth = r.Header.Get("Authorization")
		mu.Unlock()
	}))
	defer srv.Close()
	secretFile := filepath.Join(t.TempDir(), "client-secret")
	writeFile(t, secretFile, "one")
	h, err := config.LoadHTTPConfig("oauth2: {client_id: kpiwatch, client_secret_file: " + secretFile + ", token_url: " + issuer.URL + ", scopes: [push]}")
	if err != nil {
		t.Fatal(err)
	}
	p, err := push.New(push.Config{URL: srv.URL, Interval: time.Minute, HTTP: h}, func(w io.Writer) { io.WriteString(w, "x 1\n") }, nil)
	if err != nil {
		t.Fatal(err)
	}
	check := func(wantTokens int, wantAuth string) {
		t.Helper()
		if err := p.Push(context.Background()); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if tokens != wantTokens || pushedAuth != wantAuth {
			t.Errorf("after a push: %d tokens fetched, Authorization %q; want %d, %q", tokens, pushedAuth, wantTokens, wantAuth)
		}
	}
	check(1, "Bearer at-one")
	check(1, "Bearer at-one")
	writeFile(t, secretFile, "two")
	check(2, "Bearer at-two")
}

// TestPushTrustsSSLCertFile pushes over HTTPS to a server whose certificate
// is trusted only through SSL_CERT_FILE, the way to a private CA now that
// tls_config is refused. Go reads the system roots once per process, so the
// push runs in a child process of this test binary.
func TestPushTrustsSSLCertFile(t *testing.T) {
	if u := os.Getenv("KPIWATCH_TEST_PUSH_URL"); u != "" {
		p, err := push.New(push.Config{URL: u, Interval: time.Minute}, func(w io.Writer) { io.WriteString(w, "x 1\n") }, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Push(context.Background()); err != nil {
			t.Fatal(err)
		}
		return
	}
	var mu sync.Mutex
	pushed := 0
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		mu.Lock()
		pushed++
		mu.Unlock()
	}))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writeFile(t, caFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	cmd := exec.Command(os.Args[0], "-test.run=^TestPushTrustsSSLCertFile$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KPIWATCH_TEST_PUSH_URL="+srv.URL+"/api/v1/import/prometheus", "SSL_CERT_FILE="+caFile)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("push trusting SSL_CERT_FILE: %v\n%s", err, out)
	}
	mu.Lock()
	defer mu.Unlock()
	if pushed != 1 {
		t.Errorf("the server got %d pushes, want 1", pushed)
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

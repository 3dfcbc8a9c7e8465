package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"--version"}, &out, io.Discard); code != 0 || !strings.Contains(out.String(), "kpiwatch, version") {
		t.Fatalf("--version: exit %d, %q", code, out.String())
	}
}

func TestValidateEmbedded(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"validate"}, &out, &errOut); code != 0 {
		t.Fatalf("the embedded catalogue must validate: exit %d\n%s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "embedded Project 06 catalogue: ok") {
		t.Errorf("unexpected output %q", out.String())
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	bad := strings.NewReplacer("kind: ratio", "kind: percentage", "owner: mps", "owner: nobody", "by: 2026-12-31", "by: end of 2026").Replace(testCatalogue)
	path := write(t, dir, "kpis.yaml", bad)
	var errOut bytes.Buffer
	if code := run(context.Background(), []string{"validate", path}, io.Discard, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"kpis.yaml:", "kpis[0].kind: \"percentage\" is not one of", "kpis[0].owner: \"nobody\" is not an owner",
		"kpis[0].targets[0].by: \"end of 2026\" is not a date", "3 problem(s)",
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, errOut.String())
		}
	}
}

const testCatalogue = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: test}
owners:
  - {id: mps, name: Ministry of Public Security, block: government}
sources:
  - id: provinces
    collector: csv
    interval: 1h
    config:
      path: data.csv
      mapping:
        kpi: paid_by_bank
        date: period
        numerator: num
        denominator: den
        dimensions: {province: province}
kpis:
  - id: paid_by_bank
    name: Paid by bank
    kind: ratio
    direction: higher_is_better
    owner: mps
    dimensions: [province]
    cadence: {period: monthly, due_day: 15, grace: 5d}
    source: provinces
    baseline: {date: 2025-01-01, value: 0}
    targets:
      - {by: 2026-12-31, value: 1}
`

func write(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// serve runs `kpiwatch serve` in the background until the test ends.
func serve(t *testing.T, args ...string) string {
	t.Helper()
	addr := realserver.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- run(ctx, append([]string{"serve", "--web.listen-address=" + addr, "--log.level=error"}, args...), io.Discard, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d", code)
		}
	})
	return addr
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := c.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServeEndpointsAndReload(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, dir, "kpis.yaml", testCatalogue)
	write(t, dir, "data.csv", "province,period,num,den\nHà Nội,2026-10,90,100\n")
	base := "http://" + serve(t, "--config.file="+cfg, "--web.enable-lifecycle")
	c := http.DefaultClient

	realserver.WaitFor(t, time.Minute, "ready", func() bool { code, _ := get(t, c, base+"/-/ready"); return code == 200 })
	if code, body := get(t, c, base+"/"); code != 200 || !strings.Contains(body, `<a href="/metrics">Metrics</a>`) || !strings.Contains(body, `data-kpi="paid_by_bank"`) {
		t.Errorf("scorecard: %d %q", code, body)
	}
	if code, _ := get(t, c, base+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("an unknown page: %d, want 404", code)
	}
	if code, _ := get(t, c, base+"/-/healthy"); code != 200 {
		t.Errorf("healthy: %d", code)
	}
	metrics := scrapeBoth(t, c, base)
	for _, want := range []string{`kpi_value{kpi="paid_by_bank",province="Ha Noi"} 0.9`, `kpi_build_info{`, `go_goroutines `, "kpi_catalogue_reload_success 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if resp, err := c.Get(base + "/-/reload"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload must be refused: %v", resp.Status)
	}

	// A broken catalogue is refused by /-/reload and the running one kept.
	write(t, dir, "kpis.yaml", strings.Replace(testCatalogue, "kind: ratio", "kind: percentage", 1))
	resp, err := c.Post(base+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `kpis[0].kind: "percentage"`) {
		t.Errorf("reload of a broken catalogue: %d %s", resp.StatusCode, body)
	}
	metrics = scrapeBoth(t, c, base)
	if !strings.Contains(metrics, `kpi_value{kpi="paid_by_bank",province="Ha Noi"} 0.9`) || !strings.Contains(metrics, "kpi_catalogue_reload_success 0") {
		t.Errorf("after a refused reload the old catalogue serves and the failure shows:\n%s", grep(metrics, "kpi_catalogue_reload_success"))
	}

	// SIGHUP reloads a fixed catalogue.
	write(t, dir, "kpis.yaml", strings.Replace(testCatalogue, "name: Paid by bank", "name: Paid through a bank account", 1))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	realserver.WaitFor(t, time.Minute, "the SIGHUP reload", func() bool {
		_, m := get(t, c, base+"/metrics")
		return strings.Contains(m, `name="Paid through a bank account"`) && strings.Contains(m, "kpi_catalogue_reload_success 1")
	})
}

// scrapeBoth reads /metrics and the units endpoint, as Prometheus does.
func scrapeBoth(t *testing.T, c *http.Client, base string) string {
	_, metrics := get(t, c, base+"/metrics")
	_, units := get(t, c, base+conventions.UnitsPath)
	return metrics + units
}

func grep(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestWebConfigTLSAndBasicAuth serves over TLS with basic auth through
// exporter-toolkit's --web.config.file.
func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cert, key := selfSigned(t, dir)
	webCfg := write(t, dir, "web.yml", "tls_server_config:\n  cert_file: "+cert+"\n  key_file: "+key+"\nbasic_auth_users:\n  leader: "+string(hash)+"\n")
	base := "https://" + serve(t, "--web.config.file="+webCfg)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for _, path := range []string{"/metrics", "/", "/report"} {
		if code, _ := get(t, c, base+path); code != http.StatusUnauthorized {
			t.Errorf("%s without credentials: %d, want 401", path, code)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.SetBasicAuth("leader", "s3cret")
	realserver.WaitFor(t, time.Minute, "an authorised scrape", func() bool {
		resp, err := c.Do(req)
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 200 && bytes.Contains(body, []byte("kpi_info{"))
	})
	req, _ = http.NewRequest(http.MethodGet, base+"/", nil)
	req.SetBasicAuth("leader", "s3cret")
	if resp, err := c.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("the scorecard with credentials: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "kpiwatch test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = write(t, dir, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = write(t, dir, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	return certFile, keyFile
}
